//! Zarr v2 spelling of an index: `.zgroup`/`.zattrs`/`.zarray`/`.zmetadata` documents
//! (attributes and types as zarr-python writes them) and `3.0.1` chunk keys.

pub mod dtype;
pub mod key;
pub mod metadata;
