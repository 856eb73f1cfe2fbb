//! The result as a Zarr v2 store: consolidated metadata, the reduced variable (uncompressed
//! chunks along its first dimension), the group coordinate, and the input's coordinates that
//! xarray keeps (dimension coordinates of the dimensions left, and those named by any
//! variable's `coordinates` whose dimensions are all left), copied as the derived view serves them.
//! Attributes are the variable's as xarray keeps them (`keep_attrs`: xarray ≥ 2025 keeps them),
//! without what xarray's decoding moves to `encoding`.

use super::error::DeriveError;
use super::groups::Labels;
use super::input::{self, Array, Dtype};
use crate::vfs::Vfs;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Bytes of an output chunk at most (one row of the first dimension at least).
const CHUNK_BYTES: u64 = 8 << 20;

/// Attributes xarray's CF decoding moves to `encoding`.
const ENCODING: [&str; 6] =
    ["_FillValue", "missing_value", "scale_factor", "add_offset", "_Unsigned", "coordinates"];

/// A derived store: file name (`.zmetadata`, `tas/0.0`) → bytes.
pub struct Store {
    pub files: BTreeMap<String, bytes::Bytes>,
}

impl Store {
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|(k, v)| (k.len() + v.len() + 64) as u64).sum()
    }
}

/// What the store is made of.
pub struct Parts<'a> {
    pub meta: &'a Map<String, Value>,
    pub array: &'a Array,
    pub out_dims: &'a [String],
    pub out_shape: &'a [u64],
    pub dtype: Dtype,
    pub values: &'a [f64],
    pub group: Option<&'a (String, Labels)>,
}

/// Build the store of `p`.
pub fn store(vfs: &Vfs, at: &Path, p: &Parts) -> Result<Store, DeriveError> {
    let mut meta = Map::new();
    let mut files = BTreeMap::new();
    meta.insert(".zgroup".into(), json!({"zarr_format": 2}));
    meta.insert(".zattrs".into(), json!({}));
    // the coordinates kept
    let mut kept = Vec::new();
    // the dataset's coordinates: every variable's `coordinates` (xarray gives a variable of
    // a dataset all coordinates whose dimensions it has)
    let listed: Vec<String> = p
        .meta
        .iter()
        .filter(|(k, _)| k.ends_with(".zattrs"))
        .filter_map(|(_, v)| v.get("coordinates")?.as_str())
        .flat_map(|c| c.split_whitespace().map(str::to_string))
        .collect();
    for name in input::array_names(p.meta) {
        if name == p.array.name || p.group.is_some_and(|(g, _)| *g == name) {
            continue;
        }
        let Some(Value::Object(attrs)) = p.meta.get(&format!("{name}/.zattrs")) else { continue };
        let dims: Vec<&str> = attrs
            .get("_ARRAY_DIMENSIONS")
            .and_then(Value::as_array)
            .map_or(Vec::new(), |d| d.iter().filter_map(Value::as_str).collect());
        let coordinate = (dims.len() == 1 && dims[0] == name) || listed.contains(&name);
        if coordinate && dims.iter().all(|d| p.out_dims.iter().any(|o| o == d)) {
            copy(vfs, at, p.meta, &name, (&mut meta, &mut files))?;
            kept.push(name);
        }
    }
    // the variable
    let mut attrs = p.array.attrs.clone();
    attrs.retain(|k, _| !ENCODING.contains(&k.as_str()));
    attrs.insert("_ARRAY_DIMENSIONS".into(), json!(p.out_dims));
    let non_dim: Vec<&String> = kept.iter().filter(|k| !p.out_dims.contains(k)).collect();
    if !non_dim.is_empty() {
        let names: Vec<&str> = non_dim.iter().map(|s| s.as_str()).collect();
        attrs.insert("coordinates".into(), json!(names.join(" ")));
    }
    let row: u64 = p.out_shape.iter().skip(1).product::<u64>() * p.dtype.size as u64;
    let mut chunks = p.out_shape.to_vec();
    if let Some(first) = chunks.first_mut() {
        *first = (CHUNK_BYTES / row.max(1)).clamp(1, (*first).max(1));
    }
    let fill = if p.dtype.is_float() { json!("NaN") } else { Value::Null };
    let var = &p.array.name;
    meta.insert(format!("{var}/.zarray"), zarray(p.out_shape, &chunks, p.dtype, fill));
    meta.insert(format!("{var}/.zattrs"), Value::Object(attrs));
    let bytes = encode(p.values, p.dtype);
    let per_chunk = chunks.iter().product::<u64>().max(1) as usize * p.dtype.size;
    let rest = vec!["0"; p.out_shape.len().saturating_sub(1)];
    for (i, piece) in bytes.chunks(per_chunk.max(1)).enumerate() {
        let name = match p.out_shape.is_empty() {
            true => "0".to_string(),
            false => std::iter::once(i.to_string())
                .chain(rest.iter().map(|s| s.to_string()))
                .collect::<Vec<_>>()
                .join("."),
        };
        let mut piece = piece.to_vec();
        let pad = encode(&[if p.dtype.is_float() { f64::NAN } else { 0.0 }], p.dtype);
        while piece.len() < per_chunk {
            piece.extend_from_slice(&pad);
        }
        files.insert(format!("{var}/{name}"), piece.into());
    }
    if let Some((name, labels)) = p.group {
        group_coordinate(name, labels, (&mut meta, &mut files));
    }
    for (k, v) in &meta {
        files.insert(k.clone(), v.to_string().into_bytes().into());
    }
    let doc = json!({"zarr_consolidated_format": 1, "metadata": meta});
    files.insert(".zmetadata".into(), doc.to_string().into_bytes().into());
    Ok(Store { files })
}

