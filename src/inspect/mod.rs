//! `cloudify inspect`: the Zarr view of one file as text, without mounting; `collection.rs`:
//! the collections of a directory, or of files given together; `union_parent.rs`: the union
//! stores of a directory of variable trees; `ncml.rs`: the collection an NcML aggregation file
//! describes.

pub mod collection;
pub mod ncml;
pub mod union_parent;

use crate::index::{
    ArrayNode, BloscShuffle, ChunkRef, Codec, DatasetIndex, Dtype, GroupNode, SourceFilter,
    StorageKind,
};
use crate::zarr::v2::dtype::numpy;
use crate::zarr::v3::metadata as v3doc;
use std::fmt::Write;

/// Render the index of one file for people, as the mount serves it in raw mode: chunks
/// larger than their array cropped to it (`zarr::crop`), the stored shape shown beside.
pub fn render(index: &DatasetIndex) -> String {
    let mut out = format!("format: {}\n", index.format);
    let mut served = index.root.clone();
    crate::zarr::crop::crop_group(&mut served);
    group(&mut out, &index.root, &served, "/");
    out
}

/// `stored` is the group as indexed, `g` as served (the same arrays in the same order).
fn group(out: &mut String, stored: &GroupNode, g: &GroupNode, path: &str) {
    let _ = writeln!(out, "\ngroup {path}  ({} attributes)", g.attrs.len());
    for (a, s) in g.arrays.iter().zip(&stored.arrays) {
        array(out, a, &s.chunks);
    }
    for s in &g.skipped {
        let _ = writeln!(out, "  {:<24} LEFT OUT: {}", s.name, s.reason);
    }
    for (sub, stored_sub) in g.groups.iter().zip(&stored.groups) {
        let p = if path == "/" { format!("/{}", sub.name) } else { format!("{path}/{}", sub.name) };
        group(out, stored_sub, sub, &p);
    }
}

