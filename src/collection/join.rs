//! Many members' indexes joined along their time dimension (or, [`join_along`], any other
//! existing dimension) into one index.
//!
//! The members are ordered by their time values (never by name). The time coordinate, and
//! every variable along time whose `units` are `<unit> since <date>` (and the coordinate's
//! bounds), is generated: its values re-expressed in the first member's units with the
//! calendar's arithmetic, held in the index. Every other variable along time passes its
//! members' chunks through when they agree on the stored and served filters and the chunk
//! shape and each member but the last fills whole chunks along time; otherwise its chunks are
//! joined chunks on a regular grid, assembled from the members' decoded chunks (365- and
//! 366-day years, differing compression); members packed with different
//! `scale_factor`/`add_offset` give joined chunks of unpacked float64 values (NaN where a
//! member's value is missing), as xarray decodes each member. Members that differ in what
//! else the values mean (type, fill value, other attributes) leave the variable out, with the
//! reason. Variables without the time dimension and global
//! attributes are taken from the first member when equal in all; differing global attributes
//! are dropped and named in `cloudify_dropped_attributes`.

use super::along_time::along_time;
use super::attrs::{merge_global, same_attrs, DROPPED};
use super::error::{JoinError, Refusal};
use super::generated_time::generated_time;
use super::read::stored_bytes;
use super::time::TimeOf;
use crate::index::{ArrayNode, AttrValue, ChunkFiles, DatasetIndex, GroupNode, Skipped};
use crate::zarr::chunk::OpenSource;

/// One member as the join sees it.
pub struct Member<'a> {
    /// The member's file name, for reasons.
    pub name: String,
    pub index: &'a DatasetIndex,
    /// Its file (opened when read), for comparing stored bytes before decoded values (when
    /// given).
    pub file: Option<&'a dyn OpenSource>,
}

/// Reads a member's array whole (decoded, in its dtype's byte order): `(member, array)`.
pub type ReadArray<'r> = dyn Fn(usize, &ArrayNode) -> Result<Vec<u8>, JoinError> + 'r;

/// Arrays larger than this are not compared value by value between members (only their
/// metadata and stored chunk layout): a static field is read once per member at load time.
const COMPARE_MAX_BYTES: u64 = 16 << 20;

/// The joined index, and the members in time order (`order[i]` is the position in the input
/// of the member numbered `i` in the joined index's chunk files).
pub struct Joined {
    pub index: DatasetIndex,
    pub order: Vec<usize>,
    /// Members' names in time order, and what was left out, for `inspect` and logs.
    pub notes: Vec<String>,
    /// Variables of a union refused because they disagree with the others, with the reason
    /// (`Rule::Compatible`), for `inspect` and a warning in the log.
    pub refused: Vec<String>,
}

