//! Many members' indexes joined along their time dimension into one index.
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

use super::attrs::{merge_global, same_attrs, DROPPED};
use super::error::{JoinError, Refusal};
use super::read::stored_bytes;
use super::time::{generated_time, TimeOf};
use crate::index::{
    ArrayNode, AttrValue, ChunkFiles, ChunkRef, DatasetIndex, Dtype, ElementKind, GroupNode,
    JoinedParts, Skipped, StorageKind, Unpack,
};
use crate::zarr::mode;

/// One member as the join sees it.
pub struct Member<'a> {
    /// The member's file name, for reasons.
    pub name: String,
    pub index: &'a DatasetIndex,
    /// Its open file, for comparing stored bytes before decoded values (when given).
    pub file: Option<&'a std::fs::File>,
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
}

/// Join `members` (at least two) along their time dimension.
pub fn join(members: &[Member<'_>], read: &ReadArray<'_>) -> Result<Joined, Refusal> {
    if members.is_empty() {
        return Err(Refusal::NoMembers);
    }
    let first = &members[0].index.root;
    let time = TimeOf::find(first).ok_or(Refusal::NoTime)?;
    let super::time::Ordered { order, gaps } = time.order(members, read)?;
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
    let lengths: Vec<u64> = groups.iter().map(|g| time.length(g)).collect();
    for (name, len) in &mut root.dimensions {
        if *name == time.dim {
            *len = lengths.iter().sum();
        }
    }
    let (attrs, dropped) = merge_global(&groups);
    root.attrs = attrs;
    if !dropped.is_empty() {
        root.attrs.push((DROPPED.to_string(), AttrValue::Strs(dropped)));
    }
    let mut notes = vec![format!(
        "members in time order: {}",
        sorted.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
    )];
    notes.extend(gaps);
    if groups.iter().any(|g| !g.groups.is_empty()) {
        notes.push("sub-groups are not joined".into());
    }
    for array in &groups[0].arrays {
        let placed = place(array, &groups, &sorted, &time, &lengths, &order, read);
        match placed {
            Ok(a) => root.arrays.push(a),
            Err(reason) => {
                notes.push(format!("{}: {reason}", array.name));
                root.skipped.push(Skipped { name: array.name.clone(), reason });
            }
        }
    }
    let format = format!("collection of {} files ({})", members.len(), first_format(members));
    Ok(Joined { index: DatasetIndex { format, root }, order, notes })
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
    time: &TimeOf,
    lengths: &[u64],
    order: &[usize],
    read: &ReadArray<'_>,
) -> Result<ArrayNode, String> {
    let all = of_every(&array.name, groups, members)?;
    let Some(d) = array.dims.iter().position(|x| *x == time.dim) else {
        return unchanged(&all, members, order, read);
    };
    if all.iter().any(|a| a.dims != array.dims) {
        return Err("dimensions differ between members".into());
    }
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
            members[i].file.and_then(|f| stored_bytes(f, a, COMPARE_MAX_BYTES))
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

/// A variable along time: its members' chunks served one after another when they can be,
/// else joined chunks assembled from them on the first member's chunk shape (unpacked when
/// the members' packing differs); refused when the members' values do not mean the same
/// (type, fill value, other attributes).
fn along_time(
    all: &[&ArrayNode],
    members: &[&Member<'_>],
    d: usize,
    lengths: &[u64],
) -> Result<ArrayNode, String> {
    let first = all[0];
    for (i, a) in all.iter().enumerate() {
        let name = &members[i].name;
        let differs = |what: &str| Err(format!("{what} differs in {name}"));
        if a.dtype != first.dtype || a.element_size() != first.element_size() {
            return differs("the type");
        }
        if a.fill_value != first.fill_value || a.fill_element != first.fill_element {
            return differs("the fill value");
        }
        if !same_attrs(&unpacked_attrs(&a.attrs), &unpacked_attrs(&first.attrs)) {
            return differs("an attribute (units or other)");
        }
        if a.library_path.is_some() {
            return Err("chunks decoded by libhdf5 are not joined yet".into());
        }
        let others =
            a.shape.iter().zip(&first.shape).enumerate().all(|(k, (x, y))| k == d || x == y);
        if !others {
            return differs("the shape");
        }
    }
    let packing_differs = all.iter().any(|a| !same_attrs(&a.attrs, &first.attrs));
    if !packing_differs && passes_through(all, d) {
        return Ok(pass_through(all, d, lengths));
    }
    let mut out = generated(all, d, lengths, members)?;
    if packing_differs {
        unpacked(&mut out, all)?;
    }
    Ok(out)
}

/// The attributes that say how values are packed (CF): members that differ only in these
/// are joined as unpacked float64 values.
const PACKING: [&str; 2] = ["scale_factor", "add_offset"];

fn unpacked_attrs(attrs: &crate::index::Attrs) -> crate::index::Attrs {
    attrs.iter().filter(|(k, _)| !PACKING.contains(&k.as_str())).cloned().collect()
}

/// Make joined array `out` (of members `all`, packed differently) serve unpacked float64
/// values, NaN where a member's value is its `_FillValue` or `missing_value`, as xarray
/// decodes each member.
fn unpacked(out: &mut ArrayNode, all: &[&ArrayNode]) -> Result<(), String> {
    if !out.dtype.is_number() {
        return Err("packing differs on a variable that is not numeric".into());
    }
    let num = |a: &ArrayNode, k: &str| {
        let v = a.attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        v.map_or(Ok(None), |v| v.as_f64().map(Some).ok_or(format!("{k} is not one number")))
    };
    let mut unpack = Vec::with_capacity(all.len());
    for a in all {
        let mut missing: Vec<f64> = a.fill_value.iter().filter_map(AttrValue::as_f64).collect();
        match a.attrs.iter().find(|(n, _)| n == "missing_value").map(|(_, v)| v) {
            Some(AttrValue::Floats(v)) => missing.extend(v),
            Some(AttrValue::Ints(v)) => missing.extend(v.iter().map(|x| *x as f64)),
            Some(AttrValue::UInts(v)) => missing.extend(v.iter().map(|x| *x as f64)),
            Some(v) => missing.extend(v.as_f64()),
            None => {}
        }
        let scale = num(a, "scale_factor")?.unwrap_or(1.0);
        let offset = num(a, "add_offset")?.unwrap_or(0.0);
        unpack.push(Unpack { scale, offset, missing });
    }
    let f8 = Dtype::le(ElementKind::Float, 8);
    out.dtype = f8;
    out.fill_value = Some(AttrValue::Float(f64::NAN));
    out.fill_element = f64::NAN.to_le_bytes().to_vec();
    out.attrs.retain(|(k, _)| !PACKING.contains(&k.as_str()) && k != "missing_value");
    let size = out.chunk_nbytes();
    for r in out.chunk_refs.iter_mut().flatten() {
        *r = ChunkRef::Joined { size };
    }
    if let Some(parts) = out.joined.as_mut() {
        parts.unpack = unpack;
    }
    Ok(())
}

/// True when the members' stored chunks can be served one after another: the same chunks
/// and filters, and every member but the last fills whole chunks along `d`.
fn passes_through(all: &[&ArrayNode], d: usize) -> bool {
    let first = all[0];
    let c = first.chunks[d].max(1);
    all.iter().enumerate().all(|(i, a)| {
        a.codecs == first.codecs
            && a.source_filters == first.source_filters
            && a.chunks == first.chunks
            && a.storage == first.storage
            && a.fill_chunk == first.fill_chunk
            && (i + 1 == all.len() || a.shape[d] % c == 0)
    })
}

fn pass_through(all: &[&ArrayNode], d: usize, lengths: &[u64]) -> ArrayNode {
    let first = all[0];
    let c = first.chunks[d].max(1);
    let mut out = first.clone();
    out.shape[d] = lengths.iter().sum();
    let mut starts = Vec::with_capacity(all.len());
    let mut start = 0;
    for a in all {
        starts.push(start);
        start += a.shape[d].div_ceil(c);
    }
    let grid = out.grid();
    let total: u64 = grid.iter().product();
    let mut refs = Vec::with_capacity(total as usize);
    let mut coords = vec![0u64; grid.len()];
    for _ in 0..total {
        let m = starts.partition_point(|s| *s <= coords[d]) - 1;
        let mut local = coords.clone();
        local[d] -= starts[m];
        let at = all[m].chunk_position(&local);
        refs.push(at.and_then(|p| all[m].chunk_refs.get(p).cloned().flatten()));
        for k in (0..grid.len()).rev() {
            coords[k] += 1;
            if coords[k] < grid[k] {
                break;
            }
            coords[k] = 0;
        }
    }
    out.chunk_refs = refs;
    let members = (0..all.len() as u32).collect();
    out.files = ChunkFiles::AlongDim { dim: d, starts, members };
    out
}

/// Joined chunks on the first member's chunk shape, assembled from the members' decoded
/// chunks: the members must share that shape in every other dimension.
fn generated(
    all: &[&ArrayNode],
    d: usize,
    lengths: &[u64],
    members: &[&Member<'_>],
) -> Result<ArrayNode, String> {
    let first = all[0];
    for (i, a) in all.iter().enumerate() {
        let same =
            a.chunks.iter().zip(&first.chunks).enumerate().all(|(k, (x, y))| k == d || x == y);
        if !same || a.dtype.size == 0 {
            return Err(format!("the chunk shape differs in {}", members[i].name));
        }
    }
    let mut out = first.clone();
    out.shape[d] = lengths.iter().sum();
    out.codecs = vec![];
    out.source_filters = vec![];
    out.storage = StorageKind::Joined;
    out.fill_chunk = None;
    out.library_path = None;
    let size = out.chunk_nbytes();
    let total: u64 = out.grid().iter().product();
    out.chunk_refs = (0..total).map(|_| Some(ChunkRef::Joined { size })).collect();
    let mut starts = Vec::with_capacity(all.len());
    let mut start = 0;
    for a in all {
        starts.push(start);
        start += a.shape[d];
    }
    let arrays = all.iter().map(|a| mode::decoded(a)).collect();
    out.files = ChunkFiles::Own;
    let members = (0..all.len() as u32).collect();
    out.joined = Some(Box::new(JoinedParts { dim: d, starts, arrays, members, unpack: vec![] }));
    Ok(out)
}