/// One array as served; `stored_chunks` is its chunk shape in the file.
fn array(out: &mut String, a: &ArrayNode, stored_chunks: &[u64]) {
    let codecs = {
        let mut c: Vec<String> =
            a.codecs.iter().filter(|f| !f.is_compressor()).map(codec_name).collect();
        if a.dtype == Dtype::UTF8 {
            c.push("vlen-utf8".to_string());
        }
        c.extend(a.codecs.iter().filter(|f| f.is_compressor()).map(codec_name));
        if c.is_empty() {
            "none".to_string()
        } else {
            c.join(" + ")
        }
    };
    let present = a.chunk_refs.iter().flatten().count();
    let generated = a.chunk_refs.iter().flatten().filter(|c| !c.is_pass_through()).count();
    let fills =
        a.chunk_refs.iter().flatten().filter(|c| matches!(c, ChunkRef::Fill { .. })).count();
    let how = match a.storage {
        StorageKind::ChunkedPassThrough => "chunked, pass-through",
        StorageKind::ChunkedDecoded if a.source_filters.is_empty() => {
            "chunked, generated in the daemon"
        }
        StorageKind::ChunkedDecoded => {
            let filters: Vec<&str> = a.source_filters.iter().map(|f| filter_name(*f)).collect();
            &format!("chunked, decoded in the daemon (HDF5 filters {})", filters.join(" + "))
        }
        StorageKind::ChunkedLibrary => "chunked, decoded by libhdf5 (filter without Zarr codec)",
        StorageKind::ContiguousPassThrough => "contiguous, pass-through byte ranges",
        StorageKind::Compact => match a.attrs.iter().find(|(k, _)| k == "cloudify_compound_of") {
            Some((_, of)) => &format!(
                "member {} of compound {}, read when indexing (the compound has \
                 variable-length members)",
                a.name.rsplit_once('.').map_or("", |(_, m)| m),
                crate::zarr::attrs::to_json(of).trim_matches('"')
            ),
            None => "compact, generated",
        },
        StorageKind::Unallocated => "never written, fill value",
        StorageKind::Strings => match a.attrs.iter().find(|(k, _)| k == "cloudify_compound_of") {
            Some((_, of)) if reference_kind(a).is_some() => &format!(
                "{}-reference member {} of compound {}: {}, read when indexing (vlen-utf8)",
                reference_kind(a).unwrap_or_default(),
                a.name.rsplit_once('.').map_or("", |(_, m)| m),
                crate::zarr::attrs::to_json(of).trim_matches('"'),
                reference_what(a)
            ),
            Some((_, of)) => &format!(
                "variable-length string member {} of compound {}, read when indexing \
                 (vlen-utf8)",
                a.name.rsplit_once('.').map_or("", |(_, m)| m),
                crate::zarr::attrs::to_json(of).trim_matches('"')
            ),
            None if reference_kind(a).is_some() => &format!(
                "{} references as {}, read when indexing (vlen-utf8)",
                reference_kind(a).unwrap_or_default(),
                reference_what(a)
            ),
            None => "strings, generated (vlen-utf8)",
        },
        StorageKind::Joined => "joined from the members' chunks, generated",
        StorageKind::Converted => "N-bit type, read through libhdf5 as full-width values",
        StorageKind::Compound => &compound_how(a),
        StorageKind::Ragged => &ragged_how(a),
    };
    let (stored, cropped) = if stored_chunks == a.chunks.as_slice() {
        (String::new(), "")
    } else if a.stored_chunks.is_some() {
        let why = "; stored chunks larger than the array: decoded and cropped";
        (format!(" (stored {stored_chunks:?})"), why)
    } else {
        (format!(" (stored {stored_chunks:?})"), "; stored chunks larger than the array: a prefix")
    };
    let _ = writeln!(
        out,
        "  {:<24} {} {:?} dims {:?} chunks {:?}{stored} codecs {codecs}",
        a.name,
        dtype_name(a),
        a.shape,
        a.dims,
        a.chunks
    );
    let _ = writeln!(
        out,
        "  {:<24} {how}{cropped}; {present}/{} chunk files ({generated} generated, {fills} fill)",
        "",
        a.chunk_refs.len()
    );
    // v3 requires a fill value: unwritten data reads as the netCDF default fill there
    if v3doc::default_fill(a) && a.dtype.is_number() {
        let fill = v3doc::fill_value(a);
        let _ = writeln!(
            out,
            "  {:<24} v3 fill_value {fill}: the netCDF default fill (no _FillValue)",
            ""
        );
    }
}

/// The NumPy type of an array; a structured one as its fields.
fn dtype_name(a: &ArrayNode) -> String {
    match &a.compound {
        Some(c) if a.dtype.kind == crate::index::ElementKind::Compound => {
            let fields: Vec<String> =
                c.fields.iter().map(|f| format!("{}: {}", f.name, numpy(f.dtype))).collect();
            format!("structured [{}]", fields.join(", "))
        }
        _ => numpy(a.dtype),
    }
}

/// `object` or `region` for an array of references (`_cloudify_reference`).
fn reference_kind(a: &ArrayNode) -> Option<String> {
    let (_, kind) = a.attrs.iter().find(|(k, _)| k == "_cloudify_reference")?;
    Some(crate::zarr::attrs::to_json(kind).trim_matches('"').to_string())
}

/// What the strings of an array of references are.
fn reference_what(a: &ArrayNode) -> &'static str {
    match reference_kind(a).as_deref() {
        Some("region") => {
            "the path and selection of each region referred to (`/path[start:stop,…]` \
             per block, `/path{(i,j),…}` for points)"
        }
        _ => "the paths of the objects referred to (h5py's f[ref].name)",
    }
}

