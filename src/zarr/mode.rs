//! Chunk modes: `raw` serves stored compressed chunks as they are (zero-copy, compact, right for
//! rsync/rclone export); `decoded` serves every chunk uncompressed, decoded in the daemon, so
//! that local readers skip their own (slow) zlib decode. Decoded chunk sizes are exact without
//! decoding: a full chunk of the dtype.

use crate::index::{ArrayNode, ChunkRef, DatasetIndex, GroupNode, SourceFilter, StorageKind};

/// How chunk files are served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChunkMode {
    #[default]
    Raw,
    Decoded,
}

/// The index as served in `mode` (the persisted index is always the raw one).
pub fn apply(mode: ChunkMode, mut index: DatasetIndex) -> DatasetIndex {
    if mode == ChunkMode::Decoded {
        decode_group(&mut index.root);
    }
    index
}

fn decode_group(g: &mut GroupNode) {
    g.arrays.iter_mut().for_each(decode_array);
    g.groups.iter_mut().for_each(decode_group);
}

fn decode_array(a: &mut ArrayNode) {
    if a.storage != StorageKind::ChunkedPassThrough
        || (a.compressor.is_none() && a.filters.is_empty())
    {
        return;
    }
    let trailer = if a.source_filters.contains(&SourceFilter::Fletcher32) { 4 } else { 0 };
    let size = a.chunk_nbytes();
    for slot in a.chunk_refs.iter_mut().flatten() {
        *slot = match *slot {
            // decode the whole stored chunk, checksum included (it is verified)
            ChunkRef::Range { offset, len } => {
                ChunkRef::Reencode { offset, len: len + trailer, mask: 0, size }
            }
            ChunkRef::Reencode { offset, len, mask, .. } => {
                ChunkRef::Reencode { offset, len, mask, size }
            }
            ChunkRef::Fill { .. } => ChunkRef::Fill { size },
            ref other => other.clone(),
        };
    }
    if a.fill_chunk.is_some() {
        a.fill_chunk = Some(a.fill_element.repeat(a.chunks.iter().product::<u64>() as usize));
    }
    a.filters.clear();
    a.compressor = None;
    a.storage = StorageKind::ChunkedDecoded;
}
