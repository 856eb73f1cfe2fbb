//! A variable along the joined dimension: the members' chunks one after another when they
//! can pass through, otherwise joined chunks assembled from the members' decoded chunks on the
//! first member's grid, unpacked when the members' packing differs.

use super::attrs::same_attrs;
use super::join::Member;
use crate::index::{
    ArrayNode, AttrValue, Attrs, ChunkFiles, ChunkRef, Dtype, ElementKind, JoinedParts,
    StorageKind, Unpack,
};
use crate::zarr::mode;

/// A variable along the joined dimension `d` (time, or another): its members' chunks served one after another when they can be,
/// else joined chunks assembled from them on the first member's chunk shape (unpacked when
/// the members' packing differs); refused when the members' values do not mean the same
/// (type, fill value, other attributes).
pub(super) fn along_time(
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
        let stored = a.compound.as_ref().map_or(*a, |c| &c.stored);
        if stored.library_path.is_some() {
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

fn unpacked_attrs(attrs: &Attrs) -> Attrs {
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
        let missing = a.missing_values();
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
/// and filters, and every member but the last fills whole chunks along `d`. A compound
/// variable's chunks are cut from each member's own stored chunks: never passed through.
fn passes_through(all: &[&ArrayNode], d: usize) -> bool {
    let first = all[0];
    if first.storage == StorageKind::Compound {
        return false;
    }
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
