//! Attribute values, typed as the netCDF and HDF5 libraries return them. How a Zarr version
//! writes them as JSON (NaN tokens, fill values) is the zarr layer's business.

use serde::{Deserialize, Serialize};

/// A typed attribute value. Single values and arrays are kept apart because netCDF4-python
/// (and so xarray) returns a one-element attribute as a scalar and longer ones as arrays.
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
}

impl AttrValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            AttrValue::Int(_) | AttrValue::UInt(_) | AttrValue::Float(_) | AttrValue::Str(_) => 1,
            AttrValue::Ints(v) => v.len(),
            AttrValue::UInts(v) => v.len(),
            AttrValue::Floats(v) => v.len(),
            AttrValue::Strs(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as f64 when it is a single number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Int(v) => Some(*v as f64),
            AttrValue::UInt(v) => Some(*v as f64),
            AttrValue::Float(v) => Some(*v),
            AttrValue::Ints(v) if v.len() == 1 => Some(v[0] as f64),
            AttrValue::UInts(v) if v.len() == 1 => Some(v[0] as f64),
            AttrValue::Floats(v) if v.len() == 1 => Some(v[0]),
            _ => None,
        }
    }
}
