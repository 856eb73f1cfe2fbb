//! NC_STRING variables read natively: every element's (length, global heap ID) from the
//! dataset's storage (compact, contiguous, or chunks decoded in Rust), its text from the
//! global heap, kept in the index as one `vlen-utf8` chunk by
//! [`crate::source::nc4_strings::set_strings`], as through netcdf-c. Declined: unwritten elements or chunks
//! (netcdf-c fills them), NULL strings, filters only libhdf5 decodes, more than
//! [`MAX_STRING_BYTES`].

use super::attribute::GlobalHeap;
use super::bytes::{le, Source};
use super::storage_facts::{filters, layout, Layout};
use super::var::Var;
use crate::codec;
use crate::index::{ArrayNode, Dtype, ElementKind};
use crate::source::btree::walk_chunk_btree;
use crate::source::nc4::take_attr;
use crate::source::nc4_strings::{set_strings, MAX_STRING_BYTES};
use crate::source::pipeline::{map_pipeline, Mode};
use crate::source::Declined;
use std::os::unix::fs::FileExt;

/// Bytes of one element: length (4), collection address (8), object index (4).
const ELEMENT: usize = 16;

/// Largest decoded string chunk read.
const MAX_CHUNK_BYTES: u64 = 64 << 20;

/// The index array of the string variable `v` (dimensions `dims` of lengths `shape`).
pub fn array(
    src: &Source<'_>,
    heap: &mut GlobalHeap,
    mut v: Var,
    dims: Vec<String>,
    shape: Vec<u64>,
) -> Result<ArrayNode, Declined> {
    if v.space.dims != shape {
        return Err(Declined::Unsupported(format!(
            "{}: strings shorter than their dimensions",
            v.hdf5_path
        )));
    }
    let total = shape.iter().try_fold(1u64, |a, d| a.checked_mul(*d)).ok_or("too many strings")?;
    if total > (MAX_STRING_BYTES / 4) as u64 {
        return Err(Declined::Unsupported(format!("{}: more strings than served", v.hdf5_path)));
    }
    // no elements (a zero-length or empty unlimited dimension): nothing stored to read
    let raw = if total == 0 { vec![] } else { elements(src, &v, &shape, total as usize)? };
    let mut items = Vec::with_capacity(total as usize);
    let mut bytes = 0usize;
    for e in raw.chunks_exact(ELEMENT) {
        let (len, addr, index) = (le(&e[..4]), le(&e[4..12]), le(&e[12..16]));
        if addr == 0 {
            return Err(Declined::Unsupported(format!("{}: a NULL string", v.hdf5_path)));
        }
        let text = heap.object(src, addr, index as u32)?;
        let text = text.get(..len as usize).ok_or("string longer than its heap object")?;
        let end = text.iter().position(|b| *b == 0).unwrap_or(text.len());
        let s = String::from_utf8_lossy(&text[..end]).into_owned();
        bytes += s.len() + 4;
        if bytes > MAX_STRING_BYTES {
            return Err(Declined::Unsupported(format!(
                "{}: string variable larger than served",
                v.hdf5_path
            )));
        }
        items.push(s);
    }
    let fill_value = take_attr(&mut v.attrs, "_FillValue");
    let byte = Dtype::le(ElementKind::UInt, 1);
    let mut array = ArrayNode::unplaced(v.name, byte, shape, dims, fill_value, v.attrs);
    set_strings(&mut array, &items)?;
    Ok(array)
}

/// The `total` elements of `v` in row-major order.
fn elements(src: &Source<'_>, v: &Var, shape: &[u64], total: usize) -> Result<Vec<u8>, Declined> {
    let n = total * ELEMENT;
    match layout(&v.header, shape.len())? {
        Layout::Compact(data) if data.len() == n => Ok(data.to_vec()),
        Layout::Compact(_) => Err("compact strings of another size".into()),
        Layout::Contiguous(Some(addr)) => Ok(src.read(addr, n as u64)?.into_owned()),
        Layout::Contiguous(None) | Layout::Chunked { root: None, .. } => {
            Err("unwritten strings".into())
        }
        Layout::Chunked { root: Some(root), dims, chunk } => {
            chunked(src, v, shape, total, root, dims, &chunk)
        }
    }
}

/// Elements gathered from every chunk (each decoded in Rust); a missing chunk is declined.
fn chunked(
    src: &Source<'_>,
    v: &Var,
    shape: &[u64],
    total: usize,
    root: u64,
    dims: usize,
    chunk: &[u64],
) -> Result<Vec<u8>, Declined> {
    let pipeline = map_pipeline(&filters(&v.header)?, ELEMENT)?;
    if pipeline.mode == Mode::Library || chunk.contains(&0) {
        return Err("string chunks only libhdf5 decodes".into());
    }
    let per_chunk = chunk.iter().try_fold(1u64, |a, c| a.checked_mul(*c)).ok_or("huge chunks")?;
    if per_chunk.saturating_mul(ELEMENT as u64) > MAX_CHUNK_BYTES {
        return Err("string chunks larger than served".into());
    }
    let per_chunk = per_chunk as usize;
    let grid: u64 = shape.iter().zip(chunk).map(|(s, c)| s.div_ceil(*c)).product();
    let entries = walk_chunk_btree(src.file(), src.base, src.len, root, dims)?;
    if entries.len() as u64 != grid {
        return Err("unwritten string chunks".into());
    }
    let mut out = vec![0u8; total * ELEMENT];
    for e in entries {
        let at = src.base.checked_add(e.addr).ok_or("address overflow")?;
        if at.checked_add(e.size).is_none_or(|end| end > src.len) {
            return Err("string chunk beyond the end of the file".into());
        }
        let len = usize::try_from(e.size).map_err(|_| "chunk too large")?;
        if len > per_chunk * ELEMENT + (64 << 10) {
            return Err("stored string chunk larger than possible".into());
        }
        let mut stored = vec![0u8; len];
        src.file().read_exact_at(&mut stored, at)?;
        let decoded =
            codec::decode_hdf5_chunk(stored, &pipeline.source, e.filter_mask, per_chunk * ELEMENT)?;
        place(&decoded, &e.offset, chunk, shape, &mut out)?;
    }
    Ok(out)
}

/// Copy a decoded chunk whose first element is at `offset` into the row-major `out`.
fn place(
    decoded: &[u8],
    offset: &[u64],
    chunk: &[u64],
    shape: &[u64],
    out: &mut [u8],
) -> Result<(), Declined> {
    let rank = shape.len();
    let inside = offset.iter().zip(shape).zip(chunk).all(|((o, s), c)| o < s && o % c == 0);
    if offset.len() != rank || !inside {
        return Err("string chunk outside the variable's grid".into());
    }
    if decoded.len() < chunk.iter().product::<u64>() as usize * ELEMENT {
        return Err("string chunk of another shape".into());
    }
    let mut local = vec![0u64; rank];
    for element in decoded.chunks_exact(ELEMENT) {
        let global: Vec<u64> = local.iter().zip(offset).map(|(l, o)| l + o).collect();
        if global.iter().zip(shape).all(|(g, s)| g < s) {
            let pos = global.iter().zip(shape).fold(0u64, |acc, (g, s)| acc * s + g) as usize;
            out[pos * ELEMENT..(pos + 1) * ELEMENT].copy_from_slice(element);
        }
        for d in (0..rank).rev() {
            local[d] += 1;
            if local[d] < chunk[d] {
                break;
            }
            local[d] = 0;
        }
    }
    Ok(())
}