/// Join `members` (at least two) along their time dimension.
pub fn join(members: &[Member<'_>], read: &ReadArray<'_>) -> Result<Joined, Refusal> {
    if members.is_empty() {
        return Err(Refusal::NoMembers);
    }
    let time = TimeOf::find(&members[0].index.root).ok_or(Refusal::NoTime)?;
    let super::time::Ordered { order, gaps } = time.order(members, read)?;
    let lengths: Vec<u64> = order.iter().map(|i| time.length(&members[*i].index.root)).collect();
    let axis = Axis { dim: time.dim.clone(), time: Some(time) };
    let mut notes = vec![format!("members in time order: {}", names(members, &order))];
    notes.extend(gaps);
    assemble_join(members, &axis, (order, lengths), read, notes)
}

/// Join `members` along dimension `dim` (`join = "<dim>"` of a declared collection, NcML
/// `joinExisting dimName`): "time", or the time coordinate's own dimension, is joined as
/// [`join`] does (members ordered by their times, time re-expressed in the first member's
/// units); any other dimension orders the members by its 1-D coordinate variable's values
/// (strictly monotonic, one direction, no overlap) or, without one, keeps them as given, and
/// passes chunks through or joins them by the same rules as time.
pub fn join_along(
    members: &[Member<'_>],
    dim: &str,
    read: &ReadArray<'_>,
) -> Result<Joined, Refusal> {
    if members.is_empty() {
        return Err(Refusal::NoMembers);
    }
    let time = TimeOf::find(&members[0].index.root);
    if dim == "time" || time.as_ref().is_some_and(|t| t.dim == dim) {
        return join(members, read);
    }
    let order = super::dim_order::order(members, dim, read)?;
    let lengths: Result<Vec<u64>, Refusal> = order
        .iter()
        .map(|i| super::dim_order::length(&members[*i].index.root, dim, &members[*i].name))
        .collect();
    let axis = Axis { dim: dim.to_string(), time: None };
    let how = match super::dim_order::coordinate(&members[0].index.root, dim) {
        Some(_) => format!("members in {dim} order"),
        None => format!("members in the order given ({dim} has no coordinate variable)"),
    };
    let notes = vec![format!("{how}: {}", names(members, &order))];
    assemble_join(members, &axis, (order, lengths?), read, notes)
}

/// The dimension joined along, and the time coordinate when it is time's.
struct Axis {
    dim: String,
    time: Option<TimeOf>,
}

fn names(members: &[Member<'_>], order: &[usize]) -> String {
    order.iter().map(|i| members[*i].name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The joined index of `members` in `order` (each `lengths` long along the axis).
fn assemble_join(
    members: &[Member<'_>],
    axis: &Axis,
    (order, lengths): (Vec<usize>, Vec<u64>),
    read: &ReadArray<'_>,
    mut notes: Vec<String>,
) -> Result<Joined, Refusal> {
    let sorted: Vec<&Member<'_>> = order.iter().map(|i| &members[*i]).collect();
    let groups: Vec<&GroupNode> = sorted.iter().map(|m| &m.index.root).collect();
    let mut root = GroupNode {
        name: String::new(),
        attrs: Vec::new(),
        dimensions: groups[0].dimensions.clone(),
        arrays: Vec::new(),
        groups: Vec::new(),
        skipped: groups[0].skipped.clone(),
    };
    for (name, len) in &mut root.dimensions {
        if *name == axis.dim {
            *len = lengths.iter().sum();
        }
    }
    let (attrs, dropped) = merge_global(&groups);
    root.attrs = attrs;
    if !dropped.is_empty() {
        root.attrs.push((DROPPED.to_string(), AttrValue::Strs(dropped)));
    }
    if groups.iter().any(|g| !g.groups.is_empty()) {
        notes.push("sub-groups are not joined".into());
    }
    for array in &groups[0].arrays {
        let placed = place(array, &groups, &sorted, axis, &lengths, &order, read);
        match placed {
            Ok(a) => root.arrays.push(a),
            Err(reason) => {
                notes.push(format!("{}: {reason}", array.name));
                root.skipped.push(Skipped { name: array.name.clone(), reason });
            }
        }
    }
    super::ragged::tidy(groups[0], &mut root, &mut notes);
    let format = format!("collection of {} files ({})", members.len(), first_format(members));
    Ok(Joined { index: DatasetIndex { format, root }, order, notes, refused: vec![] })
}

fn first_format(members: &[Member<'_>]) -> String {
    members[0].index.format.clone()
}

/// The same-named array of every member (in time order), or why one is missing.
fn of_every<'g>(
    name: &str,
    groups: &[&'g GroupNode],
    members: &[&Member<'_>],
) -> Result<Vec<&'g ArrayNode>, String> {
    groups
        .iter()
        .zip(members)
        .map(|(g, m)| {
            g.arrays.iter().find(|a| a.name == name).ok_or_else(|| format!("missing in {}", m.name))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn place(
    array: &ArrayNode,
    groups: &[&GroupNode],
    members: &[&Member<'_>],
    axis: &Axis,
    lengths: &[u64],
    order: &[usize],
    read: &ReadArray<'_>,
) -> Result<ArrayNode, String> {
    let all = of_every(&array.name, groups, members)?;
    if let Some(joined) = super::ragged::join_values(&all, groups[0], members, &axis.dim) {
        return joined;
    }
    let Some(d) = array.dims.iter().position(|x| *x == axis.dim) else {
        return unchanged(&all, members, order, read);
    };
    if all.iter().any(|a| a.dims != array.dims) {
        return Err("dimensions differ between members".into());
    }
    let Some(time) = &axis.time else {
        return along_time(&all, members, d, lengths);
    };
    let bounds = time.is_bounds(groups[0], array);
    if TimeOf::is_time_like(array) || bounds {
        let own = |g: &GroupNode, a: &ArrayNode| -> Option<String> {
            let units = a.attrs.iter().find(|(k, _)| k == "units");
            match units {
                Some((_, AttrValue::Str(u))) => Some(u.clone()),
                _ if bounds => time.units(g),
                _ => None,
            }
        };
        let units: Option<Vec<String>> = groups.iter().zip(&all).map(|(g, a)| own(g, a)).collect();
        let units = units.ok_or("time units missing in a member")?;
        let read_member = |i: usize, a: &ArrayNode| read(order[i], a).map_err(|e| e.to_string());
        return generated_time(&all, d, (time.calendar, &units), &read_member);
    }
    along_time(&all, members, d, lengths)
}

/// A variable without the time dimension: the first member's, when every member has the same.
fn unchanged(
    all: &[&ArrayNode],
    members: &[&Member<'_>],
    order: &[usize],
    read: &ReadArray<'_>,
) -> Result<ArrayNode, String> {
    let first = all[0];
    for (i, a) in all.iter().enumerate().skip(1) {
        let same = a.dtype == first.dtype
            && a.shape == first.shape
            && a.fill_value == first.fill_value
            && same_attrs(&a.attrs, &first.attrs);
        if !same {
            return Err(format!("differs between members ({})", members[i].name));
        }
    }
    let bytes = first.shape.iter().product::<u64>() * first.dtype.size.max(1) as u64;
    if bytes <= COMPARE_MAX_BYTES && all.len() > 1 {
        // equal stored bytes under equal filters are equal values: most members of a model
        // run store their static fields identically, and nothing is decoded for them
        let stored = |i: usize, a: &ArrayNode| {
            let file = members[i].file.and_then(|f| f.open().ok())?;
            stored_bytes(&file, a, COMPARE_MAX_BYTES)
        };
        let first_stored = stored(0, first);
        let mut want: Option<Vec<u8>> = None;
        for (i, a) in all.iter().enumerate().skip(1) {
            let same_filters = a.codecs == first.codecs
                && a.source_filters == first.source_filters
                && a.chunks == first.chunks;
            if same_filters && first_stored.is_some() && stored(i, a) == first_stored {
                continue;
            }
            if want.is_none() {
                want = Some(read(order[0], first).map_err(|e| e.to_string())?);
            }
            if Some(read(order[i], a).map_err(|e| e.to_string())?) != want {
                return Err(format!("values differ between members ({})", members[i].name));
            }
        }
    }
    let mut out = first.clone();
    out.files = ChunkFiles::Member(0);
    Ok(out)
}
