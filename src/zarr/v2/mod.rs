//! Zarr v2 spelling of an index: `.zgroup`/`.zattrs`/`.zarray`/`.zmetadata` documents
//! (attributes and types as zarr-python writes them), `3.0.1` chunk keys, and the store's key
//! space ([`DatasetView`]).

pub mod attrs;
pub mod dtype;
pub mod key;
pub mod metadata;
mod names;
mod view;

pub use view::{ArrayEntry, Child, DatasetView, Entry};
