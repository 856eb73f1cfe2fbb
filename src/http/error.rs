//! Errors of the HTTP adapter, and the one place where the tree's errors become statuses.

use crate::vfs::VfsError;
use axum::http::StatusCode;

/// The server could not start or stopped on an error.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("archive {path}: {source}")]
    Archive { path: std::path::PathBuf, source: std::io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("serving: {0}")]
    Serve(#[source] std::io::Error),
    /// A derived store declared in the `--collections` file cannot be computed.
    #[error("{0}")]
    Declared(#[source] crate::derive::DeclarationError),
}

/// The status a request is answered with for `e`.
pub fn status(e: &VfsError) -> StatusCode {
    match e {
        VfsError::NotFound | VfsError::NotDir | VfsError::Outside => StatusCode::NOT_FOUND,
        VfsError::IsDir => StatusCode::NOT_FOUND,
        VfsError::ReadOnly => StatusCode::METHOD_NOT_ALLOWED,
        VfsError::Dataset(_)
        | VfsError::Io(_)
        | VfsError::Chunk(_)
        | VfsError::Generated { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_is_404_failures_500() {
        assert_eq!(status(&VfsError::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(status(&VfsError::Outside), StatusCode::NOT_FOUND);
        let io = VfsError::from(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert_eq!(status(&io), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
