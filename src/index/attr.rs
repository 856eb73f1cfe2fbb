//! Attribute values, typed as the netCDF and HDF5 libraries return them. How a Zarr version
//! writes them as JSON (NaN tokens, fill values) is the zarr layer's business.

use serde::{Deserialize, Serialize};

/// A typed attribute value. Single values and arrays are kept apart because netCDF4-python
/// (and so xarray) returns a one-element attribute as a scalar and longer ones as arrays.
/// Single-precision floats are kept apart from double ones: xarray chooses the type of
/// unpacked data by the type of `scale_factor`/`add_offset` (`--unpack`), which JSON loses.
/// For the same reason a single integer narrower than 8 bytes keeps its width
/// ([`AttrValue::Narrow`]); `Int`/`UInt` are 64-bit (what xarray reads a JSON integer as).
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
    /// A single integer of 1, 2 or 4 bytes (netCDF byte/short/int and their unsigned types).
    Narrow {
        value: i64,
        unsigned: bool,
        size: u8,
    },
}

impl AttrValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            AttrValue::Int(_)
            | AttrValue::UInt(_)
            | AttrValue::Float(_)
            | AttrValue::Float32(_)
            | AttrValue::Narrow { .. }
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

    /// An integer as the narrowest of `Narrow`, `Int`, `UInt` that keeps its declared width
    /// (`size` bytes, `unsigned`): a value that does not fit stays 64-bit.
    pub fn integer(value: i128, unsigned: bool, size: usize) -> AttrValue {
        let fits = |lo: i128, hi: i128| (lo..=hi).contains(&value);
        let narrow = match (unsigned, size) {
            (false, 1) => fits(i8::MIN.into(), i8::MAX.into()),
            (false, 2) => fits(i16::MIN.into(), i16::MAX.into()),
            (false, 4) => fits(i32::MIN.into(), i32::MAX.into()),
            (true, 1) => fits(0, u8::MAX.into()),
            (true, 2) => fits(0, u16::MAX.into()),
            (true, 4) => fits(0, u32::MAX.into()),
            _ => false,
        };
        if narrow {
            AttrValue::Narrow { value: value as i64, unsigned, size: size as u8 }
        } else if unsigned {
            AttrValue::UInt(value as u64)
        } else {
            AttrValue::Int(value as i64)
        }
    }

    /// The value with a narrow integer as a 64-bit one (`Int`/`UInt`), the rest as it is.
    pub fn int64(self) -> AttrValue {
        match self {
            AttrValue::Narrow { value, unsigned: false, .. } => AttrValue::Int(value),
            AttrValue::Narrow { value, unsigned: true, .. } => AttrValue::UInt(value as u64),
            other => other,
        }
    }

    /// The value with single-precision floats widened to f64 (exactly) and narrow integers
    /// to 64 bits: for readers that care about the numbers, not how they were stored.
    pub fn widened(&self) -> std::borrow::Cow<'_, AttrValue> {
        use std::borrow::Cow;
        match self {
            AttrValue::Narrow { .. } => Cow::Owned(self.clone().int64()),
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
            AttrValue::Narrow { value, .. } => Some(*value as f64),
            AttrValue::Ints(v) if v.len() == 1 => Some(v[0] as f64),
            AttrValue::UInts(v) if v.len() == 1 => Some(v[0] as f64),
            AttrValue::Floats(v) if v.len() == 1 => Some(v[0]),
            AttrValue::Floats32(v) if v.len() == 1 => Some(f64::from(v[0])),
            _ => None,
        }
    }
}
