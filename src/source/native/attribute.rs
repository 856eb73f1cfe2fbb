//! Attribute messages and their values, converted the way netcdf-c and the netcdf crate hand
//! them to [`crate::source`] (so the native index equals the library one): numbers as typed
//! values (one element → a scalar), fixed-length strings as netCDF char text cut at the first
//! NUL, variable-length strings from the global heap.
//! Reference: HDF5 File Format Specification 3.0, sections IV.A.2.m and III.E.

use super::bytes::{le, Cursor, Source};
use super::types::{parse_space, parse_type, Space, Type};
use crate::index::{AttrValue, ElementKind};
use crate::source::Declined;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::ops::Range;

/// An attribute as stored.
pub struct RawAttribute {
    pub name: String,
    pub ty: Type,
    pub space: Space,
    pub data: Vec<u8>,
}

/// Parse an attribute message (versions 1 to 3; shared datatypes/dataspaces are declined).
pub fn parse(body: &[u8]) -> Result<RawAttribute, Declined> {
    let mut c = Cursor::new(body);
    let version = c.u8()?;
    let flags = c.u8()?;
    let (name_len, type_len, space_len) =
        (usize::from(c.u16()?), usize::from(c.u16()?), usize::from(c.u16()?));
    if version >= 2 && flags & 0x03 != 0 {
        return Err("attribute with a shared datatype or dataspace".into());
    }
    if version == 3 {
        c.skip(1)?; // name character set
    } else if version != 1 && version != 2 {
        return Err(Declined::Unsupported(format!("attribute message version {version}")));
    }
    let pad = |n: usize| if version == 1 { n.next_multiple_of(8) } else { n };
    let name = c.take(pad(name_len))?;
    let name = name.get(..name_len).ok_or("short attribute name")?;
    let name = name.strip_suffix(&[0]).unwrap_or(name);
    let name = String::from_utf8(name.to_vec()).map_err(|_| "attribute name not UTF-8")?;
    let ty = parse_type(c.take(pad(type_len))?)?;
    let space = parse_space(c.take(pad(space_len))?)?;
    let data = c.rest().to_vec();
    Ok(RawAttribute { name, ty, space, data })
}

/// A global heap collection: its bytes and where each object lies in them.
struct Collection {
    bytes: Vec<u8>,
    objects: HashMap<u16, Range<usize>>,
}

/// Global heap collections read so far, by address (each parsed once; the reads count
/// against the file's read budget, which bounds this cache).
#[derive(Default)]
pub struct GlobalHeap {
    collections: HashMap<u64, Collection>,
}

impl GlobalHeap {
    /// The bytes of object `index` in the collection at `addr`.
    pub fn object(&mut self, src: &Source<'_>, addr: u64, index: u32) -> Result<&[u8], Declined> {
        let collection = match self.collections.entry(addr) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let head = src.read(addr, 16)?;
                if &head[..4] != b"GCOL" || head[4] != 1 {
                    return Err(Declined::Unsupported(format!(
                        "no global heap collection at {addr}"
                    )));
                }
                e.insert(parse_collection(src.read(addr, le(&head[8..16]))?.into_owned())?)
            }
        };
        let range = u16::try_from(index).ok().and_then(|i| collection.objects.get(&i));
        let range = range.ok_or_else(|| {
            Declined::Unsupported(format!("global heap object {index} not found at {addr}"))
        })?;
        let object = collection.bytes.get(range.clone()).ok_or("short heap object")?;
        // every use is a copy for the caller: counted like a read
        src.charge(object.len() as u64)?;
        Ok(object)
    }
}

fn parse_collection(bytes: Vec<u8>) -> Result<Collection, Declined> {
    let mut objects = HashMap::new();
    let mut c = Cursor { bytes: &bytes, at: 16 };
    while c.rest().len() >= 16 {
        let (i, _refs, _reserved, size) = (c.u16()?, c.u16()?, c.u32()?, c.u64()?);
        if i == 0 {
            break; // free space: the rest of the collection
        }
        let size = usize::try_from(size).map_err(|_| "heap object too large")?;
        let start = c.at;
        let end = start.checked_add(size).ok_or("heap object too large")?;
        objects.insert(i, start..end);
        let padded = size.checked_next_multiple_of(8).ok_or("heap object too large")?;
        c.skip(padded.min(c.rest().len()))?;
    }
    Ok(Collection { bytes, objects })
}

