//! Errors of the virtual tree, each keeping its cause. Which errno (or HTTP status) an error
//! becomes is the adapter's to say (`crate::fuse`), not the tree's.

use super::dataset::DatasetError;
use crate::zarr::chunk::ChunkError;

/// An error answering a request to the tree.
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
    Dataset(#[source] DatasetError),
    #[error("I/O error: {0}")]
    Io(#[source] std::io::Error),
    /// A chunk's bytes could not be produced (logged where it happened).
    #[error("I/O error: {0}")]
    Chunk(#[source] ChunkError),
    /// A generated file (thumbnail, derived store) could not be made (logged where it
    /// happened).
    #[error("{what} cannot be made: {source}")]
    Generated { what: String, source: super::generated::GenerateError },
}

impl VfsError {
    /// The request failed on the archive's side (reading or indexing a source), not on what
    /// was asked for.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            VfsError::Dataset(_)
                | VfsError::Io(_)
                | VfsError::Chunk(_)
                | VfsError::Generated { .. }
        )
    }
}

/// A missing file is [`VfsError::NotFound`]; anything else keeps its cause.
impl From<std::io::Error> for VfsError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => VfsError::NotFound,
            _ => VfsError::Io(e),
        }
    }
}
