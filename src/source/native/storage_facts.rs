//! A variable's array: element type, fill value and storage facts from its dataset's header
//! messages (datatype, fill value, layout version 3, filter pipeline), handed to
//! [`crate::source::placement`] like the libhdf5 reader does.
//! Reference: HDF5 File Format Specification 3.0, sections IV.A.2.f, IV.A.2.i, IV.A.2.l.

use super::bytes::{Cursor, Source, UNDEFINED};
use super::header::{Header, DATATYPE, EXTERNAL_FILES, FILL_VALUE, LAYOUT, PIPELINE};
use super::types::parse_type;
use super::var::Var;
use crate::codec::SzipParams;
use crate::index::ArrayNode;
use crate::source::btree::walk_chunk_btree;
use crate::source::nc4::take_attr;
use crate::source::placement::{place, Placement};
use crate::source::{Declined, IndexOptions, VariableError};
use hdf5::filters::Filter as H5Filter;
use std::path::Path;

pub use crate::source::placement::Target;

/// Filters served without libhdf5: deflate, shuffle, fletcher32, szip (with parameters the
/// Rust decoder takes), LZF, bzip2, Blosc, LZ4, zstd, Blosc2.
const FILTERS: &[u16] = &[1, 2, 3, 4, 307, 32000, 32001, 32004, 32015, 32026];

pub fn target<'a>(src: &Source<'a>, path: &'a Path, options: &'a IndexOptions) -> Target<'a> {
    Target::new(path, src.file(), src.len, src.base, options)
}

/// The index array of `v`, whose dimensions are `dims` with lengths `shape`.
pub fn array(
    t: &Target<'_>,
    mut v: Var,
    dims: Vec<String>,
    shape: Vec<u64>,
) -> Result<ArrayNode, Declined> {
    let h = &v.header;
    let ty = message(h, DATATYPE).and_then(parse_type)?;
    let dtype = ty.dtype().ok_or_else(|| {
        Declined::Unsupported(format!("{}: variable of type {ty:?}", v.hdf5_path))
    })?;
    if h.first(EXTERNAL_FILES).is_some() {
        return Err("external storage".into());
    }
    let fill_value = take_attr(&mut v.attrs, "_FillValue");
    let fill_element = fill_element(h, dtype.size)?;
    let mut array = ArrayNode::unplaced(v.name, dtype, shape, dims, fill_value, v.attrs);
    array.fill_element = fill_element;
    let h5shape = v.space.dims.clone();
    let placement = placement(t, h, h5shape.len())?;
    place(t, &mut array, dtype, &h5shape, &v.hdf5_path, placement)?;
    Ok(array)
}

pub fn message(h: &Header, kind: u8) -> Result<&[u8], Declined> {
    let m = h
        .first(kind)
        .ok_or_else(|| Declined::Unsupported(format!("dataset without message {kind:#x}")))?;
    if m.shared() {
        return Err(Declined::Unsupported(format!("shared message {kind:#x}")));
    }
    Ok(&m.body)
}

/// What libhdf5's `H5Pget_fill_value` returns: the defined fill value, or zeros by default.
fn fill_element(h: &Header, size: usize) -> Result<Vec<u8>, Declined> {
    let mut c = Cursor::new(message(h, FILL_VALUE)?);
    let value = match c.u8()? {
        3 => {
            let flags = c.u8()?;
            if flags & 0x10 != 0 {
                return Err("undefined fill value".into());
            }
            if flags & 0x20 == 0 {
                return Ok(vec![0; size]);
            }
            let n = c.u32()? as usize;
            c.take(n)?
        }
        2 => {
            c.skip(2)?;
            if c.u8()? == 0 {
                return Err("fill value message v2 without a value".into());
            }
            let n = c.u32()? as usize;
            c.take(n)?
        }
        v => return Err(Declined::Unsupported(format!("fill value message version {v}"))),
    };
    if value.is_empty() {
        return Ok(vec![0; size]); // a defined fill value of no bytes: zeros, as libhdf5 says
    }
    if value.len() != size {
        return Err(Declined::Unsupported(format!(
            "fill value of {} bytes for {size}-byte elements",
            value.len()
        )));
    }
    Ok(value.to_vec())
}

