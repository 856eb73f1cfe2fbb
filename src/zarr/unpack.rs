//! `--unpack` (decoded mode only): CF-packed variables served unpacked, as xarray's netcdf4
//! engine decodes them, so that `open_zarr` gives the values and the dtype `open_dataset`
//! gives (a Zarr v2 store's JSON attributes cannot say that `scale_factor` is float32, so a
//! packed store always decodes to float64).
//!
//! The rules are xarray's (`coding/variables.py`): `_Unsigned` reads signed integers as
//! unsigned (or the reverse) and converts `_FillValue` with them (not `missing_value`); the
//! served type is float32 when `scale_factor` and `add_offset` are both float32 (and the
//! stored integers narrower than 4 bytes) or `scale_factor` alone is, else float64; stored
//! values equal to `_FillValue` or a `missing_value` are NaN (`valid_range` is not applied);
//! the others are `value * scale_factor + add_offset` in the served type. The served array
//! declares NaN as its fill value and drops `scale_factor`, `add_offset`, `_Unsigned` and
//! `missing_value` from its attributes (xarray moves them to `encoding`); the rest stay.
//! Integer packing attributes count with their declared width (`AttrValue::Narrow`; a
//! 64-bit one otherwise): integer `scale_factor` and `add_offset`, or an integer
//! `add_offset`, give float64; an integer `scale_factor` alone gives its own integer type
//! (xarray casts the stored integers to it and multiplies, wrapping), served so; where xarray
//! cannot decode (such a variable with a fill or missing value, or stored as floats; packing
//! attributes that are lists or text) the variable is left as it is.

use crate::index::{ArrayNode, AttrValue, ChunkRef, Dtype, ElementKind, GroupNode, Unpacking};

/// The attributes xarray takes out of `attrs` when it unpacks.
const PACKING: [&str; 4] = ["scale_factor", "add_offset", "_Unsigned", "missing_value"];

/// Unpack every packed array of `g` and its groups.
pub fn unpack_group(g: &mut GroupNode) {
    for a in &mut g.arrays {
        if let Some(unpacking) = unpacking(a) {
            serve_unpacked(a, unpacking);
        }
    }
    g.groups.iter_mut().for_each(unpack_group);
}

/// The size of one served element of `a` when `--unpack` serves it unpacked.
pub fn served_size(a: &ArrayNode) -> Option<usize> {
    packing(a).map(|p| match p.integer {
        Some((d, _)) => d.size,
        None if p.float32 => 4,
        None => 8,
    })
}

/// What xarray makes of `a`'s packing attributes.
struct Packing {
    stored: Dtype,
    scale: Option<f64>,
    offset: Option<f64>,
    float32: bool,
    integer: Option<(Dtype, i128)>,
}

/// The NumPy type of a packing attribute as xarray takes it (`np.dtype(type(value))`), and
/// its value; None: not a single number.
#[derive(Clone, Copy, PartialEq)]
enum Num {
    F32(f64),
    F64(f64),
    Int(Dtype, i128),
}

impl Num {
    fn of(v: &AttrValue) -> Option<Num> {
        Some(match *v {
            AttrValue::Float32(x) => Num::F32(f64::from(x)),
            AttrValue::Float(x) => Num::F64(x),
            AttrValue::Int(x) => Num::Int(Dtype::le(ElementKind::Int, 8), x.into()),
            AttrValue::UInt(x) => Num::Int(Dtype::le(ElementKind::UInt, 8), x.into()),
            AttrValue::Narrow { value, unsigned, size } => {
                let kind = if unsigned { ElementKind::UInt } else { ElementKind::Int };
                Num::Int(Dtype::le(kind, usize::from(size)), value.into())
            }
            _ => return None,
        })
    }

    fn value(self) -> f64 {
        match self {
            Num::F32(x) | Num::F64(x) => x,
            Num::Int(_, x) => x as f64,
        }
    }

    /// The type alone (whether two attributes have the same type).
    fn kind(self) -> (u8, Option<Dtype>) {
        match self {
            Num::F32(_) => (4, None),
            Num::F64(_) => (8, None),
            Num::Int(d, _) => (0, Some(d)),
        }
    }
}

/// `a`'s packing, when it is packed (a number with a numeric `scale_factor` or `add_offset`
/// xarray can decode).
fn packing(a: &ArrayNode) -> Option<Packing> {
    let attr = |k: &str| a.attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    let (scale, offset) = (attr("scale_factor"), attr("add_offset"));
    if scale.is_none() && offset.is_none() || !a.dtype.is_number() {
        return None;
    }
    let scale = scale.map(Num::of).map_or(Some(None), |f| f.map(Some))?;
    let offset = offset.map(Num::of).map_or(Some(None), |f| f.map(Some))?;
    let stored = unsigned(a.dtype, attr("_Unsigned"));
    let integer = matches!(stored.kind, ElementKind::Int | ElementKind::UInt);
    let float = |n: Num| !matches!(n, Num::Int(..));
    // xarray's _choose_float_dtype
    let (float32, int_result) = match (scale, offset) {
        (Some(s), Some(o)) if s.kind() == o.kind() && float(s) => {
            (matches!(s, Num::F32(_)) && !(integer && stored.size == 4), None)
        }
        (_, Some(_)) => (false, None),
        (Some(Num::Int(d, x)), None) => (false, Some((d, x))),
        (Some(s), None) => (matches!(s, Num::F32(_)), None),
        (None, None) => return None,
    };
    // an integer result: xarray fails to mask it (NaN into integers), and casts floats
    let masked = a.fill_value.is_some() || !a.missing_value_attr().is_empty();
    if int_result.is_some() && (masked || !integer) {
        return None;
    }
    Some(Packing {
        stored,
        scale: scale.map(Num::value),
        offset: offset.map(Num::value),
        float32,
        integer: int_result,
    })
}

