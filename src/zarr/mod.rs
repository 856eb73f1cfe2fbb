//! Zarr views of an index: chunk bytes (pass-through, padded or generated) and the chunk mode
//! are shared by every Zarr version; what a version spells differently (documents, keys, the
//! store's key space) lives in its own module (`v2/`; `v3/` will sit beside it).

pub mod chunk;
mod json;
pub mod mode;
pub mod v2;

pub use v2::{ArrayEntry, Child, DatasetView, Entry};
