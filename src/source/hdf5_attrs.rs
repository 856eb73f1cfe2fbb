//! Attributes of the pure-HDF5 view ([`super::hdf5_model`]) read with libhdf5: numbers and
//! strings (variable- and fixed-length, ASCII or UTF-8, of any padding, read as h5py reads
//! them: [`super::hdf5_strings`]) as netCDF4-python hands them to xarray (one element as a
//! scalar, several flattened into a list); a string attribute with a null dataspace (h5py's
//! `Empty`) is the empty string, as netCDF-C reads it. netCDF-C's reserved attributes hidden,
//! other types left out with a warning.

use super::hdf5_strings;
use super::reserved::HIDDEN;
use crate::index::{AttrValue, Attrs};
use hdf5::types::TypeDescriptor::{self, FixedAscii, FixedUnicode, VarLenAscii, VarLenUnicode};
use hdf5::Location;
use std::path::Path;
use tracing::warn;

/// The attributes of `owner` that map onto netCDF attribute types; the others (references,
/// compounds, …) are left out with a warning.
pub fn read_attrs(path: &Path, owner: &str, loc: &Location) -> Attrs {
    let names = loc.attr_names().unwrap_or_default();
    let mut out = Vec::new();
    for name in names.into_iter().filter(|n| !HIDDEN.contains(&n.as_str())) {
        match read_attr(loc, &name) {
            Ok(value) => out.push((name, value)),
            Err(e) => warn!(file = %path.display(), owner, attribute = %name,
                "attribute left out: {e}"),
        }
    }
    out
}

fn read_attr(loc: &Location, name: &str) -> Result<AttrValue, String> {
    let attr = loc.attr(name).map_err(|e| e.to_string())?;
    let t = attr.dtype().and_then(|t| t.to_descriptor()).map_err(|e| e.to_string())?;
    let e = |e: hdf5::Error| e.to_string();
    Ok(match t {
        TypeDescriptor::Integer(size) => {
            let v = attr.read_raw::<i64>().map_err(e)?;
            match v.as_slice() {
                [x] => AttrValue::integer((*x).into(), false, size as usize),
                _ => AttrValue::Ints(v),
            }
        }
        TypeDescriptor::Unsigned(size) => {
            let v = attr.read_raw::<u64>().map_err(e)?;
            match v.as_slice() {
                [x] => AttrValue::integer((*x).into(), true, size as usize),
                _ => AttrValue::UInts(v),
            }
        }
        TypeDescriptor::Float(hdf5::types::FloatSize::U4) => {
            let v = attr.read_raw::<f32>().map_err(e)?;
            one_or_many(v, AttrValue::Float32, AttrValue::Floats32)
        }
        TypeDescriptor::Float(_) => {
            let v = attr.read_raw::<f64>().map_err(e)?;
            one_or_many(v, AttrValue::Float, AttrValue::Floats)
        }
        t @ (VarLenAscii | VarLenUnicode | FixedAscii(_) | FixedUnicode(_)) => {
            if attr.space().map_err(e)?.is_null() {
                return Ok(AttrValue::Str(String::new()));
            }
            let v = hdf5_strings::read_strings(&attr, &t).map_err(|e| e.to_string())?;
            one_or_many(v, AttrValue::Str, AttrValue::Strs)
        }
        other => return Err(format!("{other} attributes are not supported")),
    })
}

/// One element as a scalar, more as an array (as netCDF4-python hands attributes to xarray).
fn one_or_many<T>(
    mut v: Vec<T>,
    one: fn(T) -> AttrValue,
    many: fn(Vec<T>) -> AttrValue,
) -> AttrValue {
    if v.len() == 1 {
        one(v.remove(0))
    } else {
        many(v)
    }
}
