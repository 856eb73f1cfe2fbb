//! netcdf-c's own reading of a NetCDF-3 header (`nc_open` of a temporary file, as the workers
//! open files: `nc_open_mem` refuses truncated files that `nc_open` reads), beside ours, as comparable
//! values: the oracle of `tests/cdf_differential.rs` and of the `cdf_differential` fuzz target.
//! Never called by the daemon (it runs netcdf-c in this process, on untrusted bytes).

use super::cdf::{parse_file_header, type_size, Attr, CdfError, Header};
use netcdf_sys as nc;
use std::ffi::{c_char, c_int, c_void};

/// What a reader makes of a header: everything a client of netcdf-c sees of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderView {
    /// 1 classic, 2 64-bit offset, 5 64-bit data.
    pub format: u8,
    /// Dimensions with their current length (the record dimension's is the record count).
    pub dims: Vec<(String, u64)>,
    pub unlimited: Option<usize>,
    pub attrs: Vec<AttrView>,
    pub vars: Vec<VarView>,
}

/// An attribute: its values as big-endian bytes; `None` where netcdf-c lists the attribute but
/// cannot read it: a name that is not UTF-8 (its look-up by name fails), or type 12 (NC_STRING,
/// which netcdf-c's classic reader takes with no bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrView {
    pub name: String,
    pub nc_type: u32,
    pub len: u64,
    pub values: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarView {
    pub name: String,
    pub nc_type: u32,
    pub dimids: Vec<usize>,
    pub attrs: Vec<AttrView>,
}

/// Our parser's view of `bytes` (a whole file), or why it refuses them.
pub fn our_view(bytes: &[u8]) -> Result<HeaderView, String> {
    parse_file_header(bytes).map(|h| view_of(&h)).map_err(|e| e.to_string())
}

fn view_of(h: &Header) -> HeaderView {
    // netcdf-c shows the streaming marker (all bits set) as the record count
    let numrecs = h.numrecs.unwrap_or(if h.version == 5 { u64::MAX } else { u64::from(u32::MAX) });
    let dims =
        h.dims.iter().map(|d| (d.name.clone(), if d.len == 0 { numrecs } else { d.len })).collect();
    let vars = h
        .vars
        .iter()
        .map(|v| VarView {
            name: v.name.clone(),
            nc_type: v.nc_type,
            dimids: v.dimids.clone(),
            attrs: attr_views(&v.attrs),
        })
        .collect();
    HeaderView {
        format: h.version,
        dims,
        unlimited: h.dims.iter().position(|d| d.len == 0),
        attrs: attr_views(&h.attrs),
        vars,
    }
}

/// As netcdf-c shows them: an attribute looked up by name is the first of that name.
fn attr_views(attrs: &[Attr]) -> Vec<AttrView> {
    attrs
        .iter()
        .map(|a| {
            if a.name.contains(char::REPLACEMENT_CHARACTER) || type_size(a.nc_type).is_none() {
                return AttrView { name: a.name.clone(), nc_type: 0, len: 0, values: None };
            }
            let first = attrs.iter().find(|b| b.name == a.name).unwrap_or(a);
            AttrView {
                name: a.name.clone(),
                nc_type: first.nc_type,
                len: first.count,
                values: Some(first.values.clone()),
            }
        })
        .collect()
}

/// netcdf-c's view of `bytes` (written to a temporary file and opened), or its error code.
/// Only for bytes that start with "CDF": anything else would reach libhdf5, which is not what
/// is compared here.
pub fn netcdf_c_view(bytes: &[u8]) -> Result<HeaderView, c_int> {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if !bytes.starts_with(b"CDF") {
        return Err(nc::NC_ENOTNC);
    }
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("cdf_oracle_{}_{n}.nc", std::process::id()));
    std::fs::write(&path, bytes).map_err(|_| nc::NC_EIO)?;
    let c_path =
        std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| nc::NC_EIO);
    let _lock = nc::libnetcdf_lock.lock();
    let mut ncid: c_int = 0;
    // SAFETY: c_path is a NUL-terminated path; ncid a live out-pointer.
    let rc = c_path.map(|p| unsafe { nc::nc_open(p.as_ptr(), nc::NC_NOWRITE, &mut ncid) });
    let _ = std::fs::remove_file(&path);
    let rc = rc?;
    if rc != nc::NC_NOERR {
        return Err(rc);
    }
    // a name can run past the end of the file (read as zeros) up to netcdf-c's read buffer
    let name_len = bytes.len() + (64 << 10) + 1;
    let view = Open { ncid, name_len }.view();
    // SAFETY: ncid was opened above and is closed once.
    unsafe { nc::nc_close(ncid) };
    view
}

