//! Time-like variables of a collection generated along the joined dimension: the time
//! coordinate and its bounds (and any variable whose units are `<unit> since <date>`), every
//! member's values re-expressed in the first member's units with the calendar's arithmetic,
//! held in the index as one chunk.

use super::time::{numbers, push_number};
use crate::cf::calendar::{Calendar, TimeAxis};
use crate::index::{ArrayNode, AttrValue, ChunkFiles, ChunkRef, Dtype, ElementKind, StorageKind};

/// Reads a member's array whole, errors as text (the reason a variable is left out).
pub type ReadText<'r> = dyn Fn(usize, &ArrayNode) -> Result<Vec<u8>, String> + 'r;

/// Generated time-like variables larger than this are refused (a daily axis of 10,000 years is
/// 29 MiB as f8).
const MAX_GENERATED_BYTES: u64 = 64 << 20;

/// One member's values in the joined variable.
enum Part {
    /// Stored as the first member stores them (its units, type and fill value): its bytes as
    /// they are.
    Same(Vec<u8>),
    /// Re-expressed in the first member's units (`None`: missing).
    Values(Vec<Option<f64>>),
}

/// A time-like variable of the members (`all`, in time order) joined along dimension `d`,
/// its values re-expressed in the first member's units: one chunk held in the index.
/// `units[i]` are member `i`'s units for it (its own, or its time coordinate's for bounds).
pub fn generated_time(
    all: &[&ArrayNode],
    d: usize,
    (calendar, units): (Calendar, &[String]),
    read: &ReadText<'_>,
) -> Result<ArrayNode, String> {
    let first = all[0];
    let target = TimeAxis::parse(&units[0], calendar).map_err(|e| e.to_string())?;
    let mut shape = first.shape.clone();
    shape[d] = all.iter().map(|a| a.shape[d]).sum();
    let count: u64 = shape.iter().product();
    if count.saturating_mul(8) > MAX_GENERATED_BYTES {
        return Err(format!("{count} values are more than a generated time variable may hold"));
    }
    let mut parts = Vec::with_capacity(all.len());
    for (i, a) in all.iter().enumerate() {
        let axis = TimeAxis::parse(&units[i], calendar).map_err(|e| format!("member {i}: {e}"))?;
        let bytes = read(i, a)?;
        if axis == target && a.dtype == first.dtype && a.fill_value == first.fill_value {
            parts.push(Part::Same(bytes));
            continue;
        }
        let values = numbers(a, &bytes).into_iter();
        let re_expressed = values.map(|v| v.and_then(|v| axis.instant(v)).map(|t| target.value(t)));
        parts.push(Part::Values(re_expressed.collect()));
    }
    let dtype = keep_or_float(first.dtype, &parts);
    let fill = first.fill_value.as_ref().and_then(|f| dtype.encode(f));
    let bytes = joined_bytes(&parts, all, d, (first, dtype, fill.as_deref()))?;
    let mut out = first.clone();
    out.dtype = dtype;
    out.fill_element = fill.unwrap_or_else(|| vec![0; dtype.size]);
    out.chunks = shape.iter().map(|s| (*s).max(1)).collect();
    out.shape = shape;
    out.codecs = vec![];
    out.source_filters = vec![];
    out.storage = StorageKind::Compact;
    out.chunk_refs = if count == 0 { vec![] } else { vec![Some(ChunkRef::Inline { bytes })] };
    out.fill_chunk = None;
    out.library_path = None;
    out.files = ChunkFiles::Own;
    Ok(out)
}

