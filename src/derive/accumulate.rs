//! Per output cell accumulators of every action, fed one value at a time in any order (a
//! value's position along the reduced dimensions says which is first and last) and merged
//! across threads. Sums are compensated (Neumaier) and variances are Welford's, in float64:
//! the results are float64-exact to far better than 1e-12 relative, whatever the order.
//! NaN values are skipped, as xarray's default `skipna` does for floats. Whole runs of a
//! chunk's row are added by the specialised loops of `runs.rs`.

use super::request::Action;

/// The accumulators of every output cell for one action.
pub struct Acc {
    pub(super) action: Action,
    pub(super) count: Vec<u64>,
    /// sum, mean, extreme, or the value kept (first/last)
    pub(super) a: Vec<f64>,
    /// compensation of the sum, or M2 of the variance
    pub(super) b: Vec<f64>,
    /// position of the value kept (first/last)
    pub(super) pos: Vec<u64>,
    /// every value (median)
    pub(super) values: Vec<Vec<f64>>,
}

/// Bytes an accumulator needs per output cell (beyond the values the median keeps).
pub fn cell_bytes(action: Action) -> u64 {
    match action {
        Action::Count => 8,
        Action::Min | Action::Max => 16,
        // a count and the header of the values kept
        Action::Median => 32,
        _ => 24,
    }
}

impl Acc {
    pub fn new(action: Action, cells: usize) -> Acc {
        let with = |on: bool, v: f64| if on { filled(cells, v) } else { Vec::new() };
        let uses_a = action != Action::Count && action != Action::Median;
        let uses_b = matches!(action, Action::Mean | Action::Sum | Action::Std | Action::Var);
        let first_last = matches!(action, Action::First | Action::Last);
        Acc {
            action,
            count: filled(cells, 0),
            a: with(uses_a, 0.0),
            b: with(uses_b, 0.0),
            pos: if first_last { filled(cells, 0) } else { Vec::new() },
            values: if action == Action::Median { vec![Vec::new(); cells] } else { Vec::new() },
        }
    }

    /// Add value `v` at position `pos` (along the reduced dimensions) to cell `c`.
    #[inline(always)]
    pub fn add(&mut self, c: usize, pos: u64, v: f64) {
        if v.is_nan() {
            return;
        }
        let n = self.count[c] + 1;
        self.count[c] = n;
        match self.action {
            Action::Mean | Action::Sum => neumaier(&mut self.a[c], &mut self.b[c], v),
            Action::Std | Action::Var => {
                let d = v - self.a[c];
                self.a[c] += d / n as f64;
                self.b[c] += d * (v - self.a[c]);
            }
            Action::Min => {
                if n == 1 || v < self.a[c] {
                    self.a[c] = v
                }
            }
            Action::Max => {
                if n == 1 || v > self.a[c] {
                    self.a[c] = v
                }
            }
            Action::First => {
                if n == 1 || pos < self.pos[c] {
                    (self.a[c], self.pos[c]) = (v, pos)
                }
            }
            Action::Last => {
                if n == 1 || pos > self.pos[c] {
                    (self.a[c], self.pos[c]) = (v, pos)
                }
            }
            Action::Median => self.values[c].push(v),
            Action::Count => {}
        }
    }

    /// Fold `other` (the same action and cells) into this one.
    pub fn merge(&mut self, mut other: Acc) {
        for c in 0..self.count.len() {
            let (na, nb) = (self.count[c], other.count[c]);
            if nb == 0 {
                continue;
            }
            let n = na + nb;
            match self.action {
                Action::Mean | Action::Sum => {
                    neumaier(&mut self.a[c], &mut self.b[c], other.a[c]);
                    neumaier(&mut self.a[c], &mut self.b[c], other.b[c]);
                }
                Action::Std | Action::Var => {
                    let d = other.a[c] - self.a[c];
                    self.a[c] += d * nb as f64 / n as f64;
                    self.b[c] += other.b[c] + d * d * (na as f64 * nb as f64 / n as f64);
                }
                Action::Min | Action::Max | Action::First | Action::Last => {
                    let better = na == 0
                        || match self.action {
                            Action::Min => other.a[c] < self.a[c],
                            Action::Max => other.a[c] > self.a[c],
                            Action::First => other.pos[c] < self.pos[c],
                            _ => other.pos[c] > self.pos[c],
                        };
                    if better {
                        self.a[c] = other.a[c];
                        if !self.pos.is_empty() {
                            self.pos[c] = other.pos[c];
                        }
                    }
                }
                Action::Median => {
                    let v = std::mem::take(&mut other.values[c]);
                    self.values[c].extend(v);
                }
                Action::Count => {}
            }
            self.count[c] = n;
        }
    }

