//! Errors of the virtual tree, each with the errno the adapter answers with.

/// An error answering a file-system request.
#[derive(Debug, thiserror::Error)]
pub enum VfsError {
    #[error("no such file or directory")]
    NotFound,
    #[error("not a directory")]
    NotDir,
    #[error("is a directory")]
    IsDir,
    #[error("read-only file system")]
    ReadOnly,
    #[error("leads outside the archive (symbolic link; see --follow-symlinks)")]
    Outside,
    #[error("dataset cannot be presented: {0}")]
    Dataset(String),
    #[error("I/O error: {0}")]
    Io(String),
}

impl VfsError {
    /// The errno for the kernel.
    pub fn errno(&self) -> i32 {
        match self {
            VfsError::NotFound => libc::ENOENT,
            VfsError::NotDir => libc::ENOTDIR,
            VfsError::IsDir => libc::EISDIR,
            VfsError::ReadOnly => libc::EROFS,
            VfsError::Outside => libc::EACCES,
            VfsError::Dataset(_) | VfsError::Io(_) => libc::EIO,
        }
    }
}

impl From<std::io::Error> for VfsError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => VfsError::NotFound,
            _ => VfsError::Io(e.to_string()),
        }
    }
}
