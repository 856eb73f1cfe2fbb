//! Why a file could not be indexed where the C libraries run: the file did not open, the
//! libraries failed on it (in this process: a [`SourceError`]), their bindings panicked, or a
//! worker failed cleanly (its reason, as the pipe carries it) or was lost.

use super::WorkerError;
use crate::source::SourceError;
use std::path::PathBuf;

/// Indexing failed; every variant's text names the file.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{}: {source}", path.display())]
    Open { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{}: the netCDF/HDF5 bindings panicked", path.display())]
    Panicked { path: PathBuf },
    /// A worker's clean failure (a [`SourceError`] sent as text; it names the file already).
    #[error("{0}")]
    Failed(String),
    #[error("worker answered with something else")]
    Unexpected,
    /// The worker was lost (died, hung, could not start).
    #[error("{}: {source}", path.display())]
    Worker { path: PathBuf, source: WorkerError },
}