struct Open {
    ncid: c_int,
    /// Room for any name netcdf-c can return: the input, plus what netcdf-c reads past its end
    /// (it refuses a single item larger than its read buffer, ~16 KiB, with E2BIG).
    name_len: usize,
}

fn ok(rc: c_int) -> Result<(), c_int> {
    if rc == nc::NC_NOERR {
        Ok(())
    } else {
        Err(rc)
    }
}

impl Open {
    fn view(&self) -> Result<HeaderView, c_int> {
        let (mut ndims, mut nvars, mut natts, mut unlim, mut format) = (0, 0, 0, -1, 0);
        // SAFETY: every out-pointer is a live local.
        unsafe {
            ok(nc::nc_inq(self.ncid, &mut ndims, &mut nvars, &mut natts, &mut unlim))?;
            ok(nc::nc_inq_format(self.ncid, &mut format))?;
        }
        let mut dims = Vec::new();
        for d in 0..ndims {
            let mut name = vec![0u8; self.name_len];
            let mut len = 0usize;
            // SAFETY: name has room for any name (see name_len).
            ok(unsafe { nc::nc_inq_dim(self.ncid, d, name.as_mut_ptr().cast(), &mut len) })?;
            dims.push((c_name(name), len as u64));
        }
        let mut vars = Vec::new();
        for v in 0..nvars {
            let mut name = vec![0u8; self.name_len];
            let (mut xtype, mut nd, mut na) = (0, 0, 0);
            // SAFETY: name has room for any name; the other out-pointers are live locals.
            ok(unsafe {
                nc::nc_inq_var(
                    self.ncid,
                    v,
                    name.as_mut_ptr().cast(),
                    &mut xtype,
                    &mut nd,
                    std::ptr::null_mut(),
                    &mut na,
                )
            })?;
            let mut dimids = vec![0 as c_int; nd.max(0) as usize];
            // SAFETY: dimids holds nd ids.
            ok(unsafe { nc::nc_inq_vardimid(self.ncid, v, dimids.as_mut_ptr()) })?;
            vars.push(VarView {
                name: c_name(name),
                nc_type: xtype as u32,
                dimids: dimids.iter().map(|d| *d as usize).collect(),
                attrs: self.attrs(v, na)?,
            });
        }
        Ok(HeaderView {
            format: match format {
                nc::NC_FORMAT_64BIT_OFFSET => 2,
                nc::NC_FORMAT_64BIT_DATA => 5,
                _ => 1,
            },
            dims,
            unlimited: usize::try_from(unlim).ok(),
            attrs: self.attrs(nc::NC_GLOBAL, natts)?,
            vars,
        })
    }

    fn attrs(&self, varid: c_int, n: c_int) -> Result<Vec<AttrView>, c_int> {
        let mut out = Vec::new();
        for a in 0..n {
            let mut name = vec![0u8; self.name_len];
            let (mut xtype, mut len) = (0, 0usize);
            // SAFETY: name has room for any name; the name read is NUL-terminated.
            ok(unsafe { nc::nc_inq_attname(self.ncid, varid, a, name.as_mut_ptr().cast()) })?;
            // SAFETY: as above; xtype and len are live locals.
            let rc = unsafe {
                nc::nc_inq_att(self.ncid, varid, name.as_ptr().cast(), &mut xtype, &mut len)
            };
            let size = type_size(xtype as u32);
            let (Some(size), nc::NC_NOERR) = (size, rc) else {
                out.push(AttrView { name: c_name(name), nc_type: 0, len: 0, values: None });
                continue;
            };
            let size = size as usize;
            let mut values = vec![0u8; len * size + 8];
            let p = values.as_mut_ptr().cast::<c_void>();
            // SAFETY: values has room for len elements of the attribute's type.
            ok(unsafe { nc::nc_get_att(self.ncid, varid, name.as_ptr().cast::<c_char>(), p) })?;
            values.truncate(len * size);
            if size > 1 && cfg!(target_endian = "little") {
                values.chunks_mut(size).for_each(<[u8]>::reverse);
            }
            let (name, nc_type) = (c_name(name), xtype as u32);
            out.push(AttrView { name, nc_type, len: len as u64, values: Some(values) });
        }
        Ok(out)
    }
}

fn c_name(mut buf: Vec<u8>) -> String {
    buf.truncate(buf.iter().position(|b| *b == 0).unwrap_or(buf.len()));
    String::from_utf8_lossy(&buf).into_owned()
}

