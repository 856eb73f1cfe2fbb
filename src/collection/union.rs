//! The union of variables: members grouped by the variables they hold (one file per variable,
//! as CMIP writes), each group joined along time or another dimension (a group of one member
//! taken as it is), and the groups' indexes merged into one store. Variables present in
//! several groups are kept once when they are the same; a coordinate variable (named like its
//! one dimension) and every dimension's length must agree. [`Rule::All`] refuses the store when
//! two groups disagree there; [`Rule::Compatible`] (`--union-parent`) leaves out the groups
//! that disagree with the others, with the reason, and merges the rest.

use super::attrs::{merge_global, same_attrs, DROPPED};
use super::error::Refusal;
use super::join::{join_along, Joined, Member, ReadArray};
use crate::cf::calendar::Calendar;
use crate::index::{
    ArrayNode, AttrValue, Attrs, ChunkFiles, ChunkRef, DatasetIndex, GroupNode, Skipped,
};
use std::collections::BTreeMap;

/// What happens when the groups of a union disagree on a dimension or a coordinate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The whole store is refused.
    All,
    /// The groups that disagree with most others are left out (their variables named, with
    /// the reason); the store has the others.
    Compatible,
}

/// One store of all variables of `members`, each group joined along `dim` (see
/// [`join_along`]).
pub fn union(
    members: &[Member<'_>],
    dim: &str,
    rule: Rule,
    read: &ReadArray<'_>,
) -> Result<Joined, Refusal> {
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
    let mut refused: Vec<(Vec<String>, String)> = Vec::new();
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
            _ => match (rule, join_along(&group, dim, &sub)) {
                (_, Ok(j)) => j,
                (Rule::All, Err(r)) => return Err(r),
                (Rule::Compatible, Err(r)) => {
                    refused.push(refusal_note(&by_vars_key(&group), &r.to_string()));
                    continue;
                }
            },
        };
        let order = joined.order.iter().map(|i| positions[*i]).collect();
        parts.push((joined, order));
    }
    if parts.is_empty() {
        let why: Vec<String> =
            refused.iter().map(|(v, r)| format!("{}: {r}", v.join(", "))).collect();
        return Err(Refusal::Union(why.join("; ")));
    }
    if rule == Rule::Compatible {
        parts = agreeing_first(parts, read);
    }
    let mut joined = merge(parts, members, rule, read)?;
    for (vars, reason) in refused {
        let root = &mut joined.index.root;
        let own: Vec<String> =
            vars.into_iter().filter(|v| !root.arrays.iter().any(|a| a.name == *v)).collect();
        for v in &own {
            root.skipped.push(Skipped { name: v.clone(), reason: reason.clone() });
        }
        joined.refused.push(format!("{}: {reason}", own.join(", ")));
    }
    Ok(joined)
}

/// The variables of a group (of its first member), for reasons.
fn by_vars_key(group: &[Member<'_>]) -> Vec<String> {
    group[0].index.root.arrays.iter().map(|a| a.name.clone()).collect()
}

fn refusal_note(vars: &[String], reason: &str) -> (Vec<String>, String) {
    (vars.to_vec(), reason.to_string())
}

/// The parts ordered by how many others agree with them on every shared dimension's length
/// and coordinate variable (most first; ties in their order), so that the odd one out is
/// the one left out. Each part's coordinates are read once.
fn agreeing_first(
    parts: Vec<(Joined, Vec<usize>)>,
    read: &ReadArray<'_>,
) -> Vec<(Joined, Vec<usize>)> {
    type Coordinate<'a> = (&'a ArrayNode, Option<Vec<u8>>);
    let coordinates: Vec<Vec<Coordinate<'_>>> = parts
        .iter()
        .map(|(j, order)| {
            let coords = j.index.root.arrays.iter().filter(|a| a.dims.len() == 1);
            let coords = coords.filter(|a| a.dims[0] == a.name);
            coords.map(|a| (a, values(a, order, read))).collect()
        })
        .collect();
    let agree = |x: usize, y: usize| {
        let (a, b) = (&parts[x].0.index.root, &parts[y].0.index.root);
        let dims =
            a.dimensions.iter().all(|(n, l)| b.dimensions.iter().all(|(m, k)| n != m || l == k));
        dims && coordinates[x].iter().all(|(c, v)| {
            coordinates[y]
                .iter()
                .all(|(d, w)| c.name != d.name || (same_meta(c, d) && v.is_some() && v == w))
        })
    };
    let score: Vec<usize> =
        (0..parts.len()).map(|x| (0..parts.len()).filter(|y| agree(x, *y)).count()).collect();
    let mut numbered: Vec<(usize, (Joined, Vec<usize>))> = parts.into_iter().enumerate().collect();
    numbered.sort_by_key(|(i, _)| std::cmp::Reverse(score[*i]));
    numbered.into_iter().map(|(_, p)| p).collect()
}

