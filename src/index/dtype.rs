//! Element types of the stored data: kind, size and byte order, and encoding of scalar values
//! into them. How a Zarr version spells a type (`<f4`, `float32`) is the zarr layer's business.

use super::AttrValue;
use serde::{Deserialize, Serialize};

/// What one element is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElementKind {
    /// Signed integer.
    Int,
    /// Unsigned integer.
    UInt,
    /// IEEE float.
    Float,
    /// One byte of a netCDF `char` array (xarray joins the last dimension itself).
    Char,
    /// A variable-length UTF-8 string (NC_STRING); `size` is 0.
    Utf8,
}

/// An element type with its byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dtype {
    pub kind: ElementKind,
    /// Bytes of one element (0 for variable-length strings).
    pub size: usize,
    /// Stored most significant byte first (only meaningful for more than one byte).
    pub big_endian: bool,
}

impl Dtype {
    /// Variable-length UTF-8 strings.
    pub const UTF8: Dtype = Dtype { kind: ElementKind::Utf8, size: 0, big_endian: false };

    /// A little-endian type of `kind` and `size` bytes.
    pub const fn le(kind: ElementKind, size: usize) -> Dtype {
        Dtype { kind, size, big_endian: false }
    }

    /// True for a number (integer or float), not a character or a string.
    pub fn is_number(self) -> bool {
        matches!(self.kind, ElementKind::Int | ElementKind::UInt | ElementKind::Float)
    }

    pub fn is_float(self) -> bool {
        self.kind == ElementKind::Float
    }

    /// The value of one element stored in this type.
    pub fn decode(self, bytes: &[u8]) -> Option<AttrValue> {
        if bytes.len() != self.size || self.size == 0 || self.size > 8 {
            return None;
        }
        let mut le = [0u8; 8];
        le[..self.size].copy_from_slice(bytes);
        if self.big_endian {
            le[..self.size].reverse();
        }
        let bits = self.size as u32 * 8;
        let raw = u64::from_le_bytes(le);
        Some(match self.kind {
            ElementKind::UInt => AttrValue::UInt(raw),
            ElementKind::Int => AttrValue::Int(((raw << (64 - bits)) as i64) >> (64 - bits)),
            ElementKind::Float if self.size == 4 => {
                AttrValue::Float(f64::from(f32::from_bits(raw as u32)))
            }
            ElementKind::Float => AttrValue::Float(f64::from_bits(raw)),
            ElementKind::Char | ElementKind::Utf8 => return None,
        })
    }

    /// Bytes of `value` as one element of this type, if it is representable exactly enough
    /// (integers must be integral and in range; floats are rounded to the type as C would).
    pub fn encode(self, value: &AttrValue) -> Option<Vec<u8>> {
        let mut le: Vec<u8> = match (self.kind, value) {
            (ElementKind::Float, v) => {
                let x = v.as_f64()?;
                if self.size == 4 {
                    (x as f32).to_le_bytes().to_vec()
                } else {
                    x.to_le_bytes().to_vec()
                }
            }
            (ElementKind::Char, AttrValue::Str(text)) if text.len() <= 1 => {
                vec![text.as_bytes().first().copied().unwrap_or(0)]
            }
            (ElementKind::Int | ElementKind::UInt, _) if (1..=8).contains(&self.size) => {
                let x: i128 = match value {
                    AttrValue::Int(v) => *v as i128,
                    AttrValue::UInt(v) => *v as i128,
                    AttrValue::Ints(v) if v.len() == 1 => v[0] as i128,
                    AttrValue::UInts(v) if v.len() == 1 => v[0] as i128,
                    other => {
                        let f = other.as_f64()?;
                        if !f.is_finite() || f.fract() != 0.0 {
                            return None;
                        }
                        f as i128
                    }
                };
                let bits = self.size as u32 * 8;
                let (lo, hi) = if self.kind == ElementKind::Int {
                    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
                } else {
                    (0, (1i128 << bits) - 1)
                };
                if x < lo || x > hi {
                    return None;
                }
                x.to_le_bytes()[..self.size].to_vec()
            }
            _ => return None,
        };
        if self.big_endian {
            le.reverse();
        }
        Some(le)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes() {
        let d = Dtype { kind: ElementKind::Int, size: 2, big_endian: true };
        assert_eq!(d.encode(&AttrValue::Int(-2)), Some(vec![0xff, 0xfe]));
        assert_eq!(d.encode(&AttrValue::Int(70000)), None);
        assert_eq!(d.encode(&AttrValue::Float(f64::NAN)), None);
        let f = Dtype::le(ElementKind::Float, 4);
        assert_eq!(f.encode(&AttrValue::Float(1.0)), Some(1.0f32.to_le_bytes().to_vec()));
        let u8 = Dtype::le(ElementKind::UInt, 8);
        assert_eq!(u8.encode(&AttrValue::UInt(u64::MAX)), Some(vec![0xff; 8]));
        assert_eq!(Dtype::UTF8.encode(&AttrValue::Str("a".into())), None);
        assert_eq!(Dtype::UTF8.decode(&[]), None);
        for (d, v) in
            [(d, AttrValue::Int(-2)), (u8, AttrValue::UInt(7)), (f, AttrValue::Float(1.5))]
        {
            assert_eq!(d.decode(&d.encode(&v).unwrap()), Some(v));
        }
    }
}
