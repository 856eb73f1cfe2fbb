//! The floor of a directory walk through FUSE on this machine: an in-memory file system that
//! serves a given tree (names, kinds, sizes) with the FUSE settings cloudify-mount uses
//! (READDIRPLUS, no opendir/open round trips, `--threads` workers with cloned fds, its
//! default 60 s timeouts) and does nothing else. `scripts/bench` walks it beside the real
//! mount (P3): what the real one takes beyond this is the daemon's own work; this much any
//! fuser-based daemon pays here. Files read as zeros (P2v3's floor: `cat` of a store's files
//! with the daemon's readahead, nothing read from a source), or, given a CONTENT directory, as
//! the files of the same paths under it (P1b's FUSE floor: a decoded store's first read through
//! FUSE, its bytes `pread` from a page-cached local copy, nothing decoded).
//!
//! Usage: `fuse_floor TREE MOUNTPOINT THREADS [CONTENT]`, TREE being the output of
//! `find DIR -mindepth 1 -printf '%y %s %P\0'` (find lists a directory before its
//! contents). Prints `ready` once mounted; serves until unmounted (`fusermount3 -u`).

use cloudify_mount::zarr::chunk::Recycled;
use fuser::{
    Config, Errno, FileAttr, FileHandle, FileType, Filesystem, Generation, INodeNo, InitFlags,
    KernelConfig, LockOwner, MountOption, OpenFlags, ReplyAttr, ReplyData, ReplyDirectoryPlus,
    ReplyEntry, ReplyOpen, Request, Session,
};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

/// The daemon's default attribute and entry timeout.
const TTL: Duration = Duration::from_secs(60);

/// What every file reads as (a FUSE request is at most 1 MiB).
static ZEROS: [u8; 1 << 20] = [0; 1 << 20];

struct Node {
    name: OsString,
    /// The path below the tree's root (where its bytes are under CONTENT).
    path: PathBuf,
    dir: bool,
    size: u64,
    parent: u64,
    children: Vec<u64>,
}

/// The tree, by inode number (index 0 unused, 1 the root).
struct Tree {
    nodes: Vec<Node>,
    by_name: HashMap<(u64, OsString), u64>,
    /// Where the files' bytes are read from (else they read as zeros), and the files opened.
    content: Option<PathBuf>,
    open: Mutex<HashMap<u64, Arc<File>>>,
}

impl Tree {
    /// The tree of NUL-terminated records "KIND SIZE PATH" (names may hold any byte but NUL).
    fn parse(listing: &[u8]) -> Result<Tree, String> {
        let root = || Node {
            name: OsString::new(),
            path: PathBuf::new(),
            dir: true,
            size: 0,
            parent: 1,
            children: vec![],
        };
        let mut tree = Tree {
            nodes: vec![root(), root()],
            by_name: HashMap::new(),
            content: None,
            open: Mutex::default(),
        };
        let mut by_path: HashMap<&[u8], u64> = HashMap::from([(&b""[..], 1)]);
        for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let shown = || String::from_utf8_lossy(record).into_owned();
            let mut f = record.splitn(3, |b| *b == b' ');
            let (Some(kind), Some(size), Some(path)) = (f.next(), f.next(), f.next()) else {
                return Err(format!("bad record: {}", shown()));
            };
            let size = std::str::from_utf8(size)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("bad size: {}", shown()))?;
            let (dir_path, name) = match path.iter().rposition(|b| *b == b'/') {
                Some(i) => (&path[..i], &path[i + 1..]),
                None => (&b""[..], path),
            };
            let parent = *by_path
                .get(dir_path)
                .ok_or_else(|| format!("parent not listed before: {}", shown()))?;
            let ino = tree.nodes.len() as u64;
            let name = OsStr::from_bytes(name).to_os_string();
            tree.by_name.insert((parent, name.clone()), ino);
            let full = PathBuf::from(OsStr::from_bytes(path));
            let node = Node { name, path: full, dir: kind == b"d", size, parent, children: vec![] };
            tree.nodes.push(node);
            tree.nodes[parent as usize].children.push(ino);
            by_path.insert(path, ino);
        }
        Ok(tree)
    }

    fn attr(&self, ino: u64) -> FileAttr {
        let n = &self.nodes[ino as usize];
        FileAttr {
            ino: INodeNo(ino),
            size: n.size,
            blocks: n.size.div_ceil(512),
            atime: UNIX_EPOCH,
            mtime: UNIX_EPOCH,
            ctime: UNIX_EPOCH,
            crtime: UNIX_EPOCH,
            kind: if n.dir { FileType::Directory } else { FileType::RegularFile },
            perm: if n.dir { 0o555 } else { 0o444 },
            nlink: if n.dir { 2 } else { 1 },
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: 128 * 1024,
            flags: 0,
        }
    }

    fn get(&self, ino: INodeNo) -> Option<&Node> {
        self.nodes.get(ino.0 as usize).filter(|_| ino.0 != 0)
    }

    /// `n` bytes of file `ino` at `offset` from its copy under CONTENT, in a buffer recycled
    /// per thread as the daemon's are (no allocation per read).
    fn content(&self, dir: &std::path::Path, ino: u64, offset: u64, n: usize) -> Option<Recycled> {
        let file = {
            let mut open = self.open.lock().ok()?;
            match open.get(&ino) {
                Some(f) => f.clone(),
                None => {
                    let f = Arc::new(File::open(dir.join(&self.nodes[ino as usize].path)).ok()?);
                    open.insert(ino, f.clone());
                    f
                }
            }
        };
        let mut buf = Recycled::with_len(n);
        file.read_exact_at(buf.as_mut_slice(), offset).ok()?;
        Some(buf)
    }
}