/// One member as a part of the union: its arrays read from it.
fn alone(m: &Member<'_>) -> Joined {
    let mut root = m.index.root.clone();
    for a in &mut root.arrays {
        a.files = ChunkFiles::Member(0);
    }
    let index = DatasetIndex { format: m.index.format.clone(), root };
    Joined { index, order: vec![0], notes: vec![], refused: vec![] }
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
    rule: Rule,
    read: &ReadArray<'_>,
) -> Result<Joined, Refusal> {
    let mut order: Vec<usize> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    let mut root = GroupNode::default();
    let mut dropped: Vec<String> = Vec::new();
    let groups: Vec<GroupNode> =
        parts.iter().map(|(j, _)| strip_dropped(&j.index.root, &mut dropped)).collect();
    let refs: Vec<&GroupNode> = groups.iter().collect();
    let (attrs, more) = merge_global(&refs);
    dropped.extend(more.into_iter().filter(|n| !dropped.contains(n)).collect::<Vec<_>>());
    root.attrs = attrs;
    for ((joined, positions), group) in parts.into_iter().zip(&groups) {
        let first = &members[positions[0]].name;
        let all: Vec<usize> = order.iter().chain(&positions).copied().collect();
        let base = order.len() as u32;
        let mut arrays = group.arrays.clone();
        arrays.iter_mut().for_each(|a| renumber(a, base));
        if let Some(why) = disagreement(&root, group, &arrays, &all, read) {
            let why = format!("{why} ({first} against the variables merged)");
            if rule == Rule::All {
                return Err(Refusal::Union(why));
            }
            refused.push(format!("{}: {why}", names(&arrays, &root)));
            for a in arrays.iter().filter(|a| !root.arrays.iter().any(|x| x.name == a.name)) {
                root.skipped.push(Skipped { name: a.name.clone(), reason: why.clone() });
            }
            continue;
        }
        notes.extend(joined.notes);
        for (name, len) in &group.dimensions {
            if !root.dimensions.iter().any(|(n, _)| n == name) {
                root.dimensions.push((name.clone(), *len));
            }
        }
        for a in arrays {
            match root.arrays.iter().position(|x| x.name == a.name) {
                None => root.arrays.push(a),
                Some(k) => {
                    if !same(&root.arrays[k], &a, &all, read) {
                        let reason = format!("differs between {first} and others");
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
    Ok(Joined { index: DatasetIndex { format, root }, order, notes, refused })
}

/// Why `group` (its `arrays` renumbered) cannot be merged into `root`: a dimension of another
/// length, or a coordinate variable (1-D, named like its dimension) that differs.
fn disagreement(
    root: &GroupNode,
    group: &GroupNode,
    arrays: &[ArrayNode],
    order: &[usize],
    read: &ReadArray<'_>,
) -> Option<String> {
    for (name, len) in &group.dimensions {
        if let Some((_, l)) = root.dimensions.iter().find(|(n, _)| n == name) {
            if l != len {
                return Some(format!("dimension {name} is {len} long, not {l}"));
            }
        }
    }
    for a in arrays.iter().filter(|a| a.dims.len() == 1 && a.dims[0] == a.name) {
        if let Some(r) = root.arrays.iter().find(|x| x.name == a.name) {
            if !same(r, a, order, read) {
                return Some(format!("coordinate {} differs", a.name));
            }
        }
    }
    None
}

/// The names of `arrays` not in `root` (the variables a refused group would have added).
fn names(arrays: &[ArrayNode], root: &GroupNode) -> String {
    let own = arrays.iter().filter(|a| !root.arrays.iter().any(|x| x.name == a.name));
    own.map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
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
    if !same_meta(a, b) {
        return false;
    }
    let x = values(a, order, read);
    x.is_some() && x == values(b, order, read)
}

/// The same type, shape, dimensions, fill value and attributes (a calendar's aliases alike).
fn same_meta(a: &ArrayNode, b: &ArrayNode) -> bool {
    a.dtype == b.dtype
        && a.shape == b.shape
        && a.dims == b.dims
        && a.fill_value == b.fill_value
        && same_attrs(&but_calendar(&a.attrs), &but_calendar(&b.attrs))
        && calendar(&a.attrs) == calendar(&b.attrs)
}

/// The values of `a` as a merged group holds them: generated (one chunk held in the index,
/// no codecs) or read from its member; `None` when joined from several members.
fn values(a: &ArrayNode, order: &[usize], read: &ReadArray<'_>) -> Option<Vec<u8>> {
    match (&a.files, &a.chunk_refs[..]) {
        (ChunkFiles::Own, [Some(ChunkRef::Inline { bytes })]) if a.codecs.is_empty() => {
            Some(bytes.clone())
        }
        (ChunkFiles::Member(m), _) => {
            let mut own = a.clone();
            own.files = ChunkFiles::Own;
            read(*order.get(*m as usize)?, &own).ok()
        }
        _ => None,
    }
}
