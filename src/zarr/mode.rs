//! Chunk modes: `raw` serves stored compressed chunks as they are (zero-copy, compact, right for
//! rsync/rclone export); `decoded` serves every chunk uncompressed, decoded in the daemon, so
//! that local readers skip their own (slow) zlib decode. Decoded chunk sizes are exact without
//! decoding: a full chunk of the dtype. In decoded mode source chunks are also stacked along
//! the first dimension up to a target size: readers such as dask pay per chunk, and decoded
//! chunks need not follow the source's.

use crate::index::{
    ArrayNode, ChunkFiles, ChunkRef, DatasetIndex, GroupNode, SourceFilter, StorageKind,
};

/// How chunk files are served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChunkMode {
    #[default]
    Raw,
    Decoded,
    /// Decoded, and CF-packed variables served unpacked (`--unpack`: `super::unpack`).
    Unpacked,
}

/// The index as served in `mode` (the persisted index is always the raw one), chunks larger
/// than their array cropped to it in either mode (`zarr::crop`).
pub fn apply(mode: ChunkMode, mut index: DatasetIndex, merge_target: u64) -> DatasetIndex {
    super::crop::crop_group(&mut index.root);
    if mode != ChunkMode::Raw {
        decode_group(&mut index.root, merge_target, mode == ChunkMode::Unpacked);
    }
    if mode == ChunkMode::Unpacked {
        super::unpack::unpack_group(&mut index.root);
    }
    index
}

/// `unpack`: arrays served unpacked are stacked to the target in their served (wider) type.
fn decode_group(g: &mut GroupNode, merge_target: u64, unpack: bool) {
    for a in &mut g.arrays {
        decode_array(a);
        let wider = if unpack { super::unpack::served_size(a) } else { None };
        let ratio = wider.map_or(1, |w| (w / a.element_size().max(1)).max(1) as u64);
        merge_array(a, merge_target / ratio);
    }
    g.groups.iter_mut().for_each(|sub| decode_group(sub, merge_target, unpack));
}

/// `a` as served in decoded mode, without stacking: every chunk uncompressed, in `a.dtype`.
pub fn decoded(a: &ArrayNode) -> ArrayNode {
    let mut a = a.clone();
    decode_array(&mut a);
    a
}

fn decode_array(a: &mut ArrayNode) {
    if a.storage != StorageKind::ChunkedPassThrough || a.codecs.is_empty() {
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
    a.codecs.clear();
    a.storage = StorageKind::ChunkedDecoded;
}

/// Stack `k` chunks along dimension 0 into one (decoded, uncompressed chunked arrays only).
fn merge_array(a: &mut ArrayNode, target: u64) {
    let uncompressed_chunks = a.storage == StorageKind::ChunkedPassThrough && a.codecs.is_empty();
    // a stacked chunk is read from one file: chunks of several members are not stacked
    let one_file = !matches!(a.files, ChunkFiles::AlongDim { .. });
    let mergeable = one_file && (a.storage == StorageKind::ChunkedDecoded || uncompressed_chunks);
    let part = a.chunk_nbytes();
    if !mergeable || a.shape.is_empty() || part == 0 {
        return;
    }
    let old_grid = a.grid();
    let k = (target / part).clamp(1, old_grid[0].max(1));
    if k <= 1 {
        return;
    }
    let old = std::mem::take(&mut a.chunk_refs);
    let part_ref = |pos: u64| -> Option<ChunkRef> {
        match old.get(usize::try_from(pos).ok()?)?.clone()? {
            ChunkRef::Fill { .. } => None, // the fill element, generated on read
            other => Some(other),
        }
    };
    // never more rows than the array (netCDF-C's NCZarr refuses a chunk larger than its
    // array): when every chunk along dimension 0 is stacked into one, it ends with the array,
    // its bytes a prefix of the parts' (dimension 0 is the outermost)
    let rows = (a.chunks[0] * k).min(a.shape[0]);
    let size = part / a.chunks[0].max(1) * rows;
    a.chunks[0] = rows;
    a.fill_chunk = None;
    let rest: u64 = old_grid[1..].iter().product();
    let total: u64 = a.grid().iter().product();
    a.chunk_refs = (0..total)
        .map(|pos| {
            let (c0, inner) = (pos / rest.max(1), pos % rest.max(1));
            let parts: Vec<Option<ChunkRef>> = (c0 * k..c0 * k + k)
                .map(|r| if r < old_grid[0] { part_ref(r * rest + inner) } else { None })
                .collect();
            Some(ChunkRef::Merged { parts, part, size })
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Codec, Dtype, ElementKind};

    fn array(shape: Vec<u64>, chunks: Vec<u64>) -> ArrayNode {
        let grid: u64 = shape.iter().zip(&chunks).map(|(s, c)| s.div_ceil(*c)).product();
        ArrayNode {
            name: "a".into(),
            dtype: Dtype::le(ElementKind::Float, 4),
            shape,
            chunks,
            dims: vec![],
            fill_value: None,
            attrs: vec![],
            codecs: vec![Codec::Deflate { level: 4 }],
            storage: StorageKind::ChunkedPassThrough,
            source_filters: vec![SourceFilter::Deflate { level: 4 }],
            fill_element: vec![0; 4],
            chunk_refs: (0..grid)
                .map(|i| Some(ChunkRef::Range { offset: i * 100, len: 50 }))
                .collect(),
            fill_chunk: None,
            library_path: None,
            files: ChunkFiles::Own,
            joined: None,
            stored_chunks: None,
            compound: None,
            unpacking: None,
        }
    }

    #[test]
    fn decoded_chunks_are_stacked_along_the_first_dimension() {
        // 10 x 4 chunks of (1, 2, 8) f4 = 64 bytes; target 192 bytes: 3 per chunk
        let mut a = array(vec![10, 8, 8], vec![1, 2, 8]);
        a.chunk_refs[5] = None; // unallocated: (1, 1)
        decode_array(&mut a);
        merge_array(&mut a, 192);
        assert_eq!(a.chunks, vec![3, 2, 8]);
        assert_eq!(a.grid(), vec![4, 4, 1]);
        let Some(ChunkRef::Merged { parts, part, size }) = &a.chunk_refs[1] else { panic!() };
        assert_eq!((*part, *size, parts.len()), (64, 192, 3));
        // merged chunk (0, 1) holds source chunks (0, 1), (1, 1) [unallocated], (2, 1)
        assert!(matches!(parts[0], Some(ChunkRef::Reencode { offset: 100, .. })));
        assert!(parts[1].is_none());
        assert!(matches!(parts[2], Some(ChunkRef::Reencode { offset: 900, .. })));
        // the last merged chunk runs past the source grid: fill
        let Some(ChunkRef::Merged { parts, .. }) = &a.chunk_refs[12] else { panic!() };
        assert!(parts[0].is_some() && parts[1].is_none() && parts[2].is_none());
    }

    #[test]
    fn a_stack_of_every_chunk_ends_with_the_array() {
        // 10 rows in chunks of 4 (f4, 8 x 8): all three stacked are 10 rows, not 12
        let mut a = array(vec![10, 8, 8], vec![4, 8, 8]);
        decode_array(&mut a);
        merge_array(&mut a, 1 << 20);
        assert_eq!(a.chunks, vec![10, 8, 8]);
        let Some(ChunkRef::Merged { parts, part, size }) = &a.chunk_refs[0] else { panic!() };
        assert_eq!((parts.len(), *part, *size), (3, 4 * 64 * 4, 10 * 64 * 4));
    }
}
