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
    /// Fixed-width bytes: one byte of a netCDF `char` array (xarray joins the last dimension
    /// itself), or a fixed-width string member of a compound (`size` bytes, NumPy's `S<size>`).
    Char,
    /// A variable-length UTF-8 string (NC_STRING); `size` is 0.
    Utf8,
    /// A compound (structured) element of `size` bytes; its members are described by the
    /// array's [`super::Compound`].
    Compound,
    /// `size` bytes of no known type (HDF5's opaque type, NumPy's void `V<size>`).
    Opaque,
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
            ElementKind::Float if self.size == 2 => AttrValue::Float(half_to_f64(raw as u16)),
            ElementKind::Float if self.size == 4 => {
                AttrValue::Float(f64::from(f32::from_bits(raw as u32)))
            }
            ElementKind::Float => AttrValue::Float(f64::from_bits(raw)),
            ElementKind::Char | ElementKind::Utf8 | ElementKind::Compound | ElementKind::Opaque => {
                return None
            }
        })
    }

    /// Bytes of `value` as one element of this type, if it is representable exactly enough
    /// (integers must be integral and in range; floats are rounded to the type as C would).
    pub fn encode(self, value: &AttrValue) -> Option<Vec<u8>> {
        let mut le: Vec<u8> = match (self.kind, value) {
            (ElementKind::Float, v) => {
                let x = v.as_f64()?;
                if self.size == 2 {
                    f64_to_half(x).to_le_bytes().to_vec()
                } else if self.size == 4 {
                    (x as f32).to_le_bytes().to_vec()
                } else {
                    x.to_le_bytes().to_vec()
                }
            }
            (ElementKind::Char, AttrValue::Str(text)) if text.len() <= 1 => {
                vec![text.as_bytes().first().copied().unwrap_or(0)]
            }
            (ElementKind::Int | ElementKind::UInt, _) if (1..=8).contains(&self.size) => {
                let x: i128 = match &*value.widened() {
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

/// An IEEE half-precision value (float16) as f64 (exact).
fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let (exp, man) = (i32::from((h >> 10) & 0x1f), f64::from(h & 0x3ff));
    sign * match exp {
        0 => man * 2f64.powi(-24),
        31 if man == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + man / 1024.0) * 2f64.powi(e - 15),
    }
}

/// `x` rounded to the nearest float16 (ties to even), as NumPy converts.
fn f64_to_half(x: f64) -> u16 {
    let sign = if x.is_sign_negative() { 0x8000 } else { 0 };
    let a = x.abs();
    if a.is_nan() {
        return 0x7e00;
    }
    if a < 2f64.powi(-14) {
        // subnormal, in units of 2^-24 (1024 of them is the smallest normal, 0x0400)
        return sign | (a * 2f64.powi(24)).round_ties_even() as u16;
    }
    let mut e = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let mut m = (a * 2f64.powi(10 - e)).round_ties_even(); // 1024..=2048, exact scaling
    if m >= 2048.0 {
        e += 1;
        m = 1024.0;
    }
    if e > 15 {
        return sign | 0x7c00;
    }
    sign | (((e + 15) as u16) << 10) | (m as u16 - 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float16_values() {
        let f2 = Dtype::le(ElementKind::Float, 2);
        // 1.0, -2.5, the largest, the smallest subnormal, 1/3 rounded, 65520 → inf
        for (x, bits) in [(1.0, 0x3c00u16), (-2.5, 0xc100), (65504.0, 0x7bff), (2f64.powi(-24), 1)]
        {
            assert_eq!(f2.encode(&AttrValue::Float(x)), Some(bits.to_le_bytes().to_vec()));
            assert_eq!(f2.decode(&bits.to_le_bytes()), Some(AttrValue::Float(x)));
        }
        assert_eq!(f64_to_half(1.0 / 3.0), 0x3555);
        assert_eq!(f64_to_half(65520.0), 0x7c00);
        assert_eq!(f64_to_half(2047.0 / 1024.0 * 2f64.powi(-14)), 0x07ff);
        assert!(half_to_f64(0x7e00).is_nan());
    }

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
