//! Zarr views of an index: chunk bytes and the chunk mode are shared by every Zarr version,
//! and so is the store's key space ([`DatasetView`]: the tree of groups and arrays, documents
//! rendered once, chunk keys resolved on demand); what a version spells differently
//! (documents, chunk keys, v3's shards) lives in its own module (`v2/`, `v3/`). Chunks
//! larger than their array are served cropped to it (`crop`), as netCDF-C's NCZarr requires;
//! CF-packed variables are served unpacked in decoded mode with `--unpack` (`unpack`).

pub mod attrs;
pub mod chunk;
pub mod crop;
pub mod format;
pub mod json;
pub mod mode;
mod names;
pub mod structured;
mod unpack;
pub mod v2;
pub mod v3;
mod view;

pub use format::ZarrFormat;
pub use view::{ArrayEntry, Child, DatasetView, Entry};