/// The group coordinate `name`: its labels, their type and attributes.
fn group_coordinate(
    name: &str,
    labels: &Labels,
    (meta, files): (&mut Map<String, Value>, &mut BTreeMap<String, bytes::Bytes>),
) {
    let n = labels.len() as u64;
    let mut attrs = Map::new();
    let (dtype, data): (String, Vec<u8>) = match labels {
        Labels::Ints(v) => ("<i8".into(), v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        Labels::Strings(v) => {
            let data = v.iter().flat_map(|s| {
                let mut u: Vec<u8> = s.chars().flat_map(|c| (c as u32).to_le_bytes()).collect();
                u.resize(12, 0);
                u
            });
            ("<U3".into(), data.collect())
        }
        Labels::Values(v, dt, a) => {
            attrs = a.clone();
            (dt.zarr(), encode(v, *dt))
        }
    };
    // a coordinate's attributes as xarray keeps them (units and calendar decode it again)
    attrs.retain(|k, _| !ENCODING.contains(&k.as_str()));
    attrs.insert("_ARRAY_DIMENSIONS".into(), json!([name]));
    let mut za = zarray(&[n], &[n.max(1)], Dtype { kind: b'i', size: 8, big: false }, Value::Null);
    za["dtype"] = json!(dtype);
    meta.insert(format!("{name}/.zarray"), za);
    meta.insert(format!("{name}/.zattrs"), Value::Object(attrs));
    files.insert(format!("{name}/0"), data.into());
}

fn zarray(shape: &[u64], chunks: &[u64], dtype: Dtype, fill: Value) -> Value {
    json!({
        "shape": shape, "chunks": chunks, "dtype": dtype.zarr(), "fill_value": fill,
        "order": "C", "filters": null, "compressor": null, "dimension_separator": ".",
        "zarr_format": 2
    })
}

/// `values` as little-endian `dtype`.
fn encode(values: &[f64], dtype: Dtype) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * dtype.size);
    for v in values {
        match (dtype.kind, dtype.size) {
            (b'f', 4) => out.extend((*v as f32).to_le_bytes()),
            (b'f', _) => out.extend(v.to_le_bytes()),
            (b'i', 1) => out.extend((*v as i8).to_le_bytes()),
            (b'i', 2) => out.extend((*v as i16).to_le_bytes()),
            (b'i', 4) => out.extend((*v as i32).to_le_bytes()),
            (b'i', _) => out.extend((*v as i64).to_le_bytes()),
            (_, 1) => out.extend((*v as u8).to_le_bytes()),
            (_, 2) => out.extend((*v as u16).to_le_bytes()),
            (_, 4) => out.extend((*v as u32).to_le_bytes()),
            _ => out.extend((*v as u64).to_le_bytes()),
        }
    }
    out
}

/// Copy array `name` of the input (metadata and chunk files) into the output.
fn copy(
    vfs: &Vfs,
    at: &Path,
    meta: &Map<String, Value>,
    name: &str,
    (out, files): (&mut Map<String, Value>, &mut BTreeMap<String, bytes::Bytes>),
) -> Result<(), DeriveError> {
    for doc in [".zarray", ".zattrs"] {
        if let Some(v) = meta.get(&format!("{name}/{doc}")) {
            out.insert(format!("{name}/{doc}"), v.clone());
        }
    }
    let za = &meta[&format!("{name}/.zarray")];
    let u64s = |k: &str| -> Vec<u64> {
        za.get(k)
            .and_then(Value::as_array)
            .map_or(Vec::new(), |a| a.iter().filter_map(Value::as_u64).collect())
    };
    let (shape, chunks) = (u64s("shape"), u64s("chunks"));
    let sep =
        if za.get("dimension_separator").and_then(Value::as_str) == Some("/") { "/" } else { "." };
    let grid: Vec<u64> = shape.iter().zip(&chunks).map(|(s, c)| s.div_ceil((*c).max(1))).collect();
    let total: u64 = grid.iter().product();
    for n in 0..total {
        let mut rest = n;
        let mut index = vec![0u64; grid.len()];
        for d in (0..grid.len()).rev() {
            index[d] = rest % grid[d];
            rest /= grid[d];
        }
        let key = match index.is_empty() {
            true => "0".to_string(),
            false => index.iter().map(u64::to_string).collect::<Vec<_>>().join(sep),
        };
        if let Some(bytes) = input::read(vfs, &at.join(name).join(&key))? {
            files.insert(format!("{name}/{key}"), bytes.into());
        }
    }
    Ok(())
}
