//! The tree's read path: a file's bytes at an offset — metadata documents and STAC files
//! sliced, chunk files and shards read through the chunk cache from their source, a joined
//! collection re-joined when a member changed under it, failures logged once per file and
//! cause a while.

use super::{shard_chunks, slice, Bytes, DatasetError, Loaded, NodeKey, Vfs, VfsError};
use crate::index::ChunkRef;
use crate::telemetry::log_limit;
use crate::telemetry::stats::STATS;
use crate::zarr::chunk::{read_chunk, ChunkError, ChunkSource, JoinedChunks};
use crate::zarr::Entry;
use std::path::Path;
use std::sync::Arc;
use tracing::warn;

impl Vfs {
    /// Read up to `size` bytes at `offset` of file `key` (counted in
    /// [`crate::telemetry::stats`]). A generated chunk's bytes are a window on the cached chunk,
    /// not a copy.
    pub fn read(&self, key: &NodeKey, offset: u64, size: u32) -> Result<Bytes, VfsError> {
        let r = self.read_node(key, offset, size);
        match &r {
            Ok(bytes) => STATS.served(bytes.len()),
            Err(e) if e.is_failure() => STATS.read_failed(),
            Err(_) => {}
        }
        r
    }

    fn read_node(&self, key: &NodeKey, offset: u64, size: u32) -> Result<Bytes, VfsError> {
        let (source, inner) = match key {
            NodeKey::Dataset { source, inner } => (source, inner),
            NodeKey::Catalog(rel) => {
                return Ok(Bytes::Owned(slice(&self.catalog_file(rel)?.1, offset, size)))
            }
            NodeKey::Item { source, store } => {
                return Ok(Bytes::Owned(slice(&self.item_file(source, store)?.1, offset, size)));
            }
            NodeKey::Thumbnail { source, store } => {
                let image = self.thumbnail_file(source, store)?.1;
                return Ok(Bytes::Owned(slice(&image, offset, size)));
            }
            NodeKey::Derived { name, inner } => {
                return Ok(Bytes::Owned(self.derived_read(name, inner, offset, size)?));
            }
            NodeKey::Dir(_) => return Err(VfsError::IsDir),
        };
        let mut ds = self.dataset_checked(source, false)?;
        if !ds.members.is_empty() {
            ds = self.fresh_collection(ds, source, inner, true)?;
        }
        match self.read_inner(&ds, source, inner, offset, size) {
            // a member of a shard's chunks changed since the join: joined again, read again
            Err(VfsError::Dataset(DatasetError::MemberChanged { .. }))
                if !ds.members.is_empty() =>
            {
                let ds = self.dataset_checked(source, true)?;
                self.read_inner(&ds, source, inner, offset, size)
            }
            r => r,
        }
    }

    /// Up to `size` bytes at `offset` of the file at `inner` in the store of `ds`.
    fn read_inner(
        &self,
        ds: &Arc<Loaded>,
        source: &Path,
        inner: &str,
        offset: u64,
        size: u32,
    ) -> Result<Bytes, VfsError> {
        match ds.view.resolve(inner).ok_or(VfsError::NotFound)? {
            Entry::Dir => Err(VfsError::IsDir),
            Entry::Meta(bytes) => Ok(Bytes::Owned(slice(bytes, offset, size))),
            Entry::Chunk { array, pos, chunk } => {
                self.chunk_bytes(ds, (source, inner), array, pos, chunk, offset, size as usize)
            }
            Entry::Shard { array, shard } => {
                let entry = &ds.view.arrays[array];
                let shards = entry.shards.as_ref().ok_or(VfsError::NotFound)?;
                let chunks =
                    shard_chunks::ShardChunks { vfs: self, ds, at: (source, inner), array };
                shards.read(&entry.node, shard, offset, size as usize, &chunks)
            }
        }
    }

    /// Up to `want` bytes at `offset` of chunk `pos` of array `array` of `ds` (a chunk file,
    /// or an inner chunk of a shard); `at` names the file read for the log.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn chunk_bytes(
        &self,
        ds: &Arc<Loaded>,
        at: (&Path, &str),
        array: usize,
        pos: usize,
        chunk: &ChunkRef,
        offset: u64,
        want: usize,
    ) -> Result<Bytes, VfsError> {
        self.with_chunk(ds, at, array, pos, |src, node| read_chunk(src, node, chunk, offset, want))
    }

    /// `read` on chunk `pos` of array `array` of `ds` with its source (file, cache, readers);
    /// a failure logged (rate-limited) with `at`, the file read.
    pub(super) fn with_chunk<T>(
        &self,
        ds: &Arc<Loaded>,
        (source, inner): (&Path, &str),
        array: usize,
        pos: usize,
        read: impl FnOnce(&ChunkSource<'_>, &crate::index::ArrayNode) -> Result<T, ChunkError>,
    ) -> Result<T, VfsError> {
        let node = &ds.view.arrays[array].node;
        let (file, library) = ds.chunk_file(node, pos)?;
        let src = ChunkSource {
            file: &file,
            cache: &self.cache,
            key: (ds.generation, array, pos),
            library,
            joined: (!ds.members.is_empty()).then_some(&**ds as &dyn JoinedChunks),
        };
        read(&src, node).map_err(|e| {
            // a bad chunk fails on every read: one line per file and cause a while
            if let Some(suppressed) = log_limit::allow(source, e.cause()) {
                warn!(file = %source.display(), chunk = %inner, suppressed, "read failed: {e}");
            }
            VfsError::Chunk(e)
        })
    }
}
