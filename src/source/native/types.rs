//! Datatype and dataspace messages: the element types NetCDF-4 uses (integers, IEEE floats,
//! fixed-length and variable-length strings, object references in vlen sequences) and the
//! shape of a dataset or an attribute. Anything else is declined.
//! Reference: HDF5 File Format Specification 3.0, sections IV.A.2.b and IV.A.2.d.

use super::bytes::Cursor;
use crate::index::{Dtype, ElementKind};
use crate::source::Declined;

/// HDF5's "unlimited" maximum dimension.
pub const UNLIMITED: u64 = u64::MAX;

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    /// Integer: size, signed, big-endian.
    Int { size: usize, signed: bool, big_endian: bool },
    /// IEEE float of 4 or 8 bytes.
    Float { size: usize, big_endian: bool },
    /// Fixed-length string of `size` bytes (netCDF char).
    FixedString { size: usize },
    /// Variable-length string (netCDF string).
    VlenString,
    /// Variable-length sequence of object references (DIMENSION_LIST).
    VlenRefs,
    /// A type this reader does not take (the C libraries do).
    Other(String),
}

impl Type {
    /// The element type of a numeric or netCDF char value (byte order only for more than one
    /// byte, as NumPy writes it).
    pub fn dtype(&self) -> Option<Dtype> {
        Some(match *self {
            Type::Int { size, signed, big_endian } => Dtype {
                kind: if signed { ElementKind::Int } else { ElementKind::UInt },
                size,
                big_endian: big_endian && size > 1,
            },
            Type::Float { size, big_endian } => {
                Dtype { kind: ElementKind::Float, size, big_endian }
            }
            Type::FixedString { size: 1 } => Dtype::le(ElementKind::Char, 1),
            _ => return None,
        })
    }

    /// Bytes one element takes in an attribute's or dataset's data.
    pub fn size(&self) -> Option<usize> {
        match self {
            Type::Int { size, .. } | Type::Float { size, .. } | Type::FixedString { size } => {
                Some(*size)
            }
            // length (4) + global heap ID (collection address 8 + index 4)
            Type::VlenString | Type::VlenRefs => Some(16),
            Type::Other(_) => None,
        }
    }
}

/// Parse a datatype message (or an embedded datatype).
pub fn parse_type(bytes: &[u8]) -> Result<Type, Declined> {
    parse_nested(bytes, false)
}

/// `inner`: the base type of a variable-length type, which may not nest further (a chain of
/// them would recurse without bound).
fn parse_nested(bytes: &[u8], inner: bool) -> Result<Type, Declined> {
    let mut c = Cursor::new(bytes);
    let class_version = c.u8()?;
    let class = class_version & 0x0f;
    let bits = c.take(3)?;
    let size = c.u32()? as usize;
    let big_endian = bits[0] & 0x01 != 0;
    Ok(match class {
        0 => {
            let (offset, precision) = (c.u16()?, c.u16()?);
            let standard = matches!(size, 1 | 2 | 4 | 8) && offset == 0;
            if !standard || usize::from(precision) != size * 8 || bits[0] & 0x06 != 0 {
                return Ok(Type::Other(format!("{size}-byte integer with {precision} bits")));
            }
            Type::Int { size, signed: bits[0] & 0x08 != 0, big_endian }
        }
        1 => {
            let (offset, precision) = (c.u16()?, c.u16()?);
            let (exp_at, exp_bits, man_at, man_bits) = (c.u8()?, c.u8()?, c.u8()?, c.u8()?);
            let bias = c.u32()?;
            let ieee = match size {
                4 => {
                    (precision, exp_at, exp_bits, man_at, man_bits, bias) == (32, 23, 8, 0, 23, 127)
                }
                8 => {
                    (precision, exp_at, exp_bits, man_at, man_bits, bias)
                        == (64, 52, 11, 0, 52, 1023)
                }
                _ => false,
            };
            // byte order bits 0 and 6 (VAX), padding bits 1-3, mantissa normalisation 4-5 (2 =
            // implied), sign bit position in the second byte
            let normal = bits[0] & 0x4e == 0 && (bits[0] >> 4) & 0x03 == 2;
            if !ieee || offset != 0 || !normal || usize::from(bits[1]) != size * 8 - 1 {
                return Ok(Type::Other(format!("non-IEEE {size}-byte float")));
            }
            Type::Float { size, big_endian }
        }
        3 => Type::FixedString { size },
        9 if inner => Type::Other("nested variable-length type".into()),
        9 => {
            let vlen_kind = bits[0] & 0x0f;
            let base = parse_nested(c.rest(), true)?;
            match (vlen_kind, base) {
                (1, _) => Type::VlenString,
                (0, Type::Other(ref r)) if r == "object reference" => Type::VlenRefs,
                _ => Type::Other("variable-length sequence".into()),
            }
        }
        7 if bits[0] & 0x0f == 0 => Type::Other("object reference".into()),
        other => Type::Other(format!("datatype class {other}")),
    })
}

/// Shape of a dataset or attribute: `None` for a null dataspace (no elements at all).
#[derive(Clone, Debug, PartialEq)]
pub struct Space {
    pub dims: Vec<u64>,
    pub max: Vec<u64>,
    pub null: bool,
}

impl Space {
    pub fn elements(&self) -> Option<u64> {
        if self.null {
            return Some(0);
        }
        self.dims.iter().try_fold(1u64, |acc, d| acc.checked_mul(*d))
    }
}

/// Parse a dataspace message (versions 1 and 2).
pub fn parse_space(bytes: &[u8]) -> Result<Space, Declined> {
    let mut c = Cursor::new(bytes);
    let version = c.u8()?;
    let rank = usize::from(c.u8()?);
    let flags = c.u8()?;
    let null = match version {
        1 => {
            c.skip(5)?;
            false
        }
        2 => match c.u8()? {
            0 | 1 => false,
            2 => true,
            t => return Err(Declined::Unsupported(format!("dataspace type {t}"))),
        },
        v => return Err(Declined::Unsupported(format!("dataspace message version {v}"))),
    };
    if rank > 32 {
        return Err(Declined::Unsupported(format!("dataspace of rank {rank}")));
    }
    let dims = (0..rank).map(|_| c.u64()).collect::<Result<Vec<_>, _>>()?;
    let max = if flags & 0x01 != 0 {
        (0..rank).map(|_| c.u64()).collect::<Result<Vec<_>, _>>()?
    } else {
        dims.clone()
    };
    Ok(Space { dims, max, null })
}
