//! NumPy-style type strings (`<f4`, `>i2`, `|u1`) and encoding of scalar values into them.

use super::AttrValue;

/// A numeric element type with its byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dtype {
    /// 'i' signed integer, 'u' unsigned integer, 'f' IEEE float, 'S' fixed bytes (netCDF char).
    pub kind: char,
    pub size: usize,
    pub big_endian: bool,
}

impl Dtype {
    /// Parse `<f4`-style strings.
    pub fn parse(s: &str) -> Option<Dtype> {
        let mut chars = s.chars();
        let order = chars.next()?;
        let kind = chars.next()?;
        let size: usize = chars.as_str().parse().ok()?;
        let valid = match kind {
            'i' | 'u' => matches!(size, 1 | 2 | 4 | 8),
            'f' => matches!(size, 4 | 8),
            'S' => size == 1,
            _ => false,
        };
        if !valid || !matches!(order, '<' | '>' | '|') {
            return None;
        }
        Some(Dtype { kind, size, big_endian: order == '>' })
    }

    /// The type string; single-byte types use '|' as NumPy does.
    pub fn to_numpy(self) -> String {
        let order = if self.size == 1 {
            '|'
        } else if self.big_endian {
            '>'
        } else {
            '<'
        };
        format!("{order}{}{}", self.kind, self.size)
    }

    pub fn is_float(self) -> bool {
        self.kind == 'f'
    }

    /// The value of one element stored in this type.
    pub fn decode(self, bytes: &[u8]) -> Option<AttrValue> {
        if bytes.len() != self.size {
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
            'u' => AttrValue::UInt(raw),
            'i' => AttrValue::Int(((raw << (64 - bits)) as i64) >> (64 - bits)),
            'f' if self.size == 4 => AttrValue::Float(f64::from(f32::from_bits(raw as u32))),
            'f' => AttrValue::Float(f64::from_bits(raw)),
            _ => return None,
        })
    }

    /// Bytes of `value` as one element of this type, if it is representable exactly enough
    /// (integers must be integral and in range; floats are rounded to the type as C would).
    pub fn encode(self, value: &AttrValue) -> Option<Vec<u8>> {
        let mut le: Vec<u8> = match (self.kind, value) {
            ('f', v) => {
                let x = v.as_f64()?;
                if self.size == 4 {
                    (x as f32).to_le_bytes().to_vec()
                } else {
                    x.to_le_bytes().to_vec()
                }
            }
            ('S', AttrValue::Str(text)) if text.len() <= 1 => {
                vec![text.as_bytes().first().copied().unwrap_or(0)]
            }
            ('i', _) | ('u', _) => {
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
                let (lo, hi) = if self.kind == 'i' {
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
    fn parses_and_encodes() {
        let d = Dtype::parse(">i2").unwrap();
        assert_eq!(d.to_numpy(), ">i2");
        assert_eq!(d.encode(&AttrValue::Int(-2)), Some(vec![0xff, 0xfe]));
        assert_eq!(d.encode(&AttrValue::Int(70000)), None);
        assert_eq!(d.encode(&AttrValue::Float(f64::NAN)), None);
        let f = Dtype::parse("<f4").unwrap();
        assert_eq!(f.encode(&AttrValue::Float(1.0)), Some(1.0f32.to_le_bytes().to_vec()));
        assert_eq!(Dtype::parse("|u1").unwrap().to_numpy(), "|u1");
        assert_eq!(
            Dtype::parse("<u8").unwrap().encode(&AttrValue::UInt(u64::MAX)),
            Some(vec![0xff; 8])
        );
        assert!(Dtype::parse("<f2").is_none());
        for (t, v) in [
            (">i2", AttrValue::Int(-2)),
            ("<u8", AttrValue::UInt(7)),
            ("<f4", AttrValue::Float(1.5)),
        ] {
            let d = Dtype::parse(t).unwrap();
            assert_eq!(d.decode(&d.encode(&v).unwrap()), Some(v));
        }
    }
}
