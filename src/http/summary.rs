//! xpublish's dataset summaries made from a store's consolidated metadata (`.zmetadata`):
//! `/keys` (the variables, as `list(ds.variables)`), `/info` (dimensions, variables with type,
//! dimensions and attributes, global attributes: xpublish's NCO-JSON-like schema) and `/dict`
//! (`ds.to_dict(data=False)`: coords, data_vars, dims, attrs). Types are the stored ones
//! (`int16` for a packed variable, `float64` for a time axis), as the Zarr metadata says. A v3
//! store's consolidated metadata (inline in its root `zarr.json`) is first spelled as v2's
//! ([`from_v3`]).

use serde_json::{json, Map, Value};

pub use crate::zarr::json::standard_json;

/// One array of the root group.
struct Var<'a> {
    name: &'a str,
    dims: Vec<String>,
    shape: Vec<Value>,
    dtype: String,
    attrs: Map<String, Value>,
}

/// The root group's arrays and attributes in consolidated metadata `meta` (the `metadata`
/// object of `.zmetadata`).
fn root(meta: &Map<String, Value>) -> (Vec<Var<'_>>, Map<String, Value>) {
    let mut vars = Vec::new();
    for (key, zarray) in meta {
        let Some(name) = key.strip_suffix("/.zarray").filter(|n| !n.contains('/')) else {
            continue;
        };
        let mut attrs = meta
            .get(&format!("{name}/.zattrs"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let dims = attrs.remove("_ARRAY_DIMENSIONS");
        let mut dims: Vec<String> =
            dims.and_then(|d| serde_json::from_value(d).ok()).unwrap_or_default();
        let mut shape = zarray.get("shape").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut dtype = zarray.get("dtype").map_or(String::new(), type_name);
        // characters along their last dimension are strings to xarray (CF char arrays)
        if dtype == "|S1" && !dims.is_empty() && dims.len() == shape.len() {
            dims.pop();
            dtype = format!("|S{}", shape.pop().unwrap_or_default());
        }
        vars.push(Var { name, dims, shape, dtype, attrs });
    }
    let attrs = meta.get(".zattrs").and_then(Value::as_object).cloned().unwrap_or_default();
    (vars, attrs)
}

/// The consolidated metadata of a v3 store's root `zarr.json` as v2 spells it (`name/.zarray`
/// with `shape` and `dtype`, `name/.zattrs` with `_ARRAY_DIMENSIONS`, `.zattrs`); `None`
/// without consolidated metadata.
pub fn from_v3(root: &Value) -> Option<Map<String, Value>> {
    let nodes = root.get("consolidated_metadata")?.get("metadata")?.as_object()?;
    let mut out = Map::new();
    let attrs = |n: &Value| n.get("attributes").and_then(Value::as_object).cloned();
    out.insert(".zattrs".into(), Value::Object(attrs(root).unwrap_or_default()));
    for (name, node) in nodes {
        let mut a = attrs(node).unwrap_or_default();
        if node.get("node_type").and_then(Value::as_str) == Some("array") {
            let dtype = node.get("data_type").cloned().unwrap_or(Value::Null);
            let shape = node.get("shape").cloned().unwrap_or(Value::Null);
            out.insert(format!("{name}/.zarray"), json!({ "shape": shape, "dtype": dtype }));
            if let Some(dims) = node.get("dimension_names").filter(|d| d.is_array()) {
                a.insert("_ARRAY_DIMENSIONS".into(), dims.clone());
            }
        }
        out.insert(format!("{name}/.zattrs"), Value::Object(a));
    }
    Some(out)
}

/// NumPy's name of a Zarr dtype (v2 `<f4` or v3 `float32` → `float32`; v3 byte strings
/// `|S<n>`, v3 strings `object`).
fn type_name(dtype: &Value) -> String {
    if let Some(name) = dtype.get("name").and_then(Value::as_str) {
        let len = dtype.pointer("/configuration/length_bytes").and_then(Value::as_u64);
        return match (name, len) {
            ("null_terminated_bytes" | "fixed_length_bytes", Some(n)) => format!("|S{n}"),
            _ => "object".into(),
        };
    }
    let Some(s) = dtype.as_str() else { return "object".into() };
    const NUMPY: [&str; 12] = [
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64",
    ];
    if NUMPY.contains(&s) {
        return s.to_string();
    }
    if s == "string" {
        return "object".into();
    }
    let code = s.trim_start_matches(['<', '>', '|', '=']);
    let (kind, size) = code.split_at(code.len().min(1));
    let bits = size.parse::<u32>().map(|n| n * 8).unwrap_or(0);
    match kind {
        "f" => format!("float{bits}"),
        "i" => format!("int{bits}"),
        "u" => format!("uint{bits}"),
        "b" => "bool".into(),
        "S" => format!("|S{size}"),
        "U" => format!("<U{size}"),
        "O" => "object".into(),
        _ => s.to_string(),
    }
}

/// The dimensions and their lengths.
fn dims(vars: &[Var<'_>]) -> Map<String, Value> {
    let mut out = Map::new();
    for v in vars {
        for (d, n) in v.dims.iter().zip(&v.shape) {
            out.entry(d.clone()).or_insert_with(|| n.clone());
        }
    }
    out
}

/// `/keys`.
pub fn keys(meta: &Map<String, Value>) -> Value {
    Value::from(root(meta).0.iter().map(|v| v.name).collect::<Vec<_>>())
}

/// `/info`.
pub fn info(meta: &Map<String, Value>) -> Value {
    let (vars, attrs) = root(meta);
    let variables: Map<String, Value> = vars
        .iter()
        .map(|v| {
            let item = json!({ "type": v.dtype, "dimensions": v.dims, "attributes": v.attrs });
            (v.name.to_string(), item)
        })
        .collect();
    json!({ "dimensions": dims(&vars), "variables": variables, "global_attributes": attrs })
}

/// `/dict`: coordinates are the dimension coordinates and the variables other variables name
/// in their `coordinates` attribute (as xarray decodes them).
pub fn dict(meta: &Map<String, Value>) -> Value {
    let (vars, attrs) = root(meta);
    let named: Vec<&str> = vars
        .iter()
        .filter_map(|v| v.attrs.get("coordinates").and_then(Value::as_str))
        .flat_map(str::split_whitespace)
        .collect();
    let (mut coords, mut data_vars) = (Map::new(), Map::new());
    for v in &vars {
        let item = json!({ "dims": v.dims, "attrs": v.attrs, "dtype": v.dtype, "shape": v.shape });
        let is_coord = (v.dims.len() == 1 && v.dims[0] == v.name) || named.contains(&v.name);
        let into = if is_coord { &mut coords } else { &mut data_vars };
        into.insert(v.name.to_string(), item);
    }
    json!({ "coords": coords, "attrs": attrs, "dims": dims(&vars), "data_vars": data_vars })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Map<String, Value> {
        let m = json!({
            ".zattrs": {"title": "t"},
            ".zgroup": {"zarr_format": 2},
            "time/.zarray": {"shape": [3], "dtype": "<f8"},
            "time/.zattrs": {"_ARRAY_DIMENSIONS": ["time"], "units": "days since 2000-01-01"},
            "tas/.zarray": {"shape": [3, 2], "dtype": "<i2"},
            "tas/.zattrs": {"_ARRAY_DIMENSIONS": ["time", "x"], "coordinates": "height"},
            "height/.zarray": {"shape": [], "dtype": ">f4"},
            "height/.zattrs": {"_ARRAY_DIMENSIONS": []},
            "label/.zarray": {"shape": [3, 8], "dtype": "|S1"},
            "label/.zattrs": {"_ARRAY_DIMENSIONS": ["time", "strlen"]},
            "g/v/.zarray": {"shape": [1], "dtype": "<f4"},
        });
        m.as_object().unwrap().clone()
    }

    #[test]
    fn v3_consolidated_metadata_spelled_as_v2() {
        let root = json!({
            "zarr_format": 3, "node_type": "group", "attributes": {"title": "t"},
            "consolidated_metadata": {"kind": "inline", "must_understand": false, "metadata": {
                "time": {"node_type": "array", "shape": [3], "data_type": "float64",
                         "dimension_names": ["time"], "attributes": {"units": "days since 2000-01-01"}},
                "label": {"node_type": "array", "shape": [3, 8],
                          "data_type": {"name": "null_terminated_bytes", "configuration": {"length_bytes": 1}},
                          "dimension_names": ["time", "strlen"], "attributes": {}},
                "g": {"node_type": "group", "attributes": {}},
            }},
        });
        let m = from_v3(&root).unwrap();
        let i = info(&m);
        assert_eq!(i["dimensions"], json!({"time": 3}));
        assert_eq!(i["variables"]["time"]["type"], "float64");
        assert_eq!(i["variables"]["label"]["type"], "|S8");
        assert_eq!(i["global_attributes"]["title"], "t");
        assert_eq!(from_v3(&json!({"zarr_format": 3})), None);
    }

    #[test]
    fn bare_nan_tokens_become_strings() {
        let text = br#"{"a": NaN, "b": [-Infinity, Infinity], "c": "NaN \" NaN", "d": 1}"#;
        let v: Value = serde_json::from_slice(&standard_json(text)).unwrap();
        assert_eq!(
            v,
            json!({"a": "NaN", "b": ["-Infinity", "Infinity"], "c": "NaN \" NaN", "d": 1})
        );
    }

    #[test]
    fn keys_info_and_dict() {
        let m = meta();
        let mut k: Vec<String> = serde_json::from_value(keys(&m)).unwrap();
        k.sort();
        assert_eq!(k, ["height", "label", "tas", "time"]);
        let i = info(&m);
        assert_eq!(i["dimensions"], json!({"time": 3, "x": 2}));
        assert_eq!(i["variables"]["tas"]["type"], "int16");
        assert_eq!(i["variables"]["height"]["type"], "float32");
        // characters along strlen: strings of 8, no strlen dimension
        assert_eq!(i["variables"]["label"]["type"], "|S8");
        assert_eq!(i["variables"]["label"]["dimensions"], json!(["time"]));
        assert!(i["variables"]["tas"]["attributes"].get("_ARRAY_DIMENSIONS").is_none());
        assert_eq!(i["global_attributes"]["title"], "t");
        let d = dict(&m);
        let mut coords: Vec<&String> = d["coords"].as_object().unwrap().keys().collect();
        coords.sort();
        assert_eq!(coords, ["height", "time"]);
        assert_eq!(d["data_vars"]["tas"]["shape"], json!([3, 2]));
    }
}
