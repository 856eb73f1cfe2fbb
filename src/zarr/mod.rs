//! Zarr views of an index: chunk bytes (pass-through, padded or generated) and the chunk mode
//! are shared by every Zarr version; what a version spells differently (documents, keys, the
//! store's key space) lives in its own module (`v2/`; `v3/` will sit beside it). Chunks larger
//! than their array are served cropped to it (`crop`), as netCDF-C's NCZarr requires.

pub mod chunk;
pub mod crop;
mod json;
pub mod mode;
pub mod structured;
pub mod v2;

pub use v2::{ArrayEntry, Child, DatasetView, Entry};
