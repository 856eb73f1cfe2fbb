//! `--log-file`: the process's stderr (our logs, and whatever the C libraries print) appended
//! to a file. Shared by `#[path]` from both binaries.

/// Point stderr (our logs, and whatever the C libraries print) at the end of `path`.
pub fn log_to(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    // SAFETY: duplicating an open descriptor onto stderr.
    if unsafe { libc::dup2(file.as_raw_fd(), libc::STDERR_FILENO) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
