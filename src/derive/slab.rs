//! A hyperslab of a variable of the derived view (index ranges per dimension), read chunk by
//! chunk as float64 with masked values NaN (`input.rs`).

use super::error::DeriveError;
use super::input::Array;
use crate::vfs::Vfs;
use std::ops::Range;
use std::path::Path;

/// The values of `arr` over `ranges` (C order), read chunk by chunk.
pub fn slab(
    vfs: &Vfs,
    store: &Path,
    arr: &Array,
    ranges: &[Range<u64>],
) -> Result<Vec<f64>, DeriveError> {
    let lens: Vec<u64> = ranges.iter().map(|r| r.end - r.start).collect();
    let total: u64 = lens.iter().product();
    let mut out = vec![f64::NAN; total as usize];
    if total == 0 {
        return Ok(out);
    }
    let first: Vec<u64> = ranges.iter().zip(&arr.chunks).map(|(r, c)| r.start / c).collect();
    let last: Vec<u64> = ranges.iter().zip(&arr.chunks).map(|(r, c)| (r.end - 1) / c).collect();
    let mut chunk = first.clone();
    loop {
        let values = arr.chunk(vfs, store, &chunk)?;
        // the part of this chunk inside the ranges, element by element
        let lo: Vec<u64> =
            (0..chunk.len()).map(|d| ranges[d].start.max(chunk[d] * arr.chunks[d])).collect();
        let hi: Vec<u64> =
            (0..chunk.len()).map(|d| ranges[d].end.min((chunk[d] + 1) * arr.chunks[d])).collect();
        let mut at = lo.clone();
        'elements: loop {
            let (mut src, mut dst) = (0u64, 0u64);
            for d in 0..at.len() {
                src = src * arr.chunks[d] + (at[d] - chunk[d] * arr.chunks[d]);
                dst = dst * lens[d] + (at[d] - ranges[d].start);
            }
            out[dst as usize] = values.get(src as usize).copied().unwrap_or(f64::NAN);
            for d in (0..at.len()).rev() {
                at[d] += 1;
                if at[d] < hi[d] {
                    continue 'elements;
                }
                at[d] = lo[d];
            }
            break;
        }
        // next chunk of the block
        let mut d = chunk.len();
        loop {
            if d == 0 {
                return Ok(out);
            }
            d -= 1;
            chunk[d] += 1;
            if chunk[d] <= last[d] {
                break;
            }
            chunk[d] = first[d];
        }
    }
}
