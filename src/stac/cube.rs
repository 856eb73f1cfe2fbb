//! The datacube extension of an item: `cube:dimensions` (every dimension of every group, typed
//! spatial/temporal/other from its coordinate variable) and `cube:variables` (every array that
//! is not a dimension coordinate, data or auxiliary).

use super::cf::{named_by, qualified, Var};
use super::reading::{label_range, Ctx, MAX_VALUES};
use crate::cf::calendar::Label;
use crate::zarr::DatasetView;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The key of dimension `dim` as used by a variable of group `group`: the dimension is defined
/// in that group or its nearest ancestor (NetCDF-4 scoping).
fn dimension_key(view: &DatasetView, group: &str, dim: &str) -> String {
    let mut g = group.to_string();
    loop {
        if view.dimensions.iter().any(|(dg, name, _)| *dg == g && name == dim) {
            return qualified(&g, dim);
        }
        if g.is_empty() {
            return qualified(group, dim);
        }
        g = g.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default();
    }
}

pub(super) type DimKeys = HashMap<String, Vec<String>>;

/// Every dimension of every group, and the dimension keys of every variable.
pub(super) fn dimensions(
    view: &DatasetView,
    vars: &[Var<'_>],
    ctx: &mut Ctx<'_, '_>,
) -> (Map<String, Value>, DimKeys) {
    let mut out = Map::new();
    for (group, name, len) in &view.dimensions {
        let coord =
            vars.iter().find(|c| c.group == *group && c.node.name == *name && c.is_dim_coord());
        out.insert(qualified(group, name), dimension(coord, *len, vars, ctx));
    }
    let mut keys = DimKeys::new();
    for v in vars {
        let mine: Vec<String> =
            v.node.dims.iter().map(|d| dimension_key(view, &v.group, d)).collect();
        for (key, len) in mine.iter().zip(&v.node.shape) {
            // a dimension the data model did not list (plain HDF5): an index
            out.entry(key.clone()).or_insert_with(|| index_dimension(*len));
        }
        keys.insert(v.key(), mine);
    }
    (out, keys)
}

fn index_dimension(len: u64) -> Value {
    match len {
        0 => json!({"type": "index", "extent": [null, null]}),
        n => json!({"type": "index", "extent": [0, n - 1]}),
    }
}

fn dimension(coord: Option<&Var<'_>>, len: u64, vars: &[Var<'_>], ctx: &mut Ctx<'_, '_>) -> Value {
    let Some(c) = coord else { return index_dimension(len) };
    let Some(stats) = ctx.stats(c) else { return index_dimension(len) };
    let mut obj = Map::new();
    if c.is_time() {
        if let Some((lo, hi, _)) = label_range(c, vars, ctx) {
            let iso = |l: Label| {
                l.to_utc().map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            };
            obj.insert("type".into(), "temporal".into());
            obj.insert("extent".into(), json!([iso(lo), iso(hi)]));
            return Value::Object(obj);
        }
    }
    match c.spatial_axis() {
        Some(axis) => {
            obj.insert("type".into(), "spatial".into());
            obj.insert("axis".into(), axis.to_string().into());
            obj.insert("extent".into(), json!([stats.min, stats.max]));
            if axis == 'z' && stats.head.len() <= MAX_VALUES {
                obj.insert("values".into(), json!(stats.head));
            }
            if let Some(wkt) = crs_wkt(c, vars).filter(|_| !(c.is_latitude() || c.is_longitude())) {
                obj.insert("reference_system".into(), wkt.into());
            }
        }
        None => {
            let kind = c.attr("standard_name").unwrap_or("other").trim();
            obj.insert("type".into(), kind.into());
            if stats.head.len() <= MAX_VALUES && stats.count as usize == stats.head.len() {
                obj.insert("values".into(), json!(stats.head));
            } else {
                obj.insert("extent".into(), json!([stats.min, stats.max]));
            }
        }
    }
    if let Some(unit) = c.attr("units") {
        obj.insert("unit".into(), unit.into());
    }
    if let Some(d) = description(c) {
        obj.insert("description".into(), d.into());
    }
    Value::Object(obj)
}

/// The `crs_wkt` of a grid mapping used by a variable that has `c` as a dimension.
fn crs_wkt(c: &Var<'_>, vars: &[Var<'_>]) -> Option<String> {
    let user = vars
        .iter()
        .find(|v| v.node.dims.contains(&c.node.name) && v.attr("grid_mapping").is_some())?;
    let name = user.attr("grid_mapping")?.split_whitespace().next()?.trim_end_matches(':');
    let mapping = vars.iter().find(|v| v.group == user.group && v.node.name == name)?;
    mapping.attr("crs_wkt").or(mapping.attr("spatial_ref")).map(str::to_string)
}

fn description(v: &Var<'_>) -> Option<String> {
    v.attr("long_name").or(v.attr("standard_name")).map(|s| s.trim().to_string())
}

pub(super) fn variables(vars: &[Var<'_>], dim_keys: &DimKeys) -> Map<String, Value> {
    let aux = named_by(vars, &["coordinates", "bounds", "climatology", "grid_mapping"]);
    let mut out = Map::new();
    for v in vars.iter().filter(|v| !v.is_dim_coord()) {
        let auxiliary =
            aux.contains(&v.key()) || v.is_latitude() || v.is_longitude() || v.is_time();
        let mut obj = Map::new();
        obj.insert("dimensions".into(), json!(dim_keys.get(&v.key()).cloned().unwrap_or_default()));
        obj.insert("type".into(), if auxiliary { "auxiliary" } else { "data" }.into());
        if let Some(unit) = v.attr("units") {
            obj.insert("unit".into(), unit.into());
        }
        if let Some(d) = description(v) {
            obj.insert("description".into(), d.into());
        }
        out.insert(v.key(), Value::Object(obj));
    }
    out
}
