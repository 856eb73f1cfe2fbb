//! A worker started by a root daemon gives up root: it becomes `nobody` and keeps only
//! CAP_DAC_READ_SEARCH (read any file, as the daemon must), so code running on a malformed
//! file cannot write, signal other processes, mount or load modules. No new privileges can be
//! gained afterwards (`PR_SET_NO_NEW_PRIVS`).

/// uid/gid of `nobody` on Debian (and most Linux systems).
const NOBODY: u32 = 65534;
const CAP_DAC_READ_SEARCH: u32 = 2;
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// A credential change the kernel refused: which one, and its error.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct PrivilegeError {
    what: &'static str,
    source: std::io::Error,
}

fn check(rc: libc::c_long, what: &'static str) -> Result<(), PrivilegeError> {
    if rc == 0 {
        Ok(())
    } else {
        Err(PrivilegeError { what, source: std::io::Error::last_os_error() })
    }
}

/// Drop to `nobody` + CAP_DAC_READ_SEARCH when running as root; nothing otherwise.
pub fn drop_to_reader() -> Result<(), PrivilegeError> {
    // SAFETY: plain syscalls on this process's own credentials, arguments built right here.
    unsafe {
        if libc::geteuid() != 0 {
            return check(
                libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0).into(),
                "no_new_privs",
            );
        }
        check(libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0).into(), "keepcaps")?;
        check(libc::setgroups(0, std::ptr::null()).into(), "setgroups")?;
        check(libc::setresgid(NOBODY, NOBODY, NOBODY).into(), "setresgid")?;
        check(libc::setresuid(NOBODY, NOBODY, NOBODY).into(), "setresuid")?;
        let mut header = CapHeader { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
        let bit = 1u32 << CAP_DAC_READ_SEARCH;
        let data = [CapData { effective: bit, permitted: bit, inheritable: 0 }, CapData::default()];
        check(
            libc::syscall(libc::SYS_capset, &mut header as *mut CapHeader, data.as_ptr()),
            "capset",
        )?;
        check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0).into(), "no_new_privs")
    }
}
