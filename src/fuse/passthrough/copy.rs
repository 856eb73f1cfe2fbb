//! One local copy of a file: an unnamed `O_TMPFILE` file in the cache's directory (nothing named,
//! nothing left behind after a crash), registered with the kernel by the open that admits it
//! (first: a refusal costs no copy), then filled off that open's path through the tree's read
//! path in pieces of [`PIECE`] bytes and checked to be the version it was made for. What the fill
//! needs of the file comes through [`CopySource`] (the fuser side in `open.rs`, fakes in the
//! tests).

use super::Version;
use crate::vfs::{Bytes, VfsError};
use std::fs::File;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Bytes read and written at once (a few large reads: a shard's inner chunks are gathered
/// into one buffer per read).
pub const PIECE: u32 = 8 << 20;

/// What filling a copy needs of its file.
pub trait CopySource {
    /// Up to `size` bytes at `offset`, as a FUSE read gets them.
    fn read(&self, offset: u64, size: u32) -> Result<Bytes, VfsError>;
    /// The file's version now.
    fn version(&self) -> Result<Option<Version>, VfsError>;
}

/// Why a file got no copy (it is then served by FUSE reads).
#[derive(Debug, thiserror::Error)]
pub enum PassthroughError {
    #[error("cannot create an unnamed file (O_TMPFILE) in {dir}: {source}")]
    Create { dir: PathBuf, source: std::io::Error },
    #[error("reading the file at {offset}: {source}")]
    Read { offset: u64, source: VfsError },
    #[error("the file ended at {offset} of {size} bytes")]
    Short { offset: u64, size: u64 },
    #[error("writing the copy: {0}")]
    Write(#[source] std::io::Error),
    #[error("the file changed while it was copied")]
    Changed,
    #[error("registering the copy with the kernel (FUSE_DEV_IOC_BACKING_OPEN): {0}")]
    Register(#[source] std::io::Error),
    #[error("the copy panicked (a bug): served by FUSE reads")]
    Panicked,
}

impl PassthroughError {
    /// The kernel refuses every registration: not CAP_SYS_ADMIN (EPERM), no passthrough
    /// support, the directory on a stacked file system such as overlayfs (ELOOP).
    pub fn kernel_refuses(&self) -> bool {
        let PassthroughError::Register(e) = self else { return false };
        matches!(
            e.raw_os_error(),
            Some(
                libc::EPERM
                    | libc::ENOTTY
                    | libc::EINVAL
                    | libc::EOPNOTSUPP
                    | libc::ENOSYS
                    | libc::ELOOP
            )
        )
    }

    /// A short name of the cause, for the rate limit of log lines.
    pub fn cause(&self) -> &'static str {
        match self {
            PassthroughError::Create { .. } => "copy create",
            PassthroughError::Read { .. } | PassthroughError::Short { .. } => "copy read",
            PassthroughError::Write(_) => "copy write",
            PassthroughError::Changed => "copy changed",
            PassthroughError::Register(_) => "copy register",
            PassthroughError::Panicked => "copy panicked",
        }
    }
}

/// An unnamed file in `dir`, readable and writable by the daemon only.
pub fn unnamed_file(dir: &Path) -> Result<File, PassthroughError> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
        .mode(0o600)
        .open(dir)
        .map_err(|source| PassthroughError::Create { dir: dir.to_path_buf(), source })
}

/// Write the bytes of `src` at `version` into `copy`.
pub fn fill<S: CopySource>(copy: &File, version: Version, src: &S) -> Result<(), PassthroughError> {
    let mut offset = 0;
    while offset < version.size {
        let want = PIECE.min(u32::try_from(version.size - offset).unwrap_or(PIECE));
        let bytes =
            src.read(offset, want).map_err(|source| PassthroughError::Read { offset, source })?;
        if bytes.is_empty() {
            return Err(PassthroughError::Short { offset, size: version.size });
        }
        copy.write_all_at(&bytes, offset).map_err(PassthroughError::Write)?;
        offset += bytes.len() as u64;
    }
    // a file that grew would be cut here; one that changed at all is not this version
    if offset != version.size || src.version().ok().flatten() != Some(version) {
        return Err(PassthroughError::Changed);
    }
    Ok(())
}
