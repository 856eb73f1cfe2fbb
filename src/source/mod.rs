//! Format readers: turn one source file into a [`DatasetIndex`].
//!
//! The C libraries (netcdf-c, libhdf5) are used here and only here, for metadata and chunk
//! addresses; every call goes through their global lock. Indexing runs in two passes that never
//! hold both libraries' handles at once: [`nc4`] reads the netCDF data model (groups, dimensions,
//! variables, attributes) and [`layout`] reads each variable's HDF5 storage (filters, chunk
//! addresses, contiguous offsets).

mod attrs;
pub mod btree;
pub mod cdf;
mod cdf_layout;
mod contiguous;
mod layout;
mod library;
mod nc4;
mod pipeline;
mod placement;
pub mod sniff;
mod strings;

use crate::index::{zarr_key, DatasetIndex, GroupNode};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub use library::Hdf5Chunks;
pub use sniff::{sniff_path, Format};

/// Why a file could not be indexed at all (a single variable's problem is a `Skipped` entry).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a NetCDF or HDF5 file")]
    NotData { path: PathBuf },
    #[error("{path}: netCDF library: {message}")]
    NetCdf { path: PathBuf, message: String },
    #[error("{path}: NetCDF-3 header: {source}")]
    Cdf { path: PathBuf, source: cdf::CdfError },
    #[error("{path}: HDF5 library: {message}")]
    Hdf5 { path: PathBuf, message: String },
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

/// Build the index of the file at `path`.
pub fn index_file(path: &Path, options: &IndexOptions) -> Result<DatasetIndex, SourceError> {
    // Failed look-ups (e.g. the `_nc4_non_coord_` fallback) are expected: keep libhdf5 quiet.
    hdf5::silence_errors(true);
    let io = |source| SourceError::Io { path: path.to_path_buf(), source };
    let format = sniff_path(path)
        .map_err(io)?
        .ok_or_else(|| SourceError::NotData { path: path.to_path_buf() })?;
    let mut tree = nc4::read_model(path, format)?;
    match format {
        Format::Hdf5 { user_block } => layout::fill_storage(path, user_block, &mut tree, options)?,
        Format::Cdf { .. } => cdf_layout::fill_storage(path, &mut tree, options)?,
    }
    let mut root = tree.into_group();
    assign_keys(&mut root);
    Ok(DatasetIndex { format: format.describe(), root })
}

/// Replace netCDF names by Zarr keys (see [`zarr_key`]), arrays first, then sub-groups.
fn assign_keys(group: &mut GroupNode) {
    let mut taken = HashSet::new();
    for a in &mut group.arrays {
        a.name = zarr_key(&a.name, &mut taken);
    }
    for g in &mut group.groups {
        g.name = zarr_key(&g.name, &mut taken);
        assign_keys(g);
    }
}