impl Filesystem for Tree {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        for flag in [
            InitFlags::FUSE_NO_OPENDIR_SUPPORT,
            InitFlags::FUSE_NO_OPEN_SUPPORT,
            InitFlags::FUSE_DO_READDIRPLUS,
        ] {
            let _ = config.add_capabilities(flag);
        }
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.by_name.get(&(parent.0, name.to_os_string())) {
            Some(ino) => reply.entry(&TTL, &self.attr(*ino), Generation(0)),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.get(ino) {
            Some(_) => reply.attr(&TTL, &self.attr(ino.0)),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn opendir(&self, _req: &Request, _ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        reply.error(Errno::ENOSYS);
    }

    fn open(&self, _req: &Request, _ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        reply.error(Errno::ENOSYS);
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let Some(file) = self.get(ino) else { return reply.error(Errno::ENOENT) };
        let n = file.size.saturating_sub(offset).min(size as u64) as usize;
        if let Some(dir) = &self.content {
            return match self.content(dir, ino.0, offset, n) {
                Some(bytes) => reply.data(&bytes),
                None => reply.error(Errno::EIO),
            };
        }
        match ZEROS.get(..n) {
            Some(zeros) => reply.data(zeros),
            None => reply.data(&vec![0; n]),
        }
    }

    fn readdirplus(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let Some(dir) = self.get(ino) else { return reply.error(Errno::ENOENT) };
        if !dir.dir {
            return reply.error(Errno::ENOTDIR);
        }
        let dots = [(ino.0, OsStr::new(".")), (dir.parent, OsStr::new(".."))];
        let children = dir.children.iter().map(|c| (*c, self.nodes[*c as usize].name.as_os_str()));
        for (i, (child, name)) in dots.into_iter().chain(children).enumerate() {
            if (i as u64) < offset {
                continue;
            }
            let attr = self.attr(child);
            if reply.add(INodeNo(child), i as u64 + 1, name, &TTL, &attr, Generation(0)) {
                break;
            }
        }
        reply.ok();
    }
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let (tree, mountpoint, threads, content) = match &args[..] {
        [_, tree, mountpoint, threads] => (tree, mountpoint, threads, None),
        [_, tree, mountpoint, threads, content] => {
            (tree, mountpoint, threads, Some(PathBuf::from(content)))
        }
        _ => return Err("usage: fuse_floor TREE MOUNTPOINT THREADS [CONTENT]".into()),
    };
    let listing = std::fs::read(tree).map_err(|e| format!("{tree}: {e}"))?;
    let mut tree = Tree::parse(&listing)?;
    tree.content = content;
    let mut config = Config::default();
    config.mount_options = vec![MountOption::RO, MountOption::FSName("fuse_floor".into())];
    config.n_threads = Some(threads.parse().map_err(|_| format!("bad thread count {threads}"))?);
    config.clone_fd = true;
    let session = Session::new(tree, std::path::Path::new(mountpoint), &config)
        .map_err(|e| format!("mount {mountpoint}: {e}"))?;
    let serving = std::thread::spawn(move || session.run().map_err(|e| e.to_string()));
    // the daemon's readahead, set as it sets it (after INIT)
    cloudify_mount::fuse::readahead::set(
        std::path::Path::new(mountpoint),
        cloudify_mount::fuse::readahead::DEFAULT_KIB,
    );
    println!("ready");
    serving.join().map_err(|_| "the session thread panicked".to_string())?
}
