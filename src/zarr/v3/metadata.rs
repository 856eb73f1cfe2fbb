//! The v3 `zarr.json` documents of groups and arrays as zarr-python 3 writes them, with
//! consolidated metadata inline in each group's document (`consolidated_metadata` of kind
//! `inline`, its nodes keyed by their path below the group).
//!
//! The `fill_value` is required: an array whose source declares none gets the value the
//! netCDF library returns for unwritten data (the netCDF default fill), so a chunk that is
//! not there reads as it does through netCDF. The CF `_FillValue` stays an attribute, encoded
//! as xarray encodes it for v3 (floats as the base64 of a little-endian float64), since
//! xarray does not take a v3 store's fill value as the CF one.

use super::dtype::{array_to_bytes, data_type};
use super::shard::Sharding;
use crate::index::{ArrayNode, AttrValue, Attrs, BloscShuffle, Codec, ElementKind};
use crate::zarr::attrs::{fill_value_json, to_json};
use crate::zarr::json::{string_list, u64_list, Object};
use std::sync::Arc;

fn attrs_object(attrs: &Attrs) -> Object<'_> {
    attrs.iter().fold(Object::new(), |o, (k, v)| o.raw(k, to_json(v)))
}

fn name(n: &str) -> Object<'static> {
    Object::new().raw("name", format!("\"{n}\""))
}

/// A group's `zarr.json`; `consolidated`: its descendants' documents keyed by their path
/// below it (`None`: a group as listed inside another group's consolidated metadata, whose
/// own list zarr-python leaves empty there).
pub fn group(attrs: &Attrs, consolidated: Option<&[(String, Arc<str>)]>) -> String {
    let metadata =
        consolidated.unwrap_or_default().iter().fold(Object::new(), |o, (k, v)| o.raw(k, &**v));
    let inline = Object::new()
        .raw("kind", "\"inline\"")
        .raw("must_understand", "false")
        .object("metadata", metadata);
    Object::new()
        .object("attributes", attrs_object(attrs))
        .raw("zarr_format", "3")
        .object("consolidated_metadata", inline)
        .raw("node_type", "\"group\"")
        .render()
}

/// An array's `zarr.json`, its chunks grouped by `sharding` when it is sharded.
pub fn array(array: &ArrayNode, sharding: Option<&Sharding>) -> String {
    let codecs = codecs(array);
    let (grid_shape, codecs) = match sharding {
        None => (array.chunks.clone(), codecs),
        Some(s) => (s.shard_shape(array), vec![sharding_codec(&array.chunks, codecs)]),
    };
    let mut attrs = attrs_object(&array.attrs);
    if let Some(fill) = fill_attribute(array) {
        attrs = attrs.raw("_FillValue", fill);
    }
    let chunk_grid = name("regular")
        .object("configuration", Object::new().raw("chunk_shape", u64_list(&grid_shape)));
    let key_encoding =
        name("default").object("configuration", Object::new().raw("separator", "\"/\""));
    let mut doc = Object::new()
        .raw("shape", u64_list(&array.shape))
        .raw("data_type", data_type(array.dtype))
        .object("chunk_grid", chunk_grid)
        .object("chunk_key_encoding", key_encoding)
        .raw("fill_value", fill_value(array))
        .raw("codecs", list(codecs))
        .object("attributes", attrs);
    if !array.dims.is_empty() {
        doc = doc.raw("dimension_names", string_list(&array.dims));
    }
    doc.raw("zarr_format", "3")
        .raw("node_type", "\"array\"")
        .raw("storage_transformers", "[]")
        .render()
}

fn list(objects: Vec<Object<'_>>) -> String {
    let items: Vec<String> = objects.iter().map(Object::render).collect();
    format!("[\n{}\n]", items.join(",\n"))
}

/// `sharding_indexed` around the inner chunks' codecs; the index at the end, with CRC-32C.
fn sharding_codec<'a>(inner: &[u64], codecs: Vec<Object<'a>>) -> Object<'a> {
    let index_codecs = vec![
        name("bytes").object("configuration", Object::new().raw("endian", "\"little\"")),
        name("crc32c"),
    ];
    let configuration = Object::new()
        .raw("chunk_shape", u64_list(inner))
        .raw("codecs", list(codecs))
        .raw("index_codecs", list(index_codecs))
        .raw("index_location", "\"end\"");
    name("sharding_indexed").object("configuration", configuration)
}

/// The codecs of the served chunk bytes: `bytes` (or `vlen-utf8`), then the filters in
/// pipeline order. Deflate is `numcodecs.zlib` (v3 `gzip` is another stream); Blosc and zstd
/// frames are v3's own codecs; shuffle and bzip2 are numcodecs'.
fn codecs(array: &ArrayNode) -> Vec<Object<'static>> {
    let mut out = vec![array_to_bytes(array.dtype)];
    for c in &array.codecs {
        out.push(match c {
            Codec::Shuffle { elementsize } => name("numcodecs.shuffle")
                .object("configuration", Object::new().raw("elementsize", elementsize.to_string())),
            Codec::Deflate { level } => name("numcodecs.zlib")
                .object("configuration", Object::new().raw("level", level.to_string())),
            Codec::Bzip2 { level } => name("numcodecs.bz2")
                .object("configuration", Object::new().raw("level", level.to_string())),
            Codec::Zstd { level } => name("zstd").object(
                "configuration",
                Object::new().raw("level", level.to_string()).raw("checksum", "false"),
            ),
            Codec::Blosc { cname, clevel, shuffle, typesize } => {
                let cname = cname.name();
                let shuffle = match shuffle {
                    BloscShuffle::None => "noshuffle",
                    BloscShuffle::Byte => "shuffle",
                    BloscShuffle::Bit => "bitshuffle",
                };
                let configuration = Object::new()
                    .raw("typesize", typesize.to_string())
                    .raw("cname", format!("\"{cname}\""))
                    .raw("clevel", clevel.to_string())
                    .raw("shuffle", format!("\"{shuffle}\""))
                    .raw("blocksize", "0");
                name("blosc").object("configuration", configuration)
            }
        });
    }
    out
}

