//! Errors of derived datasets: what the request got wrong (a client error, with what is
//! allowed), what would be too large, and what the tree failed to give.

use crate::vfs::VfsError;

/// Why a derived dataset cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum DeriveError {
    /// The path asks for something that does not exist or is not allowed (HTTP 400).
    #[error("{0}")]
    Request(String),
    /// The result (or the memory its action needs) is over `--max-derived-size` (HTTP 413).
    #[error("the result needs {needed} bytes, more than the limit of {limit} bytes (--max-derived-size): {what}")]
    TooLarge { needed: u64, limit: u64, what: String },
    /// The dataset or one of its files could not be read.
    #[error(transparent)]
    Tree(#[from] VfsError),
    /// The request went away (the client left, or the server's time for it ran out).
    #[error("cancelled: the request went away")]
    Cancelled,
    /// The dataset's metadata is not what a store of the tree has.
    #[error("unreadable metadata: {0}")]
    Metadata(String),
}
