//! Variable-length sequence variables in a join: each member serves one as a CF contiguous
//! ragged pair (`v` along `v.values`, `v.count` with the variable's dimensions; see
//! `source::vlen`). Joined along a dimension that is the count's first (outermost) one, the
//! sequences of the members follow one another in row-major order, so the joined pair is the
//! members' counts joined along that dimension and their values end to end along `v.values`
//! (its length the members' sum). Along any other dimension of the count the members'
//! sequences would interleave: the pair is left out, with the reason. A pair without the
//! joined dimension is taken from the first member when equal in all, as any such variable.

use super::along_time::along_time;
use super::join::Member;
use crate::index::{ArrayNode, AttrValue, GroupNode, Skipped};

/// The attribute of a ragged pair's values array naming its count array.
const COUNT_OF: &str = "_cloudify_vlen_count";

/// The count array named by `array` if it is the values array of a ragged pair.
fn count_of(array: &ArrayNode) -> Option<&str> {
    match array.attrs.iter().find(|(k, _)| k == COUNT_OF) {
        Some((_, AttrValue::Str(count))) => Some(count),
        _ => None,
    }
}

/// The joined values array of a ragged pair (`all`: every member's, in order), when `all[0]`
/// is one whose count (in `first`, the first member's group) has the joined dimension `dim`;
/// `None` for any other array.
pub(super) fn join_values(
    all: &[&ArrayNode],
    first: &GroupNode,
    members: &[&Member<'_>],
    dim: &str,
) -> Option<Result<ArrayNode, String>> {
    let count_name = count_of(all[0])?;
    let count = first.arrays.iter().find(|a| a.name == count_name)?;
    let position = count.dims.iter().position(|d| d == dim)?;
    if position != 0 {
        return Some(Err(format!(
            "variable-length sequences (CF ragged pair with {count_name}) joined along {dim}, \
             which is not the first dimension of {count_name}: the members' sequences would \
             interleave, so their values cannot be joined end to end"
        )));
    }
    if all.iter().any(|a| a.dims.len() != 1 || a.dims[0] != all[0].dims[0]) {
        return Some(Err("the sequences' values dimension differs between members".into()));
    }
    let lengths: Vec<u64> = all.iter().map(|a| a.shape[0]).collect();
    Some(along_time(all, members, 0, &lengths))
}

/// Leave out each half of a ragged pair of `first` (the first member's group) whose other
/// half was left out, with its values dimension, and give each joined values dimension its
/// joined length (the values array's); reasons go to `notes`.
pub(super) fn tidy(first: &GroupNode, root: &mut GroupNode, notes: &mut Vec<String>) {
    for values in &first.arrays {
        let Some(count) = count_of(values) else { continue };
        let Some(dim) = values.dims.first() else { continue };
        let served = |root: &GroupNode, n: &str| root.arrays.iter().position(|a| a.name == n);
        let (v, c) = (served(root, &values.name), served(root, count));
        let gone = match (v, c) {
            (Some(v), Some(_)) => {
                let joined = root.arrays[v].shape[0];
                root.dimensions.iter_mut().filter(|(d, _)| d == dim).for_each(|d| d.1 = joined);
                continue;
            }
            (Some(_), None) => {
                Some((values.name.clone(), format!("its sequence lengths ({count}) are left out")))
            }
            (None, Some(_)) => Some((
                count.to_string(),
                format!("the values of its sequences ({}) are left out", values.name),
            )),
            (None, None) => None,
        };
        if let Some((name, reason)) = gone {
            root.arrays.retain(|a| a.name != name);
            notes.push(format!("{name}: {reason}"));
            root.skipped.push(Skipped { name, reason });
        }
        root.dimensions.retain(|(d, _)| d != dim);
    }
}
