//! The one place where the tree's errors become errnos for the kernel.

use crate::vfs::VfsError;

/// The errno the kernel is answered with for `e`.
pub fn errno(e: &VfsError) -> i32 {
    match e {
        VfsError::NotFound => libc::ENOENT,
        VfsError::NotDir => libc::ENOTDIR,
        VfsError::IsDir => libc::EISDIR,
        VfsError::ReadOnly => libc::EROFS,
        VfsError::Outside => libc::EACCES,
        VfsError::Dataset(_)
        | VfsError::Io(_)
        | VfsError::Chunk(_)
        | VfsError::Generated { .. } => libc::EIO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_eio_and_keep_their_cause() {
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = VfsError::from(io);
        assert_eq!(errno(&e), libc::EIO);
        let cause = std::error::Error::source(&e).expect("a cause");
        assert!(cause.downcast_ref::<std::io::Error>().is_some());
        let missing = VfsError::from(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(errno(&missing), libc::ENOENT);
        assert_eq!(errno(&VfsError::Outside), libc::EACCES);
        assert_eq!(errno(&VfsError::ReadOnly), libc::EROFS);
    }
}
