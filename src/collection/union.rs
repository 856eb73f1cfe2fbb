//! The union of variables: members grouped by the variables they hold (one file per variable,
//! as CMIP writes), each group joined along time (a group of one member taken as it is), and
//! the groups' indexes merged into one store. Variables present in several groups (the
//! coordinates) are kept once when they are the same; the groups must cover the same times.

use super::attrs::{merge_global, same_attrs, DROPPED};
use super::error::Refusal;
use super::join::{join, Joined, Member, ReadArray};
use crate::cf::calendar::Calendar;
use crate::index::{
    ArrayNode, AttrValue, Attrs, ChunkFiles, ChunkRef, DatasetIndex, GroupNode, Skipped,
};
use std::collections::BTreeMap;

/// One store of all variables of `members`.
pub fn union(members: &[Member<'_>], read: &ReadArray<'_>) -> Result<Joined, Refusal> {
    if members.is_empty() {
        return Err(Refusal::NoMembers);
    }
    let mut by_vars: BTreeMap<Vec<&str>, Vec<usize>> = BTreeMap::new();
    for (i, m) in members.iter().enumerate() {
        let mut names: Vec<&str> = m.index.root.arrays.iter().map(|a| a.name.as_str()).collect();
        names.sort_unstable();
        by_vars.entry(names).or_default().push(i);
    }
    let mut parts: Vec<(Joined, Vec<usize>)> = Vec::new();
    for positions in by_vars.values() {
        let group: Vec<Member<'_>> = positions
            .iter()
            .map(|i| Member {
                name: members[*i].name.clone(),
                index: members[*i].index,
                file: members[*i].file,
            })
            .collect();
        let sub = |i: usize, a: &ArrayNode| read(positions[i], a);
        let joined = match group.len() {
            1 => alone(&group[0]),
            _ => join(&group, &sub)?,
        };
        let order = joined.order.iter().map(|i| positions[*i]).collect();
        parts.push((joined, order));
    }
    merge(parts, members, read)
}

/// One member as a part of the union: its arrays read from it.
fn alone(m: &Member<'_>) -> Joined {
    let mut root = m.index.root.clone();
    for a in &mut root.arrays {
        a.files = ChunkFiles::Member(0);
    }
    let index = DatasetIndex { format: m.index.format.clone(), root };
    Joined { index, order: vec![0], notes: vec![] }
}

/// The member numbers of `a` moved up by `base` (its group's members follow the others').
fn renumber(a: &mut ArrayNode, base: u32) {
    match &mut a.files {
        ChunkFiles::Own => {}
        ChunkFiles::Member(m) => *m += base,
        ChunkFiles::AlongDim { members, .. } => members.iter_mut().for_each(|m| *m += base),
    }
    if let Some(parts) = a.joined.as_mut() {
        parts.members.iter_mut().for_each(|m| *m += base);
    }
}

fn merge(
    parts: Vec<(Joined, Vec<usize>)>,
    members: &[Member<'_>],
    read: &ReadArray<'_>,
) -> Result<Joined, Refusal> {
    let mut order: Vec<usize> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut root = GroupNode::default();
    let mut dropped: Vec<String> = Vec::new();
    let groups: Vec<GroupNode> =
        parts.iter().map(|(j, _)| strip_dropped(&j.index.root, &mut dropped)).collect();
    let refs: Vec<&GroupNode> = groups.iter().collect();
    let (attrs, more) = merge_global(&refs);
    dropped.extend(more.into_iter().filter(|n| !dropped.contains(n)).collect::<Vec<_>>());
    root.attrs = attrs;
    for ((joined, positions), group) in parts.into_iter().zip(&groups) {
        let base = order.len() as u32;
        notes.extend(joined.notes);
        for (name, len) in &group.dimensions {
            match root.dimensions.iter().find(|(n, _)| n == name) {
                Some((_, l)) if l != len => {
                    return Err(Refusal::Union(format!(
                        "dimension {name} is {l} long in some members and {len} in {}",
                        members[positions[0]].name
                    )))
                }
                Some(_) => {}
                None => root.dimensions.push((name.clone(), *len)),
            }
        }
        for mut a in group.arrays.clone() {
            renumber(&mut a, base);
            match root.arrays.iter().position(|x| x.name == a.name) {
                None => root.arrays.push(a),
                Some(k) => {
                    let all: Vec<usize> = order.iter().chain(&positions).copied().collect();
                    if !same(&root.arrays[k], &a, &all, read) {
                        let reason =
                            format!("differs between {} and others", members[positions[0]].name);
                        notes.push(format!("{}: {reason}", a.name));
                        root.skipped.push(Skipped { name: a.name.clone(), reason });
                        root.arrays.remove(k);
                    }
                }
            }
        }
        root.skipped.extend(group.skipped.iter().cloned());
        order.extend(positions);
    }
    if !dropped.is_empty() {
        root.attrs.push((DROPPED.to_string(), AttrValue::Strs(dropped)));
    }
    let format = format!("union of {} files", members.len());
    Ok(Joined { index: DatasetIndex { format, root }, order, notes })
}

/// Attributes but `calendar`, which is compared as a calendar (`noleap` is `365_day`).
fn but_calendar(attrs: &Attrs) -> Attrs {
    attrs.iter().filter(|(k, _)| k != "calendar").cloned().collect()
}

fn calendar(attrs: &Attrs) -> Option<Calendar> {
    match attrs.iter().find(|(k, _)| k == "calendar").map(|(_, v)| v) {
        Some(AttrValue::Str(s)) => Calendar::parse(Some(s)).ok(),
        _ => None,
    }
}

/// The group without its dropped-attributes entry, whose names go to `dropped`.
fn strip_dropped(g: &GroupNode, dropped: &mut Vec<String>) -> GroupNode {
    let mut g = g.clone();
    if let Some(i) = g.attrs.iter().position(|(k, _)| k == DROPPED) {
        if let (_, AttrValue::Strs(names)) = g.attrs.remove(i) {
            dropped.extend(names.into_iter().filter(|n| !dropped.contains(n)).collect::<Vec<_>>());
        }
    }
    g
}

/// The same variable in two groups: metadata, and values (generated ones compared as held,
/// a member's read from it). `order`: input positions by member number.
fn same(a: &ArrayNode, b: &ArrayNode, order: &[usize], read: &ReadArray<'_>) -> bool {
    let meta = a.dtype == b.dtype
        && a.shape == b.shape
        && a.dims == b.dims
        && a.fill_value == b.fill_value
        && same_attrs(&but_calendar(&a.attrs), &but_calendar(&b.attrs))
        && calendar(&a.attrs) == calendar(&b.attrs);
    if !meta {
        return false;
    }
    match (&a.files, &b.files, a.chunk_refs.first(), b.chunk_refs.first()) {
        (
            ChunkFiles::Own,
            ChunkFiles::Own,
            Some(Some(ChunkRef::Inline { bytes: x })),
            Some(Some(ChunkRef::Inline { bytes: y })),
        ) => x == y,
        (ChunkFiles::Member(m), ChunkFiles::Member(n), _, _) => {
            let value = |m: u32, arr: &ArrayNode| read(order[m as usize], arr).ok();
            let mut x = a.clone();
            let mut y = b.clone();
            x.files = ChunkFiles::Own;
            y.files = ChunkFiles::Own;
            value(*m, &x).is_some_and(|v| Some(v) == value(*n, &y))
        }
        _ => false,
    }
}