/// The members' values joined along dimension `d` (row-major), each stored as one element of
/// `dtype` (`fill` for a missing value). `first`: the first member's array.
fn joined_bytes(
    parts: &[Part],
    all: &[&ArrayNode],
    d: usize,
    (first, dtype, fill): (&ArrayNode, Dtype, Option<&[u8]>),
) -> Result<Vec<u8>, String> {
    let outer: u64 = first.shape[..d].iter().product();
    let inner: u64 = first.shape[d + 1..].iter().product();
    let total: u64 = all.iter().map(|a| a.shape[d]).sum::<u64>() * outer * inner;
    let mut out = Vec::with_capacity(total as usize * dtype.size);
    let push = |out: &mut Vec<u8>, v: Option<f64>| -> Result<(), String> {
        match (v, fill) {
            (Some(v), _) => push_number(out, dtype, v).ok_or("unencodable")?,
            (None, Some(f)) => out.extend_from_slice(f),
            (None, None) if dtype.is_float() => {
                push_number(out, dtype, f64::NAN).ok_or("unencodable")?
            }
            (None, None) => return Err("missing values without a fill value".into()),
        }
        Ok(())
    };
    for o in 0..outer {
        for (part, a) in parts.iter().zip(all) {
            let block = (a.shape[d] * inner) as usize;
            let at = o as usize * block;
            match part {
                Part::Same(bytes) if dtype == first.dtype => {
                    let es = dtype.size;
                    let slice = bytes.get(at * es..(at + block) * es).ok_or("a short read")?;
                    out.extend_from_slice(slice);
                }
                Part::Same(bytes) => {
                    let es = first.dtype.size.max(1);
                    let slice = bytes.get(at * es..(at + block) * es).ok_or("a short read")?;
                    for v in numbers(first, slice) {
                        push(&mut out, v)?;
                    }
                }
                Part::Values(values) => {
                    for v in values.get(at..at + block).ok_or("a short read")? {
                        push(&mut out, *v)?;
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The first member's type when it holds every value exactly, else f8 (values stored as the
/// first member stores them are held by its type).
fn keep_or_float(dtype: Dtype, parts: &[Part]) -> Dtype {
    let values = parts.iter().flat_map(|p| match p {
        Part::Values(v) => v.as_slice(),
        Part::Same(_) => &[],
    });
    let exact = match (dtype.kind, dtype.size) {
        (ElementKind::Float, 8) => true,
        (ElementKind::Float, 4) => values.flatten().all(|v| f64::from(*v as f32) == *v),
        _ => values.flatten().all(|v| {
            let back = dtype.encode(&AttrValue::Float(*v)).and_then(|b| dtype.decode(&b));
            back.and_then(|x| x.as_f64()) == Some(*v)
        }),
    };
    if exact {
        dtype
    } else {
        Dtype::le(ElementKind::Float, 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A time coordinate of `dtype` in `units` (noleap) holding `values`.
    fn time(dtype: Dtype, units: &str, values: &[f64]) -> ArrayNode {
        let mut bytes = Vec::new();
        values.iter().for_each(|v| push_number(&mut bytes, dtype, *v).unwrap());
        let n = values.len() as u64;
        ArrayNode {
            name: "time".into(),
            dtype,
            shape: vec![n],
            chunks: vec![n],
            dims: vec!["time".into()],
            fill_value: None,
            attrs: vec![("units".into(), AttrValue::Str(units.into()))],
            codecs: vec![],
            storage: StorageKind::Compact,
            source_filters: vec![],
            fill_element: vec![0; dtype.size],
            chunk_refs: vec![Some(ChunkRef::Inline { bytes })],
            fill_chunk: None,
            library_path: None,
            files: ChunkFiles::Own,
            joined: None,
            stored_chunks: None,
            compound: None,
            unpacking: None,
        }
    }

    fn joined(all: &[&ArrayNode]) -> (Dtype, Vec<f64>) {
        let units: Vec<String> =
            all.iter().map(|a| super::super::time::text(a, "units").unwrap().into()).collect();
        let read = |i: usize, _: &ArrayNode| match &all[i].chunk_refs[0] {
            Some(ChunkRef::Inline { bytes }) => Ok(bytes.clone()),
            _ => unreachable!(),
        };
        let out = generated_time(all, 0, (Calendar::NoLeap, &units), &read).unwrap();
        let Some(ChunkRef::Inline { bytes }) = &out.chunk_refs[0] else { unreachable!() };
        (out.dtype, numbers(&out, bytes).into_iter().map(Option::unwrap).collect())
    }

    #[test]
    fn members_in_the_first_units_are_kept_others_re_expressed() {
        let f4 = Dtype::le(ElementKind::Float, 4);
        let a = time(f4, "days since 1850-01-01", &[0.5, 1.5]);
        let b = time(f4, "days since 1850-01-01", &[365.5]);
        let c = time(f4, "hours since 1851-01-01", &[36.0]);
        // f4 holds every value: the first member's type is kept
        assert_eq!(joined(&[&a, &b, &c]), (f4, vec![0.5, 1.5, 365.5, 366.5]));
        // a value f4 cannot hold: f8, the first member's values converted too
        let d = time(Dtype::le(ElementKind::Float, 8), "seconds since 1851-01-01", &[31_536_001.0]);
        let (dtype, values) = joined(&[&a, &d]);
        assert_eq!(dtype, Dtype::le(ElementKind::Float, 8));
        assert_eq!(values, vec![0.5, 1.5, 730.0 + 1.0 / 86_400.0]);
    }
}
