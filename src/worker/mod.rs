//! Crash isolation: the C libraries (netcdf-c, libhdf5) run in worker processes, so that a
//! malformed file that crashes or corrupts them takes down one worker, never the daemon. Files
//! the native reader takes ([`crate::source::index_native`], safe Rust) never reach a worker.
//! Indexes come back as data (the index is a plain value); chunks only libhdf5 can decode come
//! back as bytes. Pass-through reads stay in the daemon (`pread`).
//!
//! ```text
//!  daemon ── Request::Index{path} ──► worker (nobody + CAP_DAC_READ_SEARCH) ── index_with_libraries()
//!         ◄── Response::Index(DatasetIndex) | Failed(reason) ──   (dies → Died, replaced)
//!  daemon ── Request::IndexHdf5{path} ──► worker ── index_hdf5_only()   (after a death on
//!                                                   an HDF5 file: libhdf5 alone, no netcdf-c)
//! ```

mod error;
mod pool;
mod privileges;
pub mod protocol;
mod serve;
mod spawner;

pub use error::IndexError;
pub use pool::{Ended, Lost, Pool, WorkerError};
pub use serve::{maybe_serve, WORKER_ARG};

use crate::index::{ArrayNode, DatasetIndex};
use crate::source::{
    index_native_first, index_with_libraries, sniff_path, Format, Hdf5Chunks, IndexOptions,
    LibraryChunks, LibraryError,
};
use protocol::{Request, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the C libraries run.
#[derive(Clone, Default)]
pub enum Isolation {
    /// In this process (kernel-free tests, `--workers 0`).
    #[default]
    InProcess,
    /// In worker processes.
    Workers(Arc<Pool>),
}

impl std::fmt::Debug for Isolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Isolation::InProcess => "InProcess",
            Isolation::Workers(_) => "Workers",
        })
    }
}

impl Isolation {
    /// Index `path`: with the native reader in this process when it takes the file (safe
    /// Rust, no library lock, no worker round trip), otherwise with the C libraries where
    /// they run.
    pub fn index(&self, path: &Path, options: &IndexOptions) -> Result<DatasetIndex, IndexError> {
        let file = std::fs::File::open(path)
            .map_err(|source| IndexError::Open { path: path.to_path_buf(), source })?;
        self.index_telling(path, &file, options).map(|(index, _)| index)
    }

    /// [`Isolation::index`] of the file at `path`, open as `file` (the native reader reads
    /// it; the libraries open `path` themselves), and whether the native reader made it.
    pub fn index_telling(
        &self,
        path: &Path,
        file: &std::fs::File,
        options: &IndexOptions,
    ) -> Result<(DatasetIndex, bool), IndexError> {
        let libraries = || self.index_with_libraries(path, options);
        let (index, native) = index_native_first(file, path, options, libraries)?;
        if native {
            crate::telemetry::stats::STATS.indexed_natively();
        }
        Ok((index, native))
    }

    /// Index `path` with netcdf-c and libhdf5 only.
    pub fn index_with_libraries(
        &self,
        path: &Path,
        options: &IndexOptions,
    ) -> Result<DatasetIndex, IndexError> {
        match self {
            // the netcdf crate unwraps some library errors: a panic is a bad file, not a crash
            Isolation::InProcess => {
                match std::panic::catch_unwind(|| index_with_libraries(path, options)) {
                    Ok(r) => Ok(r?),
                    Err(_) => Err(IndexError::Panicked { path: path.to_path_buf() }),
                }
            }
            Isolation::Workers(pool) => {
                let request = Request::Index {
                    path: path.to_path_buf(),
                    contiguous_chunk_target: options.contiguous_chunk_target,
                };
                let answer = match pool.call(&request) {
                    Err(died @ WorkerError::Died { .. }) => hdf5_only(pool, path, options, died),
                    answer => answer,
                };
                match answer {
                    Ok(Response::Index(index)) => Ok(index),
                    Ok(_) => Err(IndexError::Unexpected),
                    // a clean failure names the file already; a lost worker does not
                    Err(WorkerError::Failed(e)) => Err(IndexError::Failed(e)),
                    Err(source) => Err(IndexError::Worker { path: path.to_path_buf(), source }),
                }
            }
        }
    }

    /// The reader of chunks only libhdf5 can decode, for file `path`.
    pub fn library(&self, path: PathBuf) -> Box<dyn LibraryChunks> {
        match self {
            Isolation::InProcess => Box::new(Hdf5Chunks::new(path)),
            Isolation::Workers(pool) => Box::new(WorkerChunks { pool: pool.clone(), path }),
        }
    }
}

/// A worker died indexing `path` (`died`): if the file is HDF5, ask a fresh worker for the
/// pure-HDF5 view, which leaves netcdf-c (where such crashes happen) out; otherwise, or if
/// that fails too, the first death is the answer.
fn hdf5_only(
    pool: &Pool,
    path: &Path,
    options: &IndexOptions,
    died: WorkerError,
) -> Result<Response, WorkerError> {
    if !matches!(sniff_path(path), Ok(Some(Format::Hdf5 { .. }))) {
        return Err(died);
    }
    tracing::warn!(file = %path.display(), "{died}; retrying with libhdf5 alone (pure-HDF5 view)");
    let request = Request::IndexHdf5 {
        path: path.to_path_buf(),
        contiguous_chunk_target: options.contiguous_chunk_target,
    };
    match pool.call(&request) {
        Ok(answer) => Ok(answer),
        Err(again) => {
            tracing::warn!(file = %path.display(), "pure-HDF5 view failed as well: {again}");
            Err(died)
        }
    }
}

/// Library chunks decoded by a worker.
struct WorkerChunks {
    pool: Arc<Pool>,
    path: PathBuf,
}

impl LibraryChunks for WorkerChunks {
    fn read(&self, array: &ArrayNode, coords: &[u64]) -> Result<Vec<u8>, LibraryError> {
        let request = Request::Chunk {
            path: self.path.clone(),
            dataset: array.library_path.clone().ok_or(LibraryError::NotLibraryArray)?,
            chunks: array.chunks.clone(),
            fill_element: array.fill_element.clone(),
            dtype: array.dtype,
            coords: coords.to_vec(),
        };
        match self.pool.call(&request) {
            Ok(Response::Chunk(bytes)) => Ok(bytes),
            Ok(_) => Err(LibraryError::Unexpected),
            Err(WorkerError::Failed(e)) => Err(LibraryError::Failed(e)),
            Err(e) => Err(LibraryError::Worker(Box::new(e))),
        }
    }
}
