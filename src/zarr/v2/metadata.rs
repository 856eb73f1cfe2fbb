//! The Zarr v2 metadata documents of an index: `.zgroup`, `.zattrs`, `.zarray`, `.zmetadata`.
//!
//! Field names and encodings follow what zarr-python writes for the same array, so that
//! `xarray.open_zarr` decodes the store exactly as it decodes a store xarray wrote itself.

use super::dtype::numpy;
use crate::index::{ArrayNode, Attrs, BloscShuffle, Codec, ElementKind};
use crate::zarr::attrs::{fill_value_json, to_json};
use crate::zarr::json::{string_list, u64_list, Object};
use std::sync::Arc;

/// `.zgroup`.
pub fn zgroup() -> String {
    Object::new().raw("zarr_format", "2").render()
}

/// `.zattrs` of a group.
pub fn group_zattrs(attrs: &Attrs) -> String {
    attrs_object(attrs).render()
}

fn attrs_object(attrs: &Attrs) -> Object<'_> {
    attrs.iter().fold(Object::new(), |o, (k, v)| o.raw(k, to_json(v)))
}

/// The `.zarray` fill_value text, or `None` (JSON null) when `_FillValue` is absent or cannot
/// be a Zarr fill value (then it stays an attribute).
fn fill_value(array: &ArrayNode) -> Option<String> {
    if array.dtype.kind == ElementKind::Utf8 {
        return None;
    }
    fill_value_json(array.fill_value.as_ref()?, array.dtype.is_float())
}

/// The v2 spelling of the served pipeline: the compressing codec (deflate, Blosc, zstd,
/// bzip2; the source places it last) is the compressor, as numcodecs configures it, shuffle
/// a filter, and strings get the `vlen-utf8` filter.
fn filters_and_compressor(array: &ArrayNode) -> (Vec<String>, Option<Object<'static>>) {
    let mut filters = Vec::new();
    let mut compressor = None;
    for f in &array.codecs {
        match f {
            Codec::Shuffle { elementsize } => filters.push(
                Object::new()
                    .raw("id", "\"shuffle\"")
                    .raw("elementsize", elementsize.to_string())
                    .render(),
            ),
            c => compressor = Some(compressor_object(c)),
        }
    }
    if array.dtype.kind == ElementKind::Utf8 {
        filters.push(Object::new().raw("id", "\"vlen-utf8\"").render());
    }
    (filters, compressor)
}

/// numcodecs' configuration of a compressing codec.
fn compressor_object(codec: &Codec) -> Object<'static> {
    let id = |name: &str| Object::new().raw("id", format!("\"{name}\""));
    match codec {
        Codec::Deflate { level } => id("zlib").raw("level", level.to_string()),
        Codec::Blosc { cname, clevel, shuffle, .. } => {
            let cname = cname.name();
            let shuffle = match shuffle {
                BloscShuffle::None => 0,
                BloscShuffle::Byte => 1,
                BloscShuffle::Bit => 2,
            };
            id("blosc")
                .raw("cname", format!("\"{cname}\""))
                .raw("clevel", clevel.to_string())
                .raw("shuffle", shuffle.to_string())
                .raw("blocksize", "0")
        }
        Codec::Zstd { level } => {
            id("zstd").raw("level", level.to_string()).raw("checksum", "false")
        }
        Codec::Bzip2 { level } => id("bz2").raw("level", level.to_string()),
        Codec::Shuffle { elementsize } => id("shuffle").raw("elementsize", elementsize.to_string()),
    }
}

/// The `.zarray` dtype: a NumPy type string, or a structured type's field list
/// (`[["a", "<i4"], ["s", "|S8"]]`, as zarr-python writes one).
fn dtype(array: &ArrayNode) -> String {
    match &array.compound {
        Some(c) if array.dtype.kind == ElementKind::Compound => {
            let fields: Vec<String> = c
                .fields
                .iter()
                .map(|f| {
                    let mut name = String::new();
                    crate::zarr::json::push_json_string(&mut name, &f.name);
                    format!("[{name}, \"{}\"]", numpy(f.dtype))
                })
                .collect();
            format!("[{}]", fields.join(", "))
        }
        _ => format!("\"{}\"", numpy(array.dtype)),
    }
}

/// `.zarray`.
pub fn zarray(array: &ArrayNode) -> String {
    let (items, compressor) = filters_and_compressor(array);
    let filters =
        if items.is_empty() { "null".to_string() } else { format!("[\n{}\n]", items.join(",\n")) };
    let doc = Object::new()
        .raw("shape", u64_list(&array.shape))
        .raw("chunks", u64_list(&array.chunks))
        .raw("dtype", dtype(array))
        .raw("fill_value", fill_value(array).unwrap_or_else(|| "null".into()))
        .raw("order", "\"C\"")
        .raw("filters", filters)
        .raw("dimension_separator", "\".\"");
    let doc = match compressor {
        Some(object) => doc.object("compressor", object),
        None => doc.raw("compressor", "null"),
    };
    doc.raw("zarr_format", "2").render()
}

/// `.zattrs` of an array: its attributes plus `_ARRAY_DIMENSIONS` (and `_FillValue` when it
/// could not become the `.zarray` fill_value).
pub fn array_zattrs(array: &ArrayNode) -> String {
    let mut obj = attrs_object(&array.attrs);
    if let (Some(fill), None) = (&array.fill_value, fill_value(array)) {
        obj = obj.raw("_FillValue", to_json(fill));
    }
    obj.raw("_ARRAY_DIMENSIONS", string_list(&array.dims)).render()
}

/// `.zmetadata` from (key, document) pairs such as ("tas/.zarray", "{...}").
pub fn zmetadata(documents: &[(String, Arc<str>)]) -> String {
    let metadata = documents.iter().fold(Object::new(), |o, (k, v)| o.raw(k, &**v));
    Object::new().object("metadata", metadata).raw("zarr_consolidated_format", "1").render()
}
