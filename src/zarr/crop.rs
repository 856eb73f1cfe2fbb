//! Chunks no larger than the array. HDF5 keeps a chunk's declared shape when the array is
//! smaller (netCDF-4 gives an unlimited dimension a chunk of 512 or 1024 over, say, 12 time
//! steps); Zarr allows it, but netCDF-C's NCZarr (`ncdump "file://…#mode=zarr,file"`, and so
//! CDO and Fortran models reading Zarr) refuses such an array. Where a chunk is larger than the
//! array along a dimension (it spans it whole), the served chunk is the array's extent there:
//!
//! - uncompressed chunks whose cropped bytes are a prefix of the stored ones (every dimension
//!   before the first cropped one has chunk 1, none after it is cropped: a 1-D time, or a
//!   record dimension first) stay pass-through, as that prefix;
//! - any other chunk is decoded, cropped and served uncompressed; the array's
//!   `stored_chunks` tells the chunk path the shape to decode before cropping.
//!
//! Left as they are: strings (chunks of no fixed size), and a collection's arrays whose chunks
//! are assembled from or passed through from several members.

use crate::index::{ArrayNode, ChunkFiles, ChunkRef, GroupNode, SourceFilter, StorageKind};

/// Crop the chunks of every array of `g` (and below) that are larger than the array.
pub fn crop_group(g: &mut GroupNode) {
    g.arrays.iter_mut().for_each(crop_array);
    g.groups.iter_mut().for_each(crop_group);
}

/// The chunk shape `a` is served with: never larger than the array (a dimension of length 0
/// keeps its chunk, Zarr wants chunks of at least 1).
fn cropped_shape(a: &ArrayNode) -> Vec<u64> {
    a.chunks.iter().zip(&a.shape).map(|(c, s)| if *s > 0 && c > s { *s } else { *c }).collect()
}

/// True when the C-order block `to` (inside `from`, same corner) is a prefix of `from`'s bytes.
fn is_prefix(from: &[u64], to: &[u64]) -> bool {
    let Some(k) = from.iter().zip(to).position(|(f, t)| t < f) else { return true };
    to[..k].iter().all(|t| *t == 1) && from[k + 1..] == to[k + 1..]
}

fn crop_array(a: &mut ArrayNode) {
    let new = cropped_shape(a);
    if new == a.chunks {
        return;
    }
    let several_files = matches!(a.files, ChunkFiles::AlongDim { .. });
    let fixed_size = !matches!(a.storage, StorageKind::Strings | StorageKind::Joined);
    if several_files || !fixed_size || a.element_size() == 0 {
        return;
    }
    let es = a.element_size() as u64;
    let size = new.iter().product::<u64>() * es;
    let old = a.chunks.clone();
    if a.codecs.is_empty() && is_prefix(&old, &new) {
        let mut decodes = false;
        for slot in a.chunk_refs.iter_mut().flatten() {
            *slot = match std::mem::replace(slot, ChunkRef::Fill { size: 0 }) {
                ChunkRef::Range { offset, .. } => ChunkRef::Range { offset, len: size },
                ChunkRef::Padded { offset, len, .. } => {
                    ChunkRef::Padded { offset, len: len.min(size), size }
                }
                ChunkRef::Strided { offset, stride, len, count, .. } => {
                    ChunkRef::Strided { offset, stride, len, count, size }
                }
                ChunkRef::Inline { mut bytes } => {
                    bytes.truncate(size as usize);
                    ChunkRef::Inline { bytes }
                }
                ChunkRef::Reencode { offset, len, mask, .. } => {
                    decodes = true;
                    ChunkRef::Reencode { offset, len, mask, size }
                }
                ChunkRef::Fill { .. } => ChunkRef::Fill { size },
                ChunkRef::Library { .. } => ChunkRef::Library { size },
                other => other,
            };
        }
        if let Some(f) = &mut a.fill_chunk {
            f.truncate(size as usize);
        }
        a.stored_chunks = decodes.then(|| old.clone());
        a.chunks = new;
        return;
    }
    // decoded: only chunks the chunk path can decode whole (contiguous pieces are cut by this
    // project no larger than the array; an inline chunk is cropped here)
    let decodable = a.chunk_refs.iter().flatten().all(|r| match r {
        ChunkRef::Range { .. } | ChunkRef::Reencode { .. } => true,
        ChunkRef::Fill { .. } | ChunkRef::Library { .. } => true,
        ChunkRef::Inline { .. } => a.codecs.is_empty(),
        _ => false,
    });
    if !decodable {
        return;
    }
    let trailer = if a.source_filters.contains(&SourceFilter::Fletcher32) { 4 } else { 0 };
    for slot in a.chunk_refs.iter_mut().flatten() {
        *slot = match std::mem::replace(slot, ChunkRef::Fill { size: 0 }) {
            // the whole stored chunk, checksum included (verified when decoded)
            ChunkRef::Range { offset, len } => {
                ChunkRef::Reencode { offset, len: len + trailer, mask: 0, size }
            }
            ChunkRef::Reencode { offset, len, mask, .. } => {
                ChunkRef::Reencode { offset, len, mask, size }
            }
            ChunkRef::Inline { bytes } => ChunkRef::Inline { bytes: crop(&bytes, &old, &new, es) },
            // libhdf5 reads the served chunk's hyperslab: nothing to crop
            ChunkRef::Library { .. } => ChunkRef::Library { size },
            _ => ChunkRef::Fill { size },
        };
    }
    if a.fill_chunk.is_some() {
        a.fill_chunk = Some(a.fill_element.repeat((size / es.max(1)) as usize));
    }
    if a.storage == StorageKind::ChunkedPassThrough {
        a.storage = StorageKind::ChunkedDecoded;
    }
    a.codecs.clear();
    a.stored_chunks = Some(old);
    a.chunks = new;
}

