//! The order of members joined along a dimension other than time: by the values of the
//! dimension's 1-D coordinate variable (named like it) when the members have one, each member's
//! values strictly monotonic, all in one direction, and no two members overlapping; without a
//! coordinate, in the order the members are given (a declared collection: its globs' order).

use super::error::Refusal;
use super::join::{Member, ReadArray};
use super::time::numbers;
use crate::index::{ArrayNode, GroupNode};

/// The 1-D coordinate variable of dimension `dim` in `group`, if any.
pub fn coordinate<'g>(group: &'g GroupNode, dim: &str) -> Option<&'g ArrayNode> {
    group.arrays.iter().find(|a| a.name == dim && a.dims.len() == 1 && a.dims[0] == dim)
}

/// The length of `dim` in `group`, or why the member cannot be joined along it.
pub fn length(group: &GroupNode, dim: &str, member: &str) -> Result<u64, Refusal> {
    let missing = || Refusal::MissingDim { member: member.to_string(), dim: dim.to_string() };
    group.dimensions.iter().find(|(n, _)| n == dim).map(|(_, l)| *l).ok_or_else(missing)
}

/// The members (positions in `members`) in the order of `dim`'s coordinate values, or as
/// given when the first member has no coordinate variable for it.
pub fn order(
    members: &[Member<'_>],
    dim: &str,
    read: &ReadArray<'_>,
) -> Result<Vec<usize>, Refusal> {
    for m in members {
        length(&m.index.root, dim, &m.name)?;
    }
    if coordinate(&members[0].index.root, dim).is_none() {
        return Ok((0..members.len()).collect());
    }
    // (first, last, position) of every member with values; direction +1 or -1
    let mut spans: Vec<(f64, f64, usize)> = Vec::with_capacity(members.len());
    let mut empty: Vec<usize> = Vec::new();
    let mut direction = 0.0f64;
    for (i, m) in members.iter().enumerate() {
        let not_monotonic = || Refusal::NotMonotonic { member: m.name.clone(), dim: dim.into() };
        let a = coordinate(&m.index.root, dim).ok_or_else(|| Refusal::MissingCoordinate {
            member: m.name.clone(),
            name: dim.to_string(),
        })?;
        let bytes =
            read(i, a).map_err(|source| Refusal::Read { member: m.name.clone(), source })?;
        let values: Option<Vec<f64>> = numbers(a, &bytes).into_iter().collect();
        let values = values.ok_or_else(|| Refusal::MissingValues { member: m.name.clone() })?;
        for w in values.windows(2) {
            let step = (w[1] - w[0]).signum();
            if step == 0.0 || (direction != 0.0 && step != direction) {
                return Err(not_monotonic());
            }
            direction = step;
        }
        match (values.first(), values.last()) {
            (Some(lo), Some(hi)) => spans.push((*lo, *hi, i)),
            _ => empty.push(i),
        }
    }
    let direction = if direction == 0.0 { 1.0 } else { direction };
    spans.sort_by(|x, y| (direction * x.0).total_cmp(&(direction * y.0)));
    for w in spans.windows(2) {
        if direction * w[0].1 >= direction * w[1].0 {
            let (a, b) = (&members[w[0].2].name, &members[w[1].2].name);
            return Err(Refusal::DimOverlap { dim: dim.to_string(), a: a.clone(), b: b.clone() });
        }
    }
    let mut out: Vec<usize> = spans.iter().map(|s| s.2).collect();
    out.extend(empty);
    Ok(out)
}
