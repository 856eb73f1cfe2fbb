//! A member's array read whole, decoded, through the chunk path the mount serves (the time
//! coordinate, and variables compared between members).

use super::error::JoinError;
use crate::index::{ArrayNode, ChunkRef};
use crate::zarr::chunk::cache::ChunkCache;
use crate::zarr::chunk::{read_chunk, ChunkSource, LibraryChunks};
use crate::zarr::mode;
use std::fs::File;

/// Every element of `array` in row-major order, in its dtype's byte order (unwritten chunks as
/// the fill element).
/// `cache`: a cache of no capacity (nothing is kept), made once for all the reads of a join.
pub fn whole_array(
    (file, library): (&File, Option<&dyn LibraryChunks>),
    cache: &ChunkCache,
    array: &ArrayNode,
    max_bytes: u64,
) -> Result<Vec<u8>, JoinError> {
    let es = array.element_size().max(1);
    let count: u64 = array.shape.iter().product();
    let bytes = count.saturating_mul(es as u64);
    if bytes > max_bytes {
        return Err(JoinError::TooLarge(bytes));
    }
    let decoded = mode::decoded(array);
    let mut out = array.fill_element.repeat(count as usize);
    if out.len() != bytes as usize {
        out.resize(bytes as usize, 0);
    }
    let rank = decoded.shape.len();
    for (pos, chunk) in decoded.chunk_refs.iter().enumerate() {
        let Some(chunk) = chunk else { continue };
        let src = ChunkSource { file, cache, key: (0, 0, pos), library, joined: None };
        let data = read_chunk(&src, &decoded, chunk, 0, chunk.size() as usize)?;
        if rank == 0 {
            let n = es.min(data.len()).min(out.len());
            out[..n].copy_from_slice(&data[..n]);
            continue;
        }
        let coords = decoded.chunk_coords(pos as u64);
        copy_chunk(&mut out, &data, &decoded.shape, &decoded.chunks, &coords, es);
    }
    Ok(out)
}

/// The stored bytes of every chunk of `array`, one after another, when each is a byte range
/// of `file` or held in the index (`None` otherwise, or when a read fails): equal stored
/// bytes under equal filters are equal values, without decoding anything.
pub fn stored_bytes(file: &File, array: &ArrayNode, max_bytes: u64) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut out = Vec::new();
    for r in &array.chunk_refs {
        match r {
            None => out.push(0xff), // a marker: an unwritten chunk is not an empty one
            Some(ChunkRef::Range { offset, len }) => {
                if out.len() as u64 + len > max_bytes {
                    return None;
                }
                let at = out.len();
                out.resize(at + *len as usize, 0);
                file.read_exact_at(&mut out[at..], *offset).ok()?;
            }
            Some(ChunkRef::Inline { bytes }) => out.extend_from_slice(bytes),
            Some(_) => return None,
        }
    }
    Some(out)
}

/// Copy the rows of one chunk (`data`, full chunk shape) into the whole array `out`.
fn copy_chunk(
    out: &mut [u8],
    data: &[u8],
    shape: &[u64],
    chunks: &[u64],
    coords: &[u64],
    es: usize,
) {
    let rank = shape.len();
    let last = rank - 1;
    let start: Vec<u64> = coords.iter().zip(chunks).map(|(c, n)| c * n).collect();
    let row_len = chunks[last].min(shape[last].saturating_sub(start[last])) as usize;
    let rows: u64 = chunks[..last].iter().product();
    let mut within = vec![0u64; last];
    for r in 0..rows {
        let inside = (0..last).all(|k| start[k] + within[k] < shape[k]);
        if inside {
            let mut at: u64 = 0;
            for k in 0..last {
                at = at * shape[k] + start[k] + within[k];
            }
            at = at * shape[last] + start[last];
            let from = r as usize * chunks[last] as usize * es;
            let (to, n) = (at as usize * es, row_len * es);
            if let (Some(dst), Some(src)) = (out.get_mut(to..to + n), data.get(from..from + n)) {
                dst.copy_from_slice(src);
            }
        }
        for k in (0..last).rev() {
            within[k] += 1;
            if within[k] < chunks[k] {
                break;
            }
            within[k] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::copy_chunk;

    #[test]
    fn chunks_land_where_they_belong_edges_cut() {
        // a 3 x 5 array of u8 in chunks of 2 x 2: chunk (1, 2) holds element (2, 4) only
        let mut out = vec![0u8; 15];
        copy_chunk(&mut out, &[7, 8, 9, 10], &[3, 5], &[2, 2], &[1, 2], 1);
        assert_eq!(out[14], 7);
        assert_eq!(out.iter().filter(|b| **b != 0).count(), 1);
        copy_chunk(&mut out, &[1, 2, 3, 4], &[3, 5], &[2, 2], &[0, 1], 1);
        assert_eq!(&out[2..4], &[1, 2]);
        assert_eq!(&out[7..9], &[3, 4]);
    }
}