/// A data layout message (version 3).
pub enum Layout<'h> {
    Compact(&'h [u8]),
    /// Address of the data, unless never written.
    Contiguous(Option<u64>),
    /// Root of the chunk B-tree (unless nothing was written), the layout's dimensionality
    /// (rank + 1), the chunk shape.
    Chunked {
        root: Option<u64>,
        dims: usize,
        chunk: Vec<u64>,
    },
}

/// The layout of a dataset of rank `rank`.
pub fn layout(h: &Header, rank: usize) -> Result<Layout<'_>, Declined> {
    let mut c = Cursor::new(message(h, LAYOUT)?);
    if c.u8()? != 3 {
        return Err("data layout message version is not 3".into());
    }
    Ok(match c.u8()? {
        0 => {
            let n = usize::from(c.u16()?);
            Layout::Compact(c.take(n)?)
        }
        1 => {
            let addr = c.u64()?;
            Layout::Contiguous((addr != UNDEFINED).then_some(addr))
        }
        2 => {
            let dims = usize::from(c.u8()?);
            if dims != rank + 1 {
                return Err(Declined::Unsupported(format!(
                    "chunk layout of {dims} dimensions for rank {rank}"
                )));
            }
            let root = c.u64()?;
            let chunk = (0..rank).map(|_| c.u32().map(u64::from)).collect::<Result<Vec<_>, _>>()?;
            Layout::Chunked { root: (root != UNDEFINED).then_some(root), dims, chunk }
        }
        class => return Err(Declined::Unsupported(format!("layout class {class}"))),
    })
}

fn placement<'e>(t: &'e Target<'_>, h: &'e Header, rank: usize) -> Result<Placement<'e>, Declined> {
    Ok(match layout(h, rank)? {
        Layout::Compact(data) => Placement::Compact {
            read: Box::new(move |want| {
                if want == data.len() {
                    Ok(data.to_vec())
                } else {
                    Err(VariableError::Unsupported(format!(
                        "compact data of {} bytes, {want} expected",
                        data.len()
                    )))
                }
            }),
        },
        Layout::Contiguous(offset) => Placement::Contiguous { offset },
        Layout::Chunked { root, dims, chunk } => Placement::Chunked {
            filters: filters(h)?,
            chunk: Some(chunk),
            entries: Box::new(move || {
                let Some(root) = root else { return Ok(vec![]) };
                let entries = walk_chunk_btree(t.raw, t.base, t.file_len, root, dims)?;
                // sizing such a chunk means decoding it: left to the libraries' workers
                if entries.iter().any(|e| e.filter_mask != 0) {
                    return Err("chunks with skipped filters".into());
                }
                Ok(entries)
            }),
        },
    })
}

/// The filter pipeline message (versions 1 and 2) as the hdf5 crate reports it.
pub fn filters(h: &Header) -> Result<Vec<H5Filter>, Declined> {
    let Some(m) = h.first(PIPELINE) else { return Ok(vec![]) };
    if m.shared() {
        return Err("shared filter pipeline".into());
    }
    let mut c = Cursor::new(&m.body);
    let version = c.u8()?;
    let n = c.u8()?;
    if version == 1 {
        c.skip(6)?;
    } else if version != 2 {
        return Err(Declined::Unsupported(format!("filter pipeline version {version}")));
    }
    let mut out = Vec::new();
    for _ in 0..n {
        let id = c.u16()?;
        let name_len = if version == 1 || id >= 256 { usize::from(c.u16()?) } else { 0 };
        let (_flags, values) = (c.u16()?, usize::from(c.u16()?));
        c.skip(if version == 1 { name_len.next_multiple_of(8) } else { name_len })?;
        let cdata = (0..values).map(|_| c.u32()).collect::<Result<Vec<_>, _>>()?;
        if version == 1 && values % 2 == 1 {
            c.skip(4)?;
        }
        if !FILTERS.contains(&id) {
            return Err(Declined::Unsupported(format!("filter {id}")));
        }
        if id == 4 {
            // all four cd_values kept (the crate's SZip drops the bit depth, byte order and
            // scanline); parameters only libhdf5 decodes leave the file to the libraries
            SzipParams::from_cd_values(&cdata)
                .map_err(|why| Declined::Unsupported(format!("szip: {why}")))?;
            out.push(H5Filter::User(4, cdata));
            continue;
        }
        out.push(H5Filter::from_raw(i32::from(id), &cdata).map_err(VariableError::Filter)?);
    }
    Ok(out)
}
