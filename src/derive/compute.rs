//! The streaming computation: every chunk of the input variable read once (decoded, masked),
//! each value added to the accumulator of its output cell; chunks shared out over a few
//! threads, each with its own accumulators, merged at the end; stopped between chunks once
//! the request is cancelled. Memory: the accumulators
//! (`accumulate::cell_bytes` per output cell and thread; the median keeps its values) plus
//! one chunk per thread.

use super::accumulate::Acc;
use super::error::DeriveError;
use super::input::Array;
use super::request::Action;
use crate::vfs::Vfs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Where each input value goes: per input dimension and index, its share of the output cell
/// (`None`: left out) and of the position along the reduced dimensions.
pub struct Plan {
    pub out_shape: Vec<u64>,
    pub out_of: Vec<Vec<Option<u64>>>,
    pub pos_of: Vec<Vec<u64>>,
}

/// The output cells of `array` under `plan`, `threads` at most.
pub fn compute(
    vfs: &Vfs,
    store: &Path,
    (array, plan): (&Array, &Plan),
    (action, threads): (Action, usize),
    cancel: &AtomicBool,
) -> Result<Vec<f64>, DeriveError> {
    let cells: u64 = plan.out_shape.iter().product();
    let grid: Vec<u64> =
        array.shape.iter().zip(&array.chunks).map(|(s, c)| s.div_ceil(*c)).collect();
    let total: u64 = grid.iter().product();
    let threads = threads.clamp(1, total.max(1) as usize);
    let results: Vec<Result<Acc, DeriveError>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let grid = &grid;
                s.spawn(move || {
                    let mut acc = Acc::new(action, cells as usize);
                    let mut row = Vec::new();
                    let mut n = t as u64;
                    while n < total {
                        if cancel.load(Ordering::Relaxed) {
                            return Err(DeriveError::Cancelled);
                        }
                        let index = unravel(n, grid);
                        let raw = array.raw(vfs, store, &index)?;
                        add_chunk(&mut acc, (array, plan), &index, (raw.as_deref(), &mut row));
                        n += threads as u64;
                    }
                    Ok(acc)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err(DeriveError::Metadata("panicked".into()))))
            .collect()
    });
    let mut all = results.into_iter();
    let mut acc = match all.next() {
        Some(first) => first?,
        None => Acc::new(action, cells as usize),
    };
    for other in all {
        acc.merge(other?);
    }
    Ok(acc.finish())
}

/// The index in `grid` of the `n`th chunk, C order.
fn unravel(mut n: u64, grid: &[u64]) -> Vec<u64> {
    let mut index = vec![0; grid.len()];
    for d in (0..grid.len()).rev() {
        index[d] = n % grid[d];
        n /= grid[d];
    }
    index
}

/// How the innermost dimension of a chunk maps to output cells.
#[derive(Clone, Copy)]
enum Run {
    /// Consecutive cells at one position (the dimension is kept).
    Cells,
    /// One cell at consecutive positions (the dimension is reduced).
    One,
    /// Anything else (grouped along it): value by value.
    Scattered,
}

/// The run of `len` values from index `from` of the innermost dimension.
fn run(plan: &Plan, last: usize, from: usize, len: usize) -> Run {
    let (outs, poss) = (&plan.out_of[last][from..from + len], &plan.pos_of[last][from..from + len]);
    let (Some(o0), p0) = (outs[0], poss[0]) else {
        return Run::Scattered;
    };
    let step = |k: u64| outs.iter().enumerate().all(|(i, o)| *o == Some(o0 + k * i as u64));
    if step(1) && poss.iter().all(|p| *p == p0) {
        Run::Cells
    } else if step(0) && poss.iter().enumerate().all(|(i, p)| *p == p0 + i as u64) {
        Run::One
    } else {
        Run::Scattered
    }
}

/// Add the values of chunk `index` (its stored bytes `raw`, a full chunk, C order) that lie
/// inside the array, decoded a row at a time into `row` (kept in the first level cache, not
/// a whole chunk's float64 values written out and read back).
fn add_chunk(
    acc: &mut Acc,
    (array, plan): (&Array, &Plan),
    index: &[u64],
    (raw, row): (Option<&[u8]>, &mut Vec<f64>),
) {
    let nd = array.shape.len();
    if nd == 0 {
        let mut one = [0.0];
        array.decode(raw, 0, &mut one);
        acc.add(0, 0, one[0]);
        return;
    }
    let origin: Vec<u64> = index.iter().zip(&array.chunks).map(|(i, c)| i * c).collect();
    let extent: Vec<u64> =
        (0..nd).map(|d| array.chunks[d].min(array.shape[d] - origin[d])).collect();
    // strides of the chunk's values
    let mut stride = vec![1u64; nd];
    for d in (0..nd - 1).rev() {
        stride[d] = stride[d + 1] * array.chunks[d + 1];
    }
    let last = nd - 1;
    let (from, len) = (origin[last] as usize, extent[last] as usize);
    let kind = run(plan, last, from, len);
    let mut at = vec![0u64; nd]; // position in the chunk of the outer dimensions
    loop {
        // the outer dimensions' share, or skip the row when one of them is left out
        let mut base = Some((0u64, 0u64, 0u64));
        for d in 0..last {
            let g = (origin[d] + at[d]) as usize;
            base = base.and_then(|(o, p, v)| {
                let out = plan.out_of[d][g]?;
                Some((o + out, p + plan.pos_of[d][g], v + at[d] * stride[d]))
            });
        }
        if let Some((o, p, v)) = base {
            row.resize(len, 0.0);
            array.decode(raw, v as usize, row);
            let row = &row[..];
            let (o0, p0) = (plan.out_of[last][from], plan.pos_of[last][from]);
            match (kind, o0) {
                (Run::Cells, Some(o0)) => acc.add_cells((o + o0) as usize, p + p0, row),
                (Run::One, Some(o0)) => acc.add_one((o + o0) as usize, p + p0, row),
                _ => {
                    let (outs, poss) = (&plan.out_of[last], &plan.pos_of[last]);
                    for (i, x) in row.iter().enumerate() {
                        if let Some(out) = outs[from + i] {
                            acc.add((o + out) as usize, p + poss[from + i], *x);
                        }
                    }
                }
            }
        }
        // next row
        let mut d = last;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            at[d] += 1;
            if at[d] < extent[d] {
                break;
            }
            at[d] = 0;
        }
    }
}