    /// The result of every cell (NaN where a cell saw no value; sums of nothing are 0).
    pub fn finish(mut self) -> Vec<f64> {
        let cells = self.count.len();
        (0..cells)
            .map(|c| {
                let n = self.count[c];
                match self.action {
                    Action::Count => n as f64,
                    Action::Sum => self.a[c] + self.b[c],
                    _ if n == 0 => f64::NAN,
                    Action::Mean => (self.a[c] + self.b[c]) / n as f64,
                    Action::Var => self.b[c] / n as f64,
                    Action::Std => (self.b[c] / n as f64).sqrt(),
                    Action::Median => median(&mut self.values[c]),
                    _ => self.a[c],
                }
            })
            .collect()
    }
}

/// `n` copies of `v`, written now: not `vec![0; n]`, whose untouched zero pages would fault
/// twice each later (a read maps the shared zero page, the write copies it and flushes the
/// other threads' TLBs), which on this kind of VM costs more than the computation.
fn filled<T: Copy>(n: usize, v: T) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    out.resize(n, v);
    out
}

/// Add `v` to the compensated sum (`sum`, `comp`): the rounding error of `sum + v`, exactly
/// (Knuth's branch-free TwoSum; the same error Neumaier's branch picks), goes to `comp`.
#[inline(always)]
pub(super) fn neumaier(sum: &mut f64, comp: &mut f64, v: f64) {
    let t = *sum + v;
    let back = t - *sum;
    *comp += (*sum - (t - back)) + (v - back);
    *sum = t;
}

/// The median of `v` (not empty), the mean of the two middle values when their number is even.
fn median(v: &mut [f64]) -> f64 {
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if v.len() % 2 == 1 {
        return m;
    }
    let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    lower + (m - lower) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(action: Action, values: &[f64]) -> f64 {
        // two halves merged, the second half first: order must not matter
        let (x, y) = values.split_at(values.len() / 2);
        let (mut a, mut b) = (Acc::new(action, 1), Acc::new(action, 1));
        y.iter().enumerate().for_each(|(i, v)| b.add(0, (x.len() + i) as u64, *v));
        x.iter().enumerate().for_each(|(i, v)| a.add(0, i as u64, *v));
        b.merge(a);
        b.finish()[0]
    }

    #[test]
    fn actions_skip_nan_and_merge() {
        let v = [4.0, f64::NAN, 1.0, 3.0, 2.0, f64::NAN];
        assert_eq!(run(Action::Mean, &v), 2.5);
        assert_eq!(run(Action::Sum, &v), 10.0);
        assert_eq!(run(Action::Count, &v), 4.0);
        assert_eq!(run(Action::Var, &v), 1.25);
        assert_eq!(run(Action::Std, &v), 1.25f64.sqrt());
        assert_eq!(run(Action::Median, &v), 2.5);
        assert_eq!(run(Action::Median, &v[..4]), 3.0);
        assert_eq!((run(Action::Min, &v), run(Action::Max, &v)), (1.0, 4.0));
        assert_eq!((run(Action::First, &v), run(Action::Last, &v)), (4.0, 2.0));
        assert!(run(Action::Mean, &[f64::NAN, f64::NAN]).is_nan());
        assert_eq!(run(Action::Sum, &[f64::NAN, f64::NAN]), 0.0);
    }
}
