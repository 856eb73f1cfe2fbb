//! The kernel's readahead for this mount. A FUSE connection gets its own backing device
//! (`/sys/class/bdi/MAJOR:MINOR`, the mount's `st_dev`) whose readahead starts at the kernel's
//! default of 128 KiB; the INIT reply can only lower it. A sequential reader of a large file
//! (`cat`, `rsync`, `cp` of a 256 MiB shard) then arrives as 256 KiB requests, each a round
//! trip, although the kernel accepts 1 MiB per request (`max_pages` 256). Raising the device's
//! `read_ahead_kb` once INIT is done makes such a stream 1 MiB requests: a quarter of the
//! round trips. Random reads are not affected (the kernel reads ahead only for a stream it
//! has seen), and the setting goes with the device at unmount. Writing it needs root; a daemon
//! that may not keeps the kernel's value (logged).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The default readahead of a mount, in KiB: the largest FUSE request the kernel sends.
pub const DEFAULT_KIB: u32 = 1024;

/// The sysfs file holding the readahead of the file system mounted at `mountpoint`.
fn sysfs_file(mountpoint: &Path) -> std::io::Result<PathBuf> {
    // stat of the mount's root waits until the kernel has processed the INIT reply, which
    // would otherwise lower the value set here again
    let dev = std::fs::metadata(mountpoint)?.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    Ok(PathBuf::from(format!("/sys/class/bdi/{major}:{minor}/read_ahead_kb")))
}

/// Set the readahead of the mount at `mountpoint` to `kib` (0: leave the kernel's). Failure
/// is not an error of the mount: it is logged and the kernel's value stays.
pub fn set(mountpoint: &Path, kib: u32) {
    if kib == 0 {
        return;
    }
    let written = sysfs_file(mountpoint)
        .and_then(|file| std::fs::write(&file, format!("{kib}\n")).map(|()| file));
    match written {
        Ok(file) => tracing::debug!(file = %file.display(), kib, "readahead set"),
        Err(e) => tracing::info!("readahead left at the kernel's default ({e})"),
    }
}

/// The readahead now in force for the mount at `mountpoint`, in KiB.
pub fn get(mountpoint: &Path) -> std::io::Result<u32> {
    let text = std::fs::read_to_string(sysfs_file(mountpoint)?)?;
    text.trim().parse().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}
