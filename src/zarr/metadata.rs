//! The Zarr v2 metadata documents of an index: `.zgroup`, `.zattrs`, `.zarray`, `.zmetadata`.
//!
//! Field names and encodings follow what zarr-python writes for the same array, so that
//! `xarray.open_zarr` decodes the store exactly as it decodes a store xarray wrote itself.

use super::json::{string_list, u64_list, Object};
use crate::index::{ArrayNode, Attrs, Compressor, Dtype, Filter};
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
    attrs.iter().fold(Object::new(), |o, (k, v)| o.raw(k, v.to_json()))
}

/// The `.zarray` fill_value text, or `None` (JSON null) when `_FillValue` is absent or cannot
/// be a Zarr fill value (then it stays an attribute).
fn fill_value(array: &ArrayNode) -> Option<String> {
    let dtype = Dtype::parse(&array.dtype)?;
    array.fill_value.as_ref()?.fill_value_json(dtype.is_float())
}

/// `.zarray`.
pub fn zarray(array: &ArrayNode) -> String {
    let filters = if array.filters.is_empty() {
        "null".to_string()
    } else {
        let items: Vec<String> = array
            .filters
            .iter()
            .map(|f| match f {
                Filter::Shuffle { elementsize } => Object::new()
                    .raw("id", "\"shuffle\"")
                    .raw("elementsize", elementsize.to_string())
                    .render(),
                Filter::VlenUtf8 => Object::new().raw("id", "\"vlen-utf8\"").render(),
            })
            .collect();
        format!("[\n{}\n]", items.join(",\n"))
    };
    let doc = Object::new()
        .raw("shape", u64_list(&array.shape))
        .raw("chunks", u64_list(&array.chunks))
        .raw("dtype", format!("\"{}\"", array.dtype))
        .raw("fill_value", fill_value(array).unwrap_or_else(|| "null".into()))
        .raw("order", "\"C\"")
        .raw("filters", filters)
        .raw("dimension_separator", "\".\"");
    let doc = match array.compressor {
        Some(Compressor::Zlib { level }) => doc.object(
            "compressor",
            Object::new().raw("id", "\"zlib\"").raw("level", level.to_string()),
        ),
        None => doc.raw("compressor", "null"),
    };
    doc.raw("zarr_format", "2").render()
}

/// `.zattrs` of an array: its attributes plus `_ARRAY_DIMENSIONS` (and `_FillValue` when it
/// could not become the `.zarray` fill_value).
pub fn array_zattrs(array: &ArrayNode) -> String {
    let mut obj = attrs_object(&array.attrs);
    if let (Some(fill), None) = (&array.fill_value, fill_value(array)) {
        obj = obj.raw("_FillValue", fill.to_json());
    }
    obj.raw("_ARRAY_DIMENSIONS", string_list(&array.dims)).render()
}

/// `.zmetadata` from (key, document) pairs such as ("tas/.zarray", "{...}").
pub fn zmetadata(documents: &[(String, Arc<str>)]) -> String {
    let metadata = documents.iter().fold(Object::new(), |o, (k, v)| o.raw(k, &**v));
    Object::new().object("metadata", metadata).raw("zarr_consolidated_format", "1").render()
}
