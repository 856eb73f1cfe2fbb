//! A dataset's coordinates as the STAC facts read them: each read once through the served
//! chunk path, its min, max and first values kept ([`Stats`]), and a time coordinate's first
//! and last instants as calendar labels. Used by the bbox and time extent (`facts.rs`) and by
//! the datacube extension (`cube.rs`).

use super::cf::Var;
use super::values::ArrayReader;
use crate::cf::calendar::{Calendar, Label, TimeAxis, TimeError};
use std::collections::HashMap;
use tracing::warn;

/// Datacube `values` are listed up to this many; longer coordinates get an extent.
pub(super) const MAX_VALUES: usize = 100;

/// Min, max and the first values of a variable.
#[derive(Clone)]
pub(super) struct Stats {
    pub min: f64,
    pub max: f64,
    pub head: Vec<f64>,
    pub count: u64,
}

/// The coordinates of one dataset being read (`source` names it in logs).
pub(super) struct Ctx<'r, 'f> {
    reader: &'r ArrayReader<'f>,
    source: &'r str,
    stats: HashMap<String, Option<Stats>>,
}

impl Stats {
    fn add(&mut self, x: f64) {
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        if self.head.len() <= MAX_VALUES {
            self.head.push(x);
        }
        self.count += 1;
    }
}

impl<'r, 'f> Ctx<'r, 'f> {
    pub(super) fn new(reader: &'r ArrayReader<'f>, source: &'r str) -> Self {
        Ctx { reader, source, stats: HashMap::new() }
    }

    /// Call `f` with every valid value of `v`. Its [`Stats`] are kept as a by-product, so a
    /// coordinate used for the bbox and for the datacube is read once.
    pub(super) fn visit(&mut self, v: &Var<'_>, f: &mut dyn FnMut(f64)) -> bool {
        let mut s = Stats { min: f64::INFINITY, max: f64::NEG_INFINITY, head: vec![], count: 0 };
        let ok = match self.reader.visit(v.node, &mut |_, x| {
            s.add(x);
            f(x)
        }) {
            Ok(()) => true,
            Err(e) => {
                warn!(file = self.source, variable = %v.key(), "STAC: coordinate not read: {e}");
                false
            }
        };
        self.stats.entry(v.key()).or_insert((ok && s.count > 0).then_some(s));
        ok
    }

    pub(super) fn stats(&mut self, v: &Var<'_>) -> Option<Stats> {
        if !self.stats.contains_key(&v.key()) {
            self.visit(v, &mut |_| {});
        }
        self.stats.get(&v.key()).cloned().flatten()
    }
}

fn time_axis(v: &Var<'_>) -> Result<TimeAxis, TimeError> {
    let calendar = Calendar::parse(v.attr("calendar"))?;
    TimeAxis::parse(v.attr("units").unwrap_or(""), calendar)
}

/// The labels of the first and last instant of `v` (and its bounds).
pub(super) fn label_range(
    v: &Var<'_>,
    all: &[Var<'_>],
    ctx: &mut Ctx<'_, '_>,
) -> Option<(Label, Label, TimeAxis)> {
    let axis = match time_axis(v) {
        Ok(axis) => axis,
        Err(e) => {
            warn!(file = ctx.source, variable = %v.key(), "STAC: time not used: {e}");
            return None;
        }
    };
    let mut range: Option<(Label, Label)> = None;
    for var in std::iter::once(v.clone()).chain(v.bounds(all)) {
        if let Some(s) = ctx.stats(&var) {
            for x in [s.min, s.max] {
                if let Some(l) = axis.label(x) {
                    range = Some(match range {
                        Some((lo, hi)) => (lo.min(l), hi.max(l)),
                        None => (l, l),
                    });
                }
            }
        }
    }
    range.map(|(lo, hi)| (lo, hi, axis))
}
