//! Errors of writing an Icechunk repository, each keeping its cause.

use crate::vfs::VfsError;

/// Writing the repository failed (or one dataset of it, for [`IcechunkError::Dataset`]).
#[derive(Debug, thiserror::Error)]
pub enum IcechunkError {
    /// The repository or the virtual prefix is not one this command writes.
    #[error("{0}")]
    Target(String),
    /// The archive could not be opened.
    #[error("{0}: {1}")]
    Archive(String, #[source] std::io::Error),
    /// A dataset could not be read from the tree (it is left out; the others are written).
    #[error("{0}: {1}")]
    Dataset(String, #[source] VfsError),
    /// Writing a dataset's group failed (it is removed again; the others are written).
    #[error("{0}: {1}")]
    Writing(String, #[source] Box<IcechunkError>),
    /// The repository's state (cloudify's record in the root group) is not what this writes.
    #[error("repository state: {0}")]
    State(String),
    #[cfg(feature = "icechunk")]
    #[error("icechunk repository: {0}")]
    Repository(#[from] icechunk::repository::RepositoryError),
    #[cfg(feature = "icechunk")]
    #[error("icechunk session: {0}")]
    Session(#[from] icechunk::session::SessionError),
    #[cfg(feature = "icechunk")]
    #[error("icechunk store: {0}")]
    Store(#[from] icechunk::store::StoreError),
    #[cfg(feature = "icechunk")]
    #[error("icechunk storage: {0}")]
    Storage(#[from] icechunk::StorageError),
    #[error("tokio runtime: {0}")]
    Runtime(#[source] std::io::Error),
}