/// The C-order block of shape `to` at the corner of a block of shape `from` (elements of `es`
/// bytes): the bytes of a cropped chunk.
pub fn crop(raw: &[u8], from: &[u64], to: &[u64], es: u64) -> Vec<u8> {
    let total: u64 = to.iter().product::<u64>() * es;
    let mut out = Vec::with_capacity(total as usize);
    let Some((&row, outer)) = to.split_last() else {
        out.extend_from_slice(&raw[..(es as usize).min(raw.len())]);
        return out;
    };
    let row_bytes = (row * es) as usize;
    // strides of `from` in bytes
    let mut strides = vec![es; from.len()];
    for d in (0..from.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * from[d + 1];
    }
    let rows: u64 = outer.iter().product();
    let mut idx = vec![0u64; outer.len()];
    for _ in 0..rows {
        let at: u64 = idx.iter().zip(&strides).map(|(i, s)| i * s).sum();
        let at = at as usize;
        out.extend_from_slice(raw.get(at..at + row_bytes).unwrap_or(&[]));
        for d in (0..idx.len()).rev() {
            idx[d] += 1;
            if idx[d] < outer[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_rule() {
        assert!(is_prefix(&[512], &[12]));
        assert!(is_prefix(&[512, 4, 5], &[12, 4, 5]));
        assert!(is_prefix(&[1, 1, 100], &[1, 1, 30]));
        assert!(!is_prefix(&[4, 512], &[4, 300]));
        assert!(!is_prefix(&[512, 10], &[12, 5]));
    }

    #[test]
    fn crop_takes_the_corner_block() {
        // 3 x 4 of u8, cropped to 2 x 3
        let raw: Vec<u8> = (0..12).collect();
        assert_eq!(crop(&raw, &[3, 4], &[2, 3], 1), vec![0, 1, 2, 4, 5, 6]);
        // 2 x 2 x 2 of u16, cropped to 1 x 2 x 1
        let raw: Vec<u8> = (0..16).collect();
        assert_eq!(crop(&raw, &[2, 2, 2], &[1, 2, 1], 2), vec![0, 1, 4, 5]);
        assert_eq!(crop(&raw, &[8], &[3], 2), vec![0, 1, 2, 3, 4, 5]);
    }
}