/// Do our parser and netcdf-c agree on `bytes`? Both refuse, or both read the same header.
/// Two differences are by design, and pass: a header that runs more than 1 MiB past the end
/// of the file (netcdf-c reads on in zeros, gigabytes if a count says so; we refuse), and one
/// with an item larger than netcdf-c's read buffer (a name of several KiB, or more than
/// NC_MAX_VAR_DIMS dimension ids: netcdf-c fails with E2BIG at a size that depends on where
/// the item lies; we read it).
pub fn agree(bytes: &[u8]) -> Result<(), String> {
    const E2BIG: c_int = 7;
    let ours = parse_file_header(bytes);
    if let Err(CdfError::Truncated(_)) = ours {
        // whatever netcdf-c makes of it (it may read gigabytes of zeros): nothing to compare
        return Ok(());
    }
    match (ours, netcdf_c_view(bytes)) {
        (Err(_), Err(_)) => Ok(()),
        (Ok(ours), Ok(theirs)) if view_of(&ours) == theirs => Ok(()),
        (Ok(ours), Ok(theirs)) => {
            let ours = view_of(&ours);
            Err(format!("different headers:\n ours {ours:?}\n netcdf-c {theirs:?}"))
        }
        (Ok(ours), Err(E2BIG)) if beyond_read_buffer(&ours) => Ok(()),
        (Ok(_), Err(rc)) => Err(format!("netcdf-c refuses (error {rc}), we accept")),
        (Err(e), Ok(_)) => Err(format!("we refuse ({e}), netcdf-c accepts")),
    }
}

/// Items larger than any netcdf-c reads in one piece: a name longer than NC_MAX_NAME or a
/// variable of more than NC_MAX_VAR_DIMS dimensions.
fn beyond_read_buffer(h: &Header) -> bool {
    h.longest_name > nc::NC_MAX_NAME as u64 || h.vars.iter().any(|v| v.dimids.len() > 1024)
}

/// The outcome of [`agree_in_child`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Agree,
    Disagree(String),
    /// netcdf-c died on the bytes (signal number, or minus the exit status when a sanitizer
    /// stopped it): it has such bugs on malformed headers (a double free, allocations of
    /// gigabytes in 4.9.0), which in the mount cost the file in its worker process.
    NetcdfCCrashed(i32),
}

/// The child's exit status for a disagreement (any other non-zero status is netcdf-c dying).
const DISAGREE: c_int = 3;

/// The scratch files `netcdf_c_view` made in child `pid` and left when netcdf-c crashed it.
fn remove_scratch_files(pid: c_int) {
    let prefix = format!("cdf_oracle_{pid}_");
    let dir = std::env::temp_dir();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// [`agree`] with netcdf-c in a forked child, so that its crash is a verdict, not ours.
/// The caller must not hold netcdf-c's lock in another thread while forking.
pub fn agree_in_child(bytes: &[u8]) -> Verdict {
    use std::io::{Read, Write};
    use std::os::fd::FromRawFd;
    let mut fds = [0 as c_int; 2];
    // SAFETY: fds is a live array of two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Verdict::Disagree("pipe failed".into());
    }
    // SAFETY: the child only compares and writes to the pipe, then _exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: the pipe's ends belong to this process; _exit skips the parent's atexit.
        unsafe {
            libc::close(fds[0]);
            let mut out = std::fs::File::from_raw_fd(fds[1]);
            let msg = agree(bytes).err().unwrap_or_default();
            let _ = out.write_all(msg.as_bytes());
            libc::_exit(if msg.is_empty() { 0 } else { DISAGREE });
        }
    }
    // SAFETY: the write end is the child's; the read end is ours, owned by the File.
    let mut input = unsafe {
        libc::close(fds[1]);
        std::fs::File::from_raw_fd(fds[0])
    };
    let mut msg = String::new();
    let _ = input.read_to_string(&mut msg);
    let mut status = 0;
    // SAFETY: pid is our child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    remove_scratch_files(pid);
    match (libc::WIFSIGNALED(status), libc::WEXITSTATUS(status)) {
        (true, _) => Verdict::NetcdfCCrashed(libc::WTERMSIG(status)),
        (false, 0) => Verdict::Agree,
        (false, DISAGREE) => Verdict::Disagree(msg),
        // a sanitizer or allocator gave up inside netcdf-c (AddressSanitizer exits with 1)
        (false, code) => Verdict::NetcdfCCrashed(-code),
    }
}