/// The value of `attr`, as the netcdf crate returns it, converted like `source::attrs`.
pub fn value(
    attr: &RawAttribute,
    src: &Source<'_>,
    heap: &mut GlobalHeap,
) -> Result<AttrValue, Declined> {
    if attr.space.dims.len() > 1 {
        return Err("attribute of rank > 1 (netcdf-c refuses it)".into());
    }
    let n = usize::try_from(attr.space.elements().ok_or("attribute too large")?)
        .map_err(|_| "attribute too large")?;
    let size = attr.ty.size().ok_or_else(|| unsupported(&attr.ty))?;
    let data = attr.data.get(..n.checked_mul(size).ok_or("attribute too large")?);
    let data = data.ok_or("attribute data shorter than its dataspace")?;
    if n == 0 {
        // netcdf-c: an attribute of length 0 (HDF5 writes a null dataspace)
        return match attr.ty {
            Type::Int { signed: true, .. } => Ok(AttrValue::Ints(vec![])),
            Type::Int { signed: false, .. } => Ok(AttrValue::UInts(vec![])),
            Type::Float { size: 4, .. } => Ok(AttrValue::Floats32(vec![])),
            Type::Float { .. } => Ok(AttrValue::Floats(vec![])),
            Type::FixedString { .. } => Ok(AttrValue::Str(String::new())),
            Type::VlenString => Ok(AttrValue::Strs(vec![])),
            _ => Err(unsupported(&attr.ty)),
        };
    }
    let one = n == 1;
    if let (Some(dtype), Type::Int { .. } | Type::Float { .. }) = (attr.ty.dtype(), &attr.ty) {
        let values: Option<Vec<AttrValue>> =
            data.chunks_exact(size).map(|b| dtype.decode(b)).collect();
        let value = numbers(values.ok_or("undecodable number")?, dtype.kind)?;
        return Ok(match value {
            _ if dtype.kind == ElementKind::Float && size == 4 => single(value),
            // a single integer keeps its width, as netcdf-c types it
            AttrValue::Int(x) => AttrValue::integer(x.into(), false, size),
            AttrValue::UInt(x) => AttrValue::integer(x.into(), true, size),
            other => other,
        });
    }
    Ok(match attr.ty {
        Type::FixedString { .. } if one => {
            // netCDF char text; the netcdf crate cuts it at the first NUL
            let end = data.iter().position(|b| *b == 0).unwrap_or(data.len());
            AttrValue::Str(String::from_utf8_lossy(&data[..end]).into_owned())
        }
        Type::VlenString => {
            let mut v = Vec::with_capacity(n);
            for item in data.chunks_exact(16) {
                let (len, addr, index) = (le(&item[..4]), le(&item[4..12]), le(&item[12..16]));
                if addr == 0 {
                    return Err("NULL string in an attribute".into());
                }
                let bytes = heap.object(src, addr, index as u32)?;
                let bytes =
                    bytes.get(..len as usize).ok_or("string longer than its heap object")?;
                let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
                v.push(String::from_utf8_lossy(&bytes[..end]).into_owned());
            }
            match <[String; 1]>::try_from(v) {
                Ok([s]) => AttrValue::Str(s),
                Err(v) => AttrValue::Strs(v),
            }
        }
        _ => return Err(unsupported(&attr.ty)),
    })
}

/// The object header address of each dimension's scale in a DIMENSION_LIST attribute
/// (exactly one scale per dimension, as netCDF-4 writes it).
pub fn references(
    attr: &RawAttribute,
    src: &Source<'_>,
    heap: &mut GlobalHeap,
) -> Result<Vec<u64>, Declined> {
    if attr.ty != Type::VlenRefs || attr.space.dims.len() != 1 {
        return Err("DIMENSION_LIST of an unexpected type".into());
    }
    let n = attr.space.dims[0] as usize;
    let data =
        attr.data.get(..n.checked_mul(16).ok_or("too large")?).ok_or("short DIMENSION_LIST")?;
    let mut out = Vec::with_capacity(n);
    for item in data.chunks_exact(16) {
        let (len, addr, index) = (le(&item[..4]), le(&item[4..12]), le(&item[12..16]));
        if len != 1 {
            return Err(Declined::Unsupported(format!("{len} dimension scales on one dimension")));
        }
        let bytes = heap.object(src, addr, index as u32)?;
        out.push(le(bytes.get(..8).ok_or("short reference list")?));
    }
    Ok(out)
}

/// Single-precision floats decoded as f64 (exactly) kept as single precision, as netcdf-c
/// types them (NC_FLOAT).
fn single(value: AttrValue) -> AttrValue {
    match value {
        AttrValue::Float(x) => AttrValue::Float32(x as f32),
        AttrValue::Floats(v) => AttrValue::Floats32(v.into_iter().map(|x| x as f32).collect()),
        other => other,
    }
}

/// One number as a scalar, several as a list of `kind` ('i', 'u', 'f'), as netCDF4-python.
fn numbers(mut values: Vec<AttrValue>, kind: ElementKind) -> Result<AttrValue, Declined> {
    if values.len() == 1 {
        return Ok(values.remove(0));
    }
    fn each<T>(
        values: &[AttrValue],
        f: impl Fn(&AttrValue) -> Option<T>,
    ) -> Result<Vec<T>, Declined> {
        values.iter().map(f).collect::<Option<_>>().ok_or_else(|| "mixed numbers".into())
    }
    Ok(match kind {
        ElementKind::Int => {
            AttrValue::Ints(each(
                &values,
                |v| if let AttrValue::Int(x) = v { Some(*x) } else { None },
            )?)
        }
        ElementKind::UInt => AttrValue::UInts(each(&values, |v| {
            if let AttrValue::UInt(x) = v {
                Some(*x)
            } else {
                None
            }
        })?),
        _ => AttrValue::Floats(each(&values, AttrValue::as_f64)?),
    })
}

fn unsupported(ty: &Type) -> Declined {
    Declined::Unsupported(format!("attribute of type {ty:?}"))
}