/// How `a` is unpacked, when it is packed.
fn unpacking(a: &ArrayNode) -> Option<Unpacking> {
    let Packing { stored, scale, offset, float32, integer } = packing(a)?;
    // _FillValue read as the stored values are (_Unsigned), missing_value as it is (xarray)
    let fill = a.fill_value.as_ref();
    let converted = fill.and_then(|f| a.dtype.encode(f)).and_then(|b| stored.decode(&b));
    let mut missing: Vec<f64> =
        converted.as_ref().or(fill).and_then(|f| f.as_f64()).into_iter().collect();
    missing.extend(a.missing_value_attr());
    missing.retain(|m| !m.is_nan());
    Some(Unpacking { packed: a.clone(), stored, scale, offset, missing, float32, integer })
}

/// The type the stored values are read as: `_Unsigned = "true"` makes signed integers
/// unsigned, `"false"` unsigned ones signed (xarray: the same bytes, reinterpreted).
fn unsigned(dtype: Dtype, attr: Option<&AttrValue>) -> Dtype {
    let flag = match attr {
        Some(AttrValue::Str(s)) => s.as_str(),
        _ => return dtype,
    };
    let kind = match (dtype.kind, flag) {
        (ElementKind::Int, "true") => ElementKind::UInt,
        (ElementKind::UInt, "false") => ElementKind::Int,
        _ => return dtype,
    };
    Dtype { kind, ..dtype }
}

/// Make `a` serve `u`'s unpacked values: float type, NaN fill, packing attributes gone,
/// every chunk generated from the packed one at its position.
fn serve_unpacked(a: &mut ArrayNode, u: Unpacking) {
    if let Some((d, _)) = u.integer {
        // no fill value (xarray cannot decode one): unwritten values scaled as the rest
        a.dtype = d;
        a.fill_value = None;
        a.fill_element = unpacked(&u, &a.fill_element);
    } else {
        let size = if u.float32 { 4 } else { 8 };
        a.dtype = Dtype::le(ElementKind::Float, size);
        a.fill_value = Some(AttrValue::Float(f64::NAN));
        a.fill_element = if u.float32 {
            f32::NAN.to_le_bytes().to_vec()
        } else {
            f64::NAN.to_le_bytes().to_vec()
        };
    }
    a.attrs.retain(|(k, _)| !PACKING.contains(&k.as_str()));
    a.codecs.clear();
    a.fill_chunk = None;
    let chunk = a.chunk_nbytes();
    a.chunk_refs = vec![Some(ChunkRef::Unpacked { size: chunk }); a.chunk_refs.len()];
    a.unpacking = Some(Box::new(u));
}