/// How an array of a variable-length sequence variable is made (`source::vlen`).
fn ragged_how(a: &ArrayNode) -> String {
    let what = match a.attrs.iter().find(|(k, _)| k == "_cloudify_vlen_count") {
        Some((_, count)) => {
            let count = crate::zarr::attrs::to_json(count).trim_matches('"').to_string();
            let renamed = if count == format!("{}.count", a.name) {
                String::new()
            } else {
                format!(" (renamed: {}.count or {}.values is taken in the group)", a.name, a.name)
            };
            format!(
                "values of the variable-length sequences of {}, end to end (their lengths: \
                 {count}){renamed}",
                a.name
            )
        }
        None => "lengths of the variable-length sequences (CF count variable)".to_string(),
    };
    format!("{what}; a CF contiguous ragged array, read when indexing")
}

/// How an array of a compound variable is made: which member, from which stored chunks.
fn compound_how(a: &ArrayNode) -> String {
    let Some(c) = &a.compound else { return "compound, without its stored dataset".into() };
    let stored = match c.stored.storage {
        StorageKind::ChunkedPassThrough | StorageKind::ChunkedDecoded => {
            let filters: Vec<&str> =
                c.stored.source_filters.iter().map(|f| filter_name(*f)).collect();
            if filters.is_empty() {
                "chunked".to_string()
            } else {
                format!("chunked, HDF5 filters {}", filters.join(" + "))
            }
        }
        StorageKind::ChunkedLibrary => "chunked, decoded by libhdf5".into(),
        StorageKind::ContiguousPassThrough => "contiguous".into(),
        StorageKind::Compact => "compact".into(),
        StorageKind::Unallocated => "never written".into(),
        other => format!("{other:?}"),
    };
    let element = c.stored.element_size();
    let what = if a.dtype.kind == crate::index::ElementKind::Compound {
        format!(
            "structured array of compound {} ({} members, little-endian, packed; in a Zarr v2 \
             mount with --structured-arrays, never in v3: it has no structured type)",
            c.of,
            c.fields.len()
        )
    } else {
        let f = &c.fields[0];
        let shape = if f.shape.is_empty() { String::new() } else { format!(" {:?}", f.shape) };
        format!("member {}{shape} of compound {} (byte {} of {element})", f.name, c.of, f.offset)
    };
    let mut how =
        format!("{what}; cut from the stored {element}-byte elements ({stored}), generated");
    if let Some((_, v)) = a.attrs.iter().find(|(k, _)| k == "cloudify_structured_array") {
        let _ = write!(how, "; structured array {}: {}", c.of, crate::zarr::attrs::to_json(v));
    }
    how
}

/// A served codec as numcodecs names it, with its settings.
fn codec_name(c: &Codec) -> String {
    match c {
        Codec::Shuffle { elementsize } => format!("shuffle({elementsize})"),
        Codec::Deflate { level } => format!("zlib({level})"),
        Codec::Blosc { cname, clevel, shuffle, .. } => {
            let shuffle = match shuffle {
                BloscShuffle::None => "noshuffle",
                BloscShuffle::Byte => "shuffle",
                BloscShuffle::Bit => "bitshuffle",
            };
            format!("blosc({cname:?}, {clevel}, {shuffle})").to_lowercase()
        }
        Codec::Zstd { level } => format!("zstd({level})"),
        Codec::Bzip2 { level } => format!("bz2({level})"),
    }
}

/// An HDF5 filter of a stored pipeline, by its usual name.
fn filter_name(f: SourceFilter) -> &'static str {
    match f {
        SourceFilter::Shuffle { .. } => "shuffle",
        SourceFilter::Deflate { .. } => "deflate",
        SourceFilter::Fletcher32 => "fletcher32",
        SourceFilter::Lzf => "lzf",
        SourceFilter::Blosc => "blosc",
        SourceFilter::Zstd => "zstd",
        SourceFilter::Bzip2 => "bzip2",
        SourceFilter::Lz4 => "lz4",
        SourceFilter::Blosc2 => "blosc2",
        SourceFilter::Szip(_) => "szip",
    }
}
