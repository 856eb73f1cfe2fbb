//! Contiguous data (HDF5 contiguous datasets, NetCDF-3 variables) as Zarr chunks that are
//! byte ranges of the source: no copy, no decoding.

use super::VariableError;
use crate::index::{ArrayNode, ChunkRef};

/// Chunk shape for a contiguous variable: 1 along leading dimensions, `k` along the first
/// dimension whose trailing block fits `target`, full extent after it. Every chunk is then one
/// contiguous byte range of the source.
pub fn split_contiguous(shape: &[u64], elementsize: u64, target: u64) -> Vec<u64> {
    let n = shape.len();
    for i in 0..n {
        let block = checked_bytes(&shape[i + 1..], elementsize).unwrap_or(u64::MAX);
        if block <= target || i == n - 1 {
            let k = (target / block.max(1)).clamp(1, shape[i].max(1));
            let mut chunks = vec![1; i];
            chunks.push(k);
            chunks.extend(shape[i + 1..].iter().map(|s| (*s).max(1)));
            return chunks;
        }
    }
    vec![]
}

/// Bytes of `dims` elements of `elementsize` bytes, unless that overflows.
pub fn checked_bytes(dims: &[u64], elementsize: u64) -> Option<u64> {
    dims.iter().try_fold(elementsize, |acc, d| acc.checked_mul(*d))
}

/// Most chunks one array may have (its chunk references alone would take half a GiB).
pub const MAX_GRID: u64 = 1 << 24;

/// Number of chunks of `array`'s grid, as a length; refused beyond [`MAX_GRID`] (a damaged or
/// hostile header must not make the indexer allocate without bound).
pub fn grid_len(array: &ArrayNode) -> Result<usize, VariableError> {
    let total = array.grid().iter().try_fold(1u64, |acc, g| acc.checked_mul(*g));
    match total {
        Some(n) if n <= MAX_GRID => Ok(n as usize),
        _ => Err(VariableError::GridTooLarge),
    }
}

/// One chunk reference per chunk of a C-ordered block of `array` (chunks from
/// [`split_contiguous`]) starting at byte `base`: a range, or a padded range for the last.
pub fn contiguous_refs(
    array: &ArrayNode,
    base: u64,
) -> Result<Vec<Option<ChunkRef>>, VariableError> {
    let es = array.element_size() as u64;
    let n = array.shape.len();
    let mut strides = vec![1u64; n];
    for d in (0..n.saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * array.shape[d + 1];
    }
    let split = array.chunks.iter().position(|c| *c != 1).unwrap_or(n.saturating_sub(1));
    let chunk_bytes = array.chunk_nbytes();
    let mut refs = Vec::with_capacity(grid_len(array)?);
    for pos in 0..grid_len(array)? {
        let coords = array.chunk_coords(pos as u64);
        let start: u64 = (0..n).map(|d| coords[d] * array.chunks[d] * strides[d]).sum();
        let offset = base + start * es;
        let valid = if n == 0 {
            chunk_bytes
        } else {
            let along = array.shape[split] - coords[split] * array.chunks[split];
            along.min(array.chunks[split]) * (chunk_bytes / array.chunks[split])
        };
        refs.push(Some(if valid == chunk_bytes {
            ChunkRef::Range { offset, len: valid }
        } else {
            ChunkRef::Padded { offset, len: valid, size: chunk_bytes }
        }));
    }
    Ok(refs)
}

/// Chunks of a NetCDF-3 record variable: `k` records per chunk (k from the target size), the
/// records of one chunk `recsize` apart in the file, starting at `begin`.
pub fn record_refs(
    array: &mut ArrayNode,
    begin: u64,
    recsize: u64,
    target: u64,
) -> Result<Vec<Option<ChunkRef>>, VariableError> {
    let es = array.element_size() as u64;
    let record_len = es * array.shape[1..].iter().product::<u64>();
    let numrecs = array.shape.first().copied().unwrap_or(0);
    let k = (target / record_len.max(1)).clamp(1, numrecs.max(1));
    array.chunks = std::iter::once(k).chain(array.shape[1..].iter().map(|s| (*s).max(1))).collect();
    let size = array.chunk_nbytes();
    let mut refs = Vec::with_capacity(grid_len(array)?);
    for c in 0..grid_len(array)? as u64 {
        let first = c * k;
        let count = k.min(numrecs - first);
        let offset = begin + first * recsize;
        refs.push(Some(if count == 1 && k == 1 {
            ChunkRef::Range { offset, len: record_len }
        } else {
            ChunkRef::Strided { offset, stride: recsize, len: record_len, count, size }
        }));
    }
    Ok(refs)
}

#[cfg(test)]
mod tests {
    use super::split_contiguous;

    #[test]
    fn splits_along_leading_dimensions() {
        // 10 x 100 x 100 f4 = 40 kB per row of dim 0: 2 rows per 100 kB chunk
        assert_eq!(split_contiguous(&[10, 100, 100], 4, 100_000), vec![2, 100, 100]);
        // rows bigger than the target: split the second dimension
        assert_eq!(split_contiguous(&[3, 1000, 1000], 4, 1_000_000), vec![1, 250, 1000]);
        // small arrays: one chunk
        assert_eq!(split_contiguous(&[5, 7], 8, 4 << 20), vec![5, 7]);
        assert_eq!(split_contiguous(&[], 8, 4 << 20), Vec::<u64>::new());
        assert_eq!(split_contiguous(&[0, 4], 8, 4 << 20), vec![1, 4]);
        // one element larger than the target still makes progress
        assert_eq!(split_contiguous(&[4], 8, 2), vec![1]);
    }
}