/// The unpacked values (little-endian, the served float type) of `packed`, a chunk of the
/// packed array's values.
pub fn unpacked(u: &Unpacking, packed: &[u8]) -> Vec<u8> {
    let es = u.packed.dtype.size.max(1);
    if let Some((d, scale)) = u.integer {
        return scaled_integers(u.stored, d, scale, packed);
    }
    let n = packed.len() / es;
    let mut out = Vec::with_capacity(n * if u.float32 { 4 } else { 8 });
    for b in packed.chunks_exact(es) {
        let raw = u.stored.decode(b).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
        if u.float32 {
            // the stored value as float32, compared as xarray compares (in float64)
            let x = raw as f32;
            let v = if u.missing.contains(&f64::from(x)) { f32::NAN } else { scaled32(u, x) };
            out.extend_from_slice(&v.to_le_bytes());
        } else {
            let v = if u.missing.contains(&raw) { f64::NAN } else { scaled64(u, raw) };
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Stored integers (`stored`) cast to the integer type `d` and multiplied by `scale` in it,
/// both wrapping (NumPy's `astype` and `*=`), little-endian.
fn scaled_integers(stored: Dtype, d: Dtype, scale: i128, packed: &[u8]) -> Vec<u8> {
    let bits = 8 * d.size.clamp(1, 8) as u32;
    let wrap = |x: i128| {
        let low = x & ((1i128 << bits) - 1);
        match d.kind {
            ElementKind::Int if low >> (bits - 1) != 0 => low - (1i128 << bits),
            _ => low,
        }
    };
    let mut out = Vec::with_capacity(packed.len() / stored.size.max(1) * d.size);
    for b in packed.chunks_exact(stored.size.max(1)) {
        let x = match stored.decode(b) {
            Some(AttrValue::Int(v)) => i128::from(v),
            Some(AttrValue::UInt(v)) => i128::from(v),
            _ => 0,
        };
        let v = wrap(wrap(x).wrapping_mul(wrap(scale)));
        out.extend_from_slice(&(v as u64).to_le_bytes()[..d.size]);
    }
    out
}

/// `x * scale + offset` in single precision, each step rounded (as NumPy's in-place ops).
fn scaled32(u: &Unpacking, mut x: f32) -> f32 {
    if let Some(s) = u.scale {
        x *= s as f32;
    }
    if let Some(o) = u.offset {
        x += o as f32;
    }
    x
}

fn scaled64(u: &Unpacking, mut x: f64) -> f64 {
    if let Some(s) = u.scale {
        x *= s;
    }
    if let Some(o) = u.offset {
        x += o;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(dtype: Dtype, attrs: Vec<(&str, AttrValue)>) -> ArrayNode {
        let attrs = attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        ArrayNode::unplaced("v".into(), dtype, vec![2], vec!["x".into()], None, attrs)
    }

    #[test]
    fn the_served_type_is_xarrays_choice() {
        let (i2, i4) = (Dtype::le(ElementKind::Int, 2), Dtype::le(ElementKind::Int, 4));
        let (s32, s64) = (AttrValue::Float32(0.5), AttrValue::Float(0.5));
        let float32 = |d, attrs| unpacking(&packed(d, attrs)).map(|u| u.float32);
        let both = |s: &AttrValue, o: &AttrValue| {
            vec![("scale_factor", s.clone()), ("add_offset", o.clone())]
        };
        assert_eq!(float32(i2, both(&s32, &s32)), Some(true));
        assert_eq!(float32(i4, both(&s32, &s32)), Some(false)); // int32: float64
        assert_eq!(float32(i2, both(&s64, &s64)), Some(false));
        assert_eq!(float32(i2, both(&s32, &s64)), Some(false)); // types differ
        assert_eq!(float32(i2, vec![("scale_factor", s32.clone())]), Some(true));
        assert_eq!(float32(i2, vec![("add_offset", s32.clone())]), Some(false));
        // integer packing attributes: float64, but an integer scale_factor alone
        let int16 = AttrValue::Narrow { value: 3, unsigned: false, size: 2 };
        assert_eq!(float32(i2, both(&int16, &int16)), Some(false));
        assert_eq!(float32(i2, both(&s32, &int16)), Some(false));
        assert_eq!(float32(i2, vec![("add_offset", int16.clone())]), Some(false));
        let integer = |d, attrs| unpacking(&packed(d, attrs)).and_then(|u| u.integer);
        assert_eq!(integer(i4, vec![("scale_factor", int16.clone())]), Some((i2, 3)));
        assert_eq!(integer(i2, both(&int16, &int16)), None);
        let i8 = Dtype::le(ElementKind::Int, 8);
        assert_eq!(integer(i2, vec![("scale_factor", AttrValue::Int(3))]), Some((i8, 3)));
        // xarray cannot decode an integer scale with a fill value, nor float data with one
        let mut filled = packed(i2, vec![("scale_factor", int16.clone())]);
        filled.fill_value = Some(AttrValue::Int(-1));
        assert!(unpacking(&filled).is_none());
        let f4 = Dtype::le(ElementKind::Float, 4);
        assert!(unpacking(&packed(f4, vec![("scale_factor", int16.clone())])).is_none());
        assert_eq!(float32(i2, vec![("units", AttrValue::Str("K".into()))]), None);
    }

    #[test]
    fn an_integer_scale_casts_and_multiplies_wrapping() {
        let (i2, i1) = (Dtype::le(ElementKind::Int, 2), Dtype::le(ElementKind::Int, 1));
        let int8 = AttrValue::Narrow { value: 3, unsigned: false, size: 1 };
        let u = unpacking(&packed(i2, vec![("scale_factor", int8)])).unwrap();
        assert_eq!(u.integer, Some((i1, 3)));
        let stored: Vec<u8> = [100i16, -1, 300].iter().flat_map(|v| v.to_le_bytes()).collect();
        // 100 * 3 = 300 → 44; -1 → -3; 300 → 44 (int8) → 132 → -124
        assert_eq!(unpacked(&u, &stored), [44u8, (-3i8) as u8, (-124i8) as u8]);
    }

    #[test]
    fn unsigned_fill_and_missing_values_become_nan() {
        let i1 = Dtype::le(ElementKind::Int, 1);
        let mut a = packed(
            i1,
            vec![
                ("_Unsigned", AttrValue::Str("true".into())),
                ("scale_factor", AttrValue::Float32(2.0)),
                ("missing_value", AttrValue::Int(-2)), // not converted: never matches
            ],
        );
        a.fill_value = Some(AttrValue::Int(-1));
        let u = unpacking(&a).unwrap();
        assert_eq!(u.missing, vec![255.0, -2.0]);
        let out = unpacked(&u, &[0xff, 0xfe]);
        let v: Vec<f32> =
            out.chunks(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        assert!(v[0].is_nan());
        assert_eq!(v[1], 508.0);
    }
}
