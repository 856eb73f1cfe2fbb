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
            // (signum of +0.0 is 1: equal values compared as such)
            let step = if w[1] > w[0] { 1.0 } else { -1.0 };
            if w[1] == w[0] || (direction != 0.0 && step != direction) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{ChunkFiles, ChunkRef, DatasetIndex, Dtype, ElementKind, StorageKind};

    /// A member along `realization` with these coordinate values (or none).
    fn index(values: Option<&[f64]>, len: u64) -> DatasetIndex {
        let mut root =
            GroupNode { dimensions: vec![("realization".into(), len)], ..Default::default() };
        if let Some(values) = values {
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            root.arrays.push(ArrayNode {
                name: "realization".into(),
                dtype: Dtype::le(ElementKind::Float, 8),
                shape: vec![len],
                chunks: vec![len.max(1)],
                dims: vec!["realization".into()],
                fill_value: None,
                attrs: vec![],
                codecs: vec![],
                storage: StorageKind::Compact,
                source_filters: vec![],
                fill_element: vec![0; 8],
                chunk_refs: vec![Some(ChunkRef::Inline { bytes })],
                fill_chunk: None,
                library_path: None,
                files: ChunkFiles::Own,
                joined: None,
                stored_chunks: None,
                compound: None,
                unpacking: None,
            });
        }
        DatasetIndex { format: "test".into(), root }
    }

    fn order_of(indexes: &[DatasetIndex]) -> Result<Vec<usize>, String> {
        let members: Vec<Member<'_>> = indexes
            .iter()
            .enumerate()
            .map(|(i, index)| Member { name: format!("m{i}"), index, file: None })
            .collect();
        let read = |i: usize, _: &ArrayNode| -> Result<Vec<u8>, super::super::JoinError> {
            match &indexes[i].root.arrays[0].chunk_refs[0] {
                Some(ChunkRef::Inline { bytes }) => Ok(bytes.clone()),
                _ => unreachable!(),
            }
        };
        order(&members, "realization", &read).map_err(|e| e.to_string())
    }

    #[test]
    fn members_follow_the_coordinate_or_the_order_given() {
        let r = |v: &[f64]| index(Some(v), v.len() as u64);
        assert_eq!(order_of(&[r(&[10.0]), r(&[1.0]), r(&[2.0, 3.0])]), Ok(vec![1, 2, 0]));
        // decreasing, in every member
        assert_eq!(order_of(&[r(&[3.0, 2.0]), r(&[9.0, 8.0])]), Ok(vec![1, 0]));
        assert!(order_of(&[r(&[1.0, 2.0]), r(&[2.0, 3.0])]).unwrap_err().contains("overlap"));
        let both_ways = order_of(&[r(&[1.0, 2.0]), r(&[9.0, 8.0])]).unwrap_err();
        assert!(both_ways.contains("m1") && both_ways.contains("monotonic"), "{both_ways}");
        assert!(order_of(&[r(&[1.0, 1.0])]).unwrap_err().contains("monotonic"));
        // no coordinate: as given
        assert_eq!(order_of(&[index(None, 2), index(None, 1)]), Ok(vec![0, 1]));
        // a member without the dimension
        let mut other = index(None, 1);
        other.root.dimensions.clear();
        assert!(order_of(&[index(None, 2), other]).unwrap_err().contains("no dimension"));
        // a later member without the coordinate
        let missing = order_of(&[r(&[1.0]), index(None, 1)]).unwrap_err();
        assert!(missing.contains("no coordinate variable"), "{missing}");
    }
}
