//! The Zarr v2 view of an index: metadata documents, chunk keys, and chunk bytes.

pub mod chunk;
mod json;
pub mod key;
pub mod metadata;
pub mod mode;
mod view;

pub use view::{ArrayEntry, Child, DatasetView, Entry};
