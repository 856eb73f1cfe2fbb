//! Zarr v3 spelling of an index: `zarr.json` documents per group and array (consolidated
//! metadata inline, as zarr-python 3 writes it), `c/3/0/1` chunk keys, v3 data types and
//! codecs, and zero-copy shards (`sharding_indexed`) of the served chunks.

pub mod dtype;
pub mod key;
pub mod metadata;
pub mod shard;

pub use shard::{InnerChunks, Sharding};
