//! netCDF attribute values → [`AttrValue`], the way netCDF4-python hands them to xarray.

use crate::index::AttrValue;
use netcdf::AttributeValue as A;

/// Convert one netCDF attribute. One-element arrays become scalars, as in netCDF4-python;
/// NC_FLOAT stays single precision.
pub fn convert(value: A) -> AttrValue {
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
        A::Uchar(x) => AttrValue::UInt(x.into()),
        A::Uchars(v) => uints(v),
        A::Schar(x) => AttrValue::Int(x.into()),
        A::Schars(v) => ints(v),
        A::Ushort(x) => AttrValue::UInt(x.into()),
        A::Ushorts(v) => uints(v),
        A::Short(x) => AttrValue::Int(x.into()),
        A::Shorts(v) => ints(v),
        A::Uint(x) => AttrValue::UInt(x.into()),
        A::Uints(v) => uints(v),
        A::Int(x) => AttrValue::Int(x.into()),
        A::Ints(v) => ints(v),
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