/// True when the array's `fill_value` is the netCDF default fill (it declares no `_FillValue`).
pub fn default_fill(array: &ArrayNode) -> bool {
    array.fill_value.is_none()
}

/// The `fill_value`: the element unwritten data reads as (JSON text).
pub fn fill_value(array: &ArrayNode) -> String {
    match array.dtype.kind {
        // a declared string fill is the fill value (see `fill_attribute`)
        ElementKind::Utf8 => match &array.fill_value {
            Some(fill @ AttrValue::Str(_)) => to_json(fill),
            _ => "\"\"".into(),
        },
        ElementKind::Char => {
            let bytes = array.fill_element.iter().rev().skip_while(|b| **b == 0).count();
            format!("\"{}\"", base64(&array.fill_element[..bytes]))
        }
        // `raw_bytes`: the fill element's bytes, as zarr-python 3 writes them
        ElementKind::Opaque => format!("\"{}\"", base64(&array.fill_element)),
        _ => array
            .dtype
            .decode(&array.fill_element)
            .and_then(|v| fill_value_json(&v, array.dtype.is_float()))
            .unwrap_or_else(|| "0".into()),
    }
}

/// The `_FillValue` attribute as xarray writes it in a v3 store: floats as the base64 of a
/// little-endian float64, integers as integers, byte strings as base64, strings as they are;
/// a value of no such form as its JSON. An integer array's fill that is no integer (NaN, as
/// some NetCDF-3 files declare) is left out: xarray reads a v3 `_FillValue` of an integer
/// array as an integer and fails on anything else (decoded data are the same without it,
/// since no integer equals it). A string array's is its `fill_value` instead: xarray
/// cannot decode a `_FillValue` attribute of a v3 string array (it reads decoded data the
/// same, and `decode_cf=False` shows no `_FillValue` there).
fn fill_attribute(array: &ArrayNode) -> Option<String> {
    let fill = array.fill_value.as_ref()?;
    if array.dtype.kind == ElementKind::Utf8 {
        return None;
    }
    let one = match fill {
        AttrValue::Floats(v) if v.len() == 1 => Some(v[0]),
        AttrValue::Ints(v) if v.len() == 1 => Some(v[0] as f64),
        AttrValue::UInts(v) if v.len() == 1 => Some(v[0] as f64),
        v => v.as_f64().filter(|_| fill.len() == 1),
    };
    let integer = match &*fill.widened() {
        AttrValue::Int(i) => Some(i128::from(*i)),
        AttrValue::UInt(u) => Some(i128::from(*u)),
        _ => one.filter(|x| x.fract() == 0.0).map(|x| x as i128),
    };
    if let (ElementKind::Float, Some(x)) = (array.dtype.kind, one) {
        return Some(format!("\"{}\"", base64(&x.to_le_bytes())));
    }
    Some(match (array.dtype.kind, fill, integer) {
        (ElementKind::Char, AttrValue::Str(s), _) => format!("\"{}\"", base64(s.as_bytes())),
        (ElementKind::Int | ElementKind::UInt, _, Some(x)) => {
            format!("{}", as_xarray_reads(array, x))
        }
        (ElementKind::Int | ElementKind::UInt, _, _) => return None,
        _ => to_json(fill),
    })
}

/// An integer fill value as xarray's `_Unsigned` decoding needs it: where `_Unsigned` flips
/// the signedness of one-sided bytes (`"true"` on a signed type, `"false"` on an unsigned one),
/// xarray converts the v3 `_FillValue` (a JSON number) to the signed type of the array's size
/// before it reads the bits the other way, so a value beyond that type's range (255, 200 for
/// 8 bits) is given as the same bits read signed (-1, -56).
fn as_xarray_reads(array: &ArrayNode, x: i128) -> i128 {
    let unsigned = array.attrs.iter().find(|(k, _)| k == "_Unsigned").map(|(_, v)| v);
    let flips = match (array.dtype.kind, unsigned) {
        (ElementKind::Int, Some(AttrValue::Str(s))) => s == "true",
        (ElementKind::UInt, Some(AttrValue::Str(s))) => s == "false",
        _ => false,
    };
    let bits = (array.dtype.size * 8).clamp(8, 64) as u32;
    let wrap = 1i128 << bits;
    if flips && x >= wrap / 2 && x < wrap {
        x - wrap
    } else {
        x
    }
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let b = [group[0], *group.get(1).unwrap_or(&0), *group.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_python() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"\x00"), "AA==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(&1e20f64.to_le_bytes()), "QIy1eB2vFUQ=");
    }
}
