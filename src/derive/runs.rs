//! Whole runs of a chunk's row added to the accumulators at once, one loop per action (the
//! action is matched once a run, not once a value): a run along a kept dimension goes to
//! consecutive output cells at one position (a groupby or reduction over the outer
//! dimensions: the common case, vectorised), a run along a reduced dimension to one cell at
//! consecutive positions. A run without NaN takes loops without the skip; one with NaN goes
//! value by value (`Acc::add`). The results are those of adding the values one by one.

use super::accumulate::{neumaier, Acc};
use super::request::Action;

impl Acc {
    /// Add `values[i]` to cell `c0 + i`, all at position `pos`.
    pub fn add_cells(&mut self, c0: usize, pos: u64, values: &[f64]) {
        if any_nan(values) {
            for (i, v) in values.iter().enumerate() {
                self.add(c0 + i, pos, *v);
            }
            return;
        }
        let cells = c0..c0 + values.len();
        let count = &mut self.count[cells.clone()];
        count.iter_mut().for_each(|n| *n += 1);
        match self.action {
            Action::Count => {}
            Action::Mean | Action::Sum => {
                let (a, b) = (&mut self.a[cells.clone()], &mut self.b[cells]);
                for ((s, c), v) in a.iter_mut().zip(b.iter_mut()).zip(values) {
                    neumaier(s, c, *v);
                }
            }
            Action::Std | Action::Var => {
                let (a, b) = (&mut self.a[cells.clone()], &mut self.b[cells]);
                for (((m, m2), n), v) in
                    a.iter_mut().zip(b.iter_mut()).zip(count.iter()).zip(values)
                {
                    let d = v - *m;
                    *m += d / *n as f64;
                    *m2 += d * (v - *m);
                }
            }
            Action::Min => {
                let a = &mut self.a[cells];
                for ((m, n), v) in a.iter_mut().zip(count.iter()).zip(values) {
                    *m = if *n == 1 || *v < *m { *v } else { *m };
                }
            }
            Action::Max => {
                let a = &mut self.a[cells];
                for ((m, n), v) in a.iter_mut().zip(count.iter()).zip(values) {
                    *m = if *n == 1 || *v > *m { *v } else { *m };
                }
            }
            Action::First | Action::Last => {
                let first = self.action == Action::First;
                let (a, p) = (&mut self.a[cells.clone()], &mut self.pos[cells]);
                for (((x, at), n), v) in
                    a.iter_mut().zip(p.iter_mut()).zip(count.iter()).zip(values)
                {
                    if *n == 1 || (first && pos < *at) || (!first && pos > *at) {
                        (*x, *at) = (*v, pos);
                    }
                }
            }
            Action::Median => {
                for (kept, v) in self.values[cells].iter_mut().zip(values) {
                    kept.push(*v);
                }
            }
        }
    }

    /// Add `values[i]` at position `pos0 + i` to cell `c`.
    pub fn add_one(&mut self, c: usize, pos0: u64, values: &[f64]) {
        let simple = matches!(self.action, Action::Count | Action::Mean | Action::Sum);
        if !simple || any_nan(values) {
            for (i, v) in values.iter().enumerate() {
                self.add(c, pos0 + i as u64, *v);
            }
            return;
        }
        self.count[c] += values.len() as u64;
        if self.action != Action::Count {
            // the run's own compensated sum, then added to the cell's
            let (mut s, mut comp) = (0.0, 0.0);
            values.iter().for_each(|v| neumaier(&mut s, &mut comp, *v));
            neumaier(&mut self.a[c], &mut self.b[c], s);
            neumaier(&mut self.a[c], &mut self.b[c], comp);
        }
    }
}

/// Whether `values` holds a NaN: every value looked at (no early exit, so vectorised).
#[inline]
fn any_nan(values: &[f64]) -> bool {
    values.iter().fold(false, |seen, v| seen | v.is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action, by runs and value by value, gives the same bits.
    #[test]
    fn runs_equal_values_one_by_one() {
        use Action::*;
        let rows: Vec<Vec<f64>> = (0..7)
            .map(|r| (0..5).map(|i| ((r * 5 + i) as f64 * 0.37).sin() * 1e3 + r as f64).collect())
            .collect();
        let mut with_nan = rows.clone();
        with_nan[2][3] = f64::NAN;
        with_nan[4][0] = f64::NAN;
        for action in [Mean, Sum, Count, Std, Var, Min, Max, First, Last, Median] {
            for rows in [&rows, &with_nan] {
                let (mut cells, mut one, mut each, mut each_one) = (
                    Acc::new(action, 6),
                    Acc::new(action, 2),
                    Acc::new(action, 6),
                    Acc::new(action, 2),
                );
                for (r, row) in rows.iter().enumerate() {
                    // rows backwards: positions, not order, say which is first
                    let p = (rows.len() - 1 - r) as u64;
                    cells.add_cells(1, p, row);
                    one.add_one(r % 2, p * 5, row);
                    for (i, v) in row.iter().enumerate() {
                        each.add(1 + i, p, *v);
                        each_one.add(r % 2, p * 5 + i as u64, *v);
                    }
                }
                let bits = |v: Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(cells.finish()), bits(each.finish()), "{action:?} cells");
                let (one, each_one) = (one.finish(), each_one.finish());
                for (x, y) in one.iter().zip(&each_one) {
                    assert!((x - y).abs() <= 1e-15 * y.abs(), "{action:?} one: {x} {y}");
                }
            }
        }
    }
}
