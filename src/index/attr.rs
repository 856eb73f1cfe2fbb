//! Attribute values, typed as the netCDF and HDF5 libraries return them. How a Zarr version
//! writes them as JSON (NaN tokens, fill values) is the zarr layer's business.

use serde::{Deserialize, Serialize};

/// A typed attribute value. Single values and arrays are kept apart because netCDF4-python
/// (and so xarray) returns a one-element attribute as a scalar and longer ones as arrays.
/// Single-precision floats are kept apart from double ones: xarray chooses the type of
/// unpacked data by the type of `scale_factor`/`add_offset` (`--unpack`), which JSON loses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AttrValue {
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Ints(Vec<i64>),
    UInts(Vec<u64>),
    Floats(Vec<f64>),
    Strs(Vec<String>),
    /// A single-precision float (netCDF NC_FLOAT, HDF5 4-byte float).
    Float32(f32),
    Floats32(Vec<f32>),
}

impl AttrValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            AttrValue::Int(_)
            | AttrValue::UInt(_)
            | AttrValue::Float(_)
            | AttrValue::Float32(_)
            | AttrValue::Str(_) => 1,
            AttrValue::Ints(v) => v.len(),
            AttrValue::UInts(v) => v.len(),
            AttrValue::Floats(v) => v.len(),
            AttrValue::Floats32(v) => v.len(),
            AttrValue::Strs(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value with single-precision floats widened to f64 (exactly): for readers that care
    /// about the numbers, not how they were stored.
    pub fn widened(&self) -> std::borrow::Cow<'_, AttrValue> {
        use std::borrow::Cow;
        match self {
            AttrValue::Float32(v) => Cow::Owned(AttrValue::Float(f64::from(*v))),
            AttrValue::Floats32(v) => {
                Cow::Owned(AttrValue::Floats(v.iter().map(|x| f64::from(*x)).collect()))
            }
            other => Cow::Borrowed(other),
        }
    }

    /// True for single-precision floats.
    pub fn is_float32(&self) -> bool {
        matches!(self, AttrValue::Float32(_) | AttrValue::Floats32(_))
    }

    /// The value as f64 when it is a single number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Int(v) => Some(*v as f64),
            AttrValue::UInt(v) => Some(*v as f64),
            AttrValue::Float(v) => Some(*v),
            AttrValue::Float32(v) => Some(f64::from(*v)),
            AttrValue::Ints(v) if v.len() == 1 => Some(v[0] as f64),
            AttrValue::UInts(v) if v.len() == 1 => Some(v[0] as f64),
            AttrValue::Floats(v) if v.len() == 1 => Some(v[0]),
            AttrValue::Floats32(v) if v.len() == 1 => Some(f64::from(v[0])),
            _ => None,
        }
    }
}
