//! Format readers: turn one source file into a [`DatasetIndex`].
//!
//! The C libraries (netcdf-c, libhdf5) are used here and only here, for metadata and chunk
//! addresses; every call goes through their global lock. Indexing runs in two passes that never
//! hold both libraries' handles at once: [`nc4`] reads the netCDF data model (groups, dimensions,
//! variables, attributes) and [`libhdf5_layout`] reads each variable's HDF5 storage (filters, chunk
//! addresses, contiguous offsets).

mod attrs;
pub mod btree;
pub mod cdf;
mod cdf_checks;
mod cdf_layout;
pub mod cdf_oracle;
mod compound;
mod compound_refs;
mod compound_strings;
mod compound_type;
mod compound_vlen;
mod contiguous;
mod declined;
mod hdf5_attrs;
mod hdf5_dims;
mod hdf5_model;
mod hdf5_plain_types;
mod hdf5_strings;
mod libhdf5_layout;
mod library_chunks;
mod native;
mod nc4;
mod nc4_strings;
mod phony_dims;
mod pipeline;
mod placement;
mod region_refs;
mod reserved;
pub mod sniff;
mod szip_cd;
mod variable_error;
mod vlen;

use crate::index::DatasetIndex;
use std::path::{Path, PathBuf};
use tracing::{debug, warn};

pub use declined::Declined;
pub use library_chunks::{Hdf5Chunks, LibraryChunks, LibraryError};
pub use sniff::{sniff_file, sniff_path, Format};
pub use szip_cd::szip_cd_values;
pub use variable_error::VariableError;

/// Why a file could not be indexed at all (a single variable's problem is a `Skipped` entry).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a NetCDF or HDF5 file")]
    NotData { path: PathBuf },
    #[error("{path}: netCDF library: {source}")]
    NetCdf { path: PathBuf, source: netcdf::Error },
    #[error("{path}: NetCDF-3 header: {source}")]
    Cdf { path: PathBuf, source: cdf::CdfError },
    #[error("{path}: HDF5 library: {source}")]
    Hdf5 { path: PathBuf, source: hdf5::Error },
}

/// Tunables of indexing.
#[derive(Clone, Debug)]
pub struct IndexOptions {
    /// Target size in bytes of the chunks a contiguous variable is split into.
    pub contiguous_chunk_target: u64,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions { contiguous_chunk_target: 4 << 20 }
    }
}

/// Build the index of the file at `path`: with the native reader when it takes the file,
/// otherwise through the C libraries (in this process).
pub fn index_file(path: &Path, options: &IndexOptions) -> Result<DatasetIndex, SourceError> {
    let file = std::fs::File::open(path)
        .map_err(|source| SourceError::Io { path: path.to_path_buf(), source })?;
    let libraries = || index_with_libraries(path, options);
    index_native_first(&file, path, options, libraries).map(|(index, _)| index)
}

/// The indexing policy, in one place: the native reader first (safe Rust, in this process,
/// no library lock), and only when it declines (the reason logged at debug level) the C
/// libraries, wherever `libraries` runs them. Returns the index and whether the native
/// reader made it.
pub fn index_native_first<E>(
    file: &std::fs::File,
    path: &Path,
    options: &IndexOptions,
    libraries: impl FnOnce() -> Result<DatasetIndex, E>,
) -> Result<(DatasetIndex, bool), E> {
    match index_native_open(file, path, options) {
        Ok(index) => Ok((index, true)),
        Err(reason) => {
            debug!(file = %path.display(), "native reader declined: {reason}");
            libraries().map(|index| (index, false))
        }
    }
}

/// The index of `path` from the native reader alone (no C library, safe to run in the
/// daemon), or why it declines the file.
pub fn index_native(path: &Path, options: &IndexOptions) -> Result<DatasetIndex, Declined> {
    let file = std::fs::File::open(path)?;
    index_native_open(&file, path, options)
}

/// [`index_native`] of `file`, already open (at `path`).
pub fn index_native_open(
    file: &std::fs::File,
    path: &Path,
    options: &IndexOptions,
) -> Result<DatasetIndex, Declined> {
    let len = file.metadata()?.len();
    let Some(Format::Hdf5 { user_block }) = sniff_file(file, len)? else {
        return Err(Declined::NotHdf5);
    };
    // bounds-checked reads only; a panic would be a bug in the reader, never a crash
    let index = || native::index(file, len, user_block, path, options);
    match std::panic::catch_unwind(index) {
        Ok(index) => index,
        Err(_) => {
            warn!(file = %path.display(), "native reader panicked; using the C libraries");
            Err(Declined::Panicked)
        }
    }
}

/// Build the index of the file at `path` with netcdf-c and libhdf5 (the native reader's
/// fallback and its oracle in the tests).
pub fn index_with_libraries(
    path: &Path,
    options: &IndexOptions,
) -> Result<DatasetIndex, SourceError> {
    // Failed look-ups (e.g. the `_nc4_non_coord_` fallback) are expected: keep libhdf5 quiet.
    hdf5::silence_errors(true);
    let io = |source| SourceError::Io { path: path.to_path_buf(), source };
    let format = sniff_path(path)
        .map_err(io)?
        .ok_or_else(|| SourceError::NotData { path: path.to_path_buf() })?;
    if let Format::Cdf { .. } = format {
        cdf_layout::refuse_long_names(path)?;
    }
    let tree = match (nc4::read_model(path, format), format) {
        (Ok(tree), Format::Hdf5 { .. }) if hdf5_model::has_unlisted_dataset(path, &tree) => {
            warn!(file = %path.display(), "netCDF-C does not list some of its datasets; pure-HDF5 view");
            hdf5_model::read_model(path)?
        }
        (Ok(tree), _) => tree,
        // netCDF-C refuses some valid HDF5 files (a dangling soft or external link fails
        // `nc_open` with "HDF error"): read what h5py reads with libhdf5 alone
        (Err(SourceError::NetCdf { source, .. }), Format::Hdf5 { .. }) => {
            warn!(file = %path.display(), "netCDF-C cannot open it ({source}); pure-HDF5 view");
            hdf5_model::read_model(path)?
        }
        (Err(e), _) => return Err(e),
    };
    finish(path, format, tree, options)
}

/// The index of the HDF5 file at `path` from libhdf5 alone (the pure-HDF5 view, no netcdf-c):
/// what a worker is asked for after netcdf-c crashed on the file.
pub fn index_hdf5_only(path: &Path, options: &IndexOptions) -> Result<DatasetIndex, SourceError> {
    hdf5::silence_errors(true);
    let io = |source| SourceError::Io { path: path.to_path_buf(), source };
    let format = sniff_path(path).map_err(io)?;
    let Some(format @ Format::Hdf5 { .. }) = format else {
        return Err(SourceError::NotData { path: path.to_path_buf() });
    };
    finish(path, format, hdf5_model::read_model(path)?, options)
}

/// Pass 2 over the model `tree` of `path`, and the index.
fn finish(
    path: &Path,
    format: Format,
    mut tree: nc4::ModelGroup,
    options: &IndexOptions,
) -> Result<DatasetIndex, SourceError> {
    match format {
        Format::Hdf5 { user_block } => {
            libhdf5_layout::fill_storage(path, user_block, &mut tree, options)?
        }
        Format::Cdf { .. } => cdf_layout::fill_storage(path, &mut tree, options)?,
    }
    let root = tree.into_group();
    Ok(DatasetIndex { format: format.describe(), root })
}
