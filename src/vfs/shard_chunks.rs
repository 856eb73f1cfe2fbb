//! A shard's inner chunks for [`crate::zarr::v3::Sharding::read`]: each read as the chunk
//! file would be (the dataset's file, cache and readers, failures logged), a stored chunk's
//! bytes read straight into the shard read's buffer.

use super::{Loaded, Vfs, VfsError};
use crate::index::ChunkRef;
use crate::zarr::chunk::{read_chunk_into, Bytes};
use crate::zarr::v3::InnerChunks;
use std::path::Path;
use std::sync::Arc;

/// A shard's inner chunks, read as chunk files are (`Vfs::with_chunk`).
pub(super) struct ShardChunks<'a> {
    pub vfs: &'a Vfs,
    pub ds: &'a Arc<Loaded>,
    /// The source and the file read, for the log.
    pub at: (&'a Path, &'a str),
    pub array: usize,
}

impl InnerChunks for ShardChunks<'_> {
    type Error = VfsError;

    fn bytes(
        &self,
        pos: usize,
        chunk: &ChunkRef,
        offset: u64,
        want: usize,
    ) -> Result<Bytes, VfsError> {
        self.vfs.chunk_bytes(self.ds, self.at, self.array, pos, chunk, offset, want)
    }

    fn bytes_into(
        &self,
        pos: usize,
        chunk: &ChunkRef,
        offset: u64,
        dst: &mut [u8],
    ) -> Result<usize, VfsError> {
        self.vfs.with_chunk(self.ds, self.at, self.array, pos, |src, node| {
            read_chunk_into(src, node, chunk, offset, dst)
        })
    }
}
