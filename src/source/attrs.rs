//! netCDF attribute values → [`AttrValue`], the way netCDF4-python hands them to xarray.

use crate::index::AttrValue;
use netcdf::AttributeValue as A;

/// Convert one netCDF attribute. One-element arrays become scalars, as in netCDF4-python;
/// NC_FLOAT stays single precision, a single integer keeps its width.
pub fn convert(value: A) -> AttrValue {
    let sized = |v: AttrValue, unsigned: bool, size: usize| match v {
        AttrValue::Int(x) => AttrValue::integer(x.into(), unsigned, size),
        AttrValue::UInt(x) => AttrValue::integer(x.into(), unsigned, size),
        other => other,
    };
    fn ints<T: Into<i64> + Copy>(v: Vec<T>) -> AttrValue {
        match v.as_slice() {
            [x] => AttrValue::Int((*x).into()),
            _ => AttrValue::Ints(v.into_iter().map(Into::into).collect()),
        }
    }
    fn uints<T: Into<u64> + Copy>(v: Vec<T>) -> AttrValue {
        match v.as_slice() {
            [x] => AttrValue::UInt((*x).into()),
            _ => AttrValue::UInts(v.into_iter().map(Into::into).collect()),
        }
    }
    fn floats<T: Into<f64> + Copy>(v: Vec<T>) -> AttrValue {
        match v.as_slice() {
            [x] => AttrValue::Float((*x).into()),
            _ => AttrValue::Floats(v.into_iter().map(Into::into).collect()),
        }
    }
    match value {
        A::Uchar(x) => AttrValue::integer(x.into(), true, 1),
        A::Uchars(v) => sized(uints(v), true, 1),
        A::Schar(x) => AttrValue::integer(x.into(), false, 1),
        A::Schars(v) => sized(ints(v), false, 1),
        A::Ushort(x) => AttrValue::integer(x.into(), true, 2),
        A::Ushorts(v) => sized(uints(v), true, 2),
        A::Short(x) => AttrValue::integer(x.into(), false, 2),
        A::Shorts(v) => sized(ints(v), false, 2),
        A::Uint(x) => AttrValue::integer(x.into(), true, 4),
        A::Uints(v) => sized(uints(v), true, 4),
        A::Int(x) => AttrValue::integer(x.into(), false, 4),
        A::Ints(v) => sized(ints(v), false, 4),
        A::Ulonglong(x) => AttrValue::UInt(x),
        A::Ulonglongs(v) => uints(v),
        A::Longlong(x) => AttrValue::Int(x),
        A::Longlongs(v) => ints(v),
        A::Float(x) => AttrValue::Float32(x),
        A::Floats(v) => match v.as_slice() {
            [x] => AttrValue::Float32(*x),
            _ => AttrValue::Floats32(v),
        },
        A::Double(x) => AttrValue::Float(x),
        A::Doubles(v) => floats(v),
        A::Str(s) => AttrValue::Str(s),
        A::Strs(v) => match <[String; 1]>::try_from(v) {
            Ok([s]) => AttrValue::Str(s),
            Err(v) => AttrValue::Strs(v),
        },
    }
}
