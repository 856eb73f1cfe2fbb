//! What an item says about one dataset, computed once per dataset version: horizontal extent,
//! time extent, datacube dimensions and variables, properties from global attributes. This is
//! the expensive part (coordinate values are read); rendering the item from it is cheap.

use super::cf::{all_vars, named_by, Var};
use super::cube;
use super::extent::Extent;
use super::reading::{label_range, Ctx};
use super::values::{attr, ArrayReader};
use crate::cf::calendar::Label;
use crate::cf::geo::RotatedPole;
use crate::index::{AttrValue, Attrs};
use crate::zarr::DatasetView;
use serde_json::{json, Map, Value};

/// Global attributes copied into item properties, verbatim, when present.
pub const GLOBAL_PROPERTIES: &[&str] = &[
    "institution",
    "institution_id",
    "source",
    "source_id",
    "source_type",
    "experiment",
    "experiment_id",
    "activity_id",
    "project",
    "project_id",
    "mip_era",
    "model_id",
    "frequency",
    "realm",
    "table_id",
    "grid",
    "grid_label",
    "nominal_resolution",
    "variant_label",
    "product",
    "platform",
    "instrument",
    "Conventions",
    "references",
];

/// The time extent of a dataset, as calendar labels.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeExtent {
    pub start: Label,
    pub end: Label,
    pub calendar: String,
}

/// Everything an item of the dataset says that depends on its content.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// `[west, south, east, north]`; `None`: no latitude/longitude found.
    pub bbox: Option<[f64; 4]>,
    pub time: Option<TimeExtent>,
    pub dimensions: Map<String, Value>,
    pub variables: Map<String, Value>,
    /// title, description and the global attributes of [`GLOBAL_PROPERTIES`].
    pub properties: Map<String, Value>,
}

/// Compute the facts of `index`, reading coordinates through `reader`. Coordinates that cannot
/// be read are logged and left out; this never fails.
pub fn facts(view: &DatasetView, reader: &ArrayReader<'_>, source: &str) -> Facts {
    let vars = all_vars(view);
    let mut ctx = Ctx::new(reader, source);
    let time = time_extent(&vars, &mut ctx);
    let bbox = horizontal(&vars, &mut ctx);
    let (dimensions, dim_keys) = cube::dimensions(view, &vars, &mut ctx);
    let variables = cube::variables(&vars, &dim_keys);
    Facts { bbox, time, dimensions, variables, properties: global_properties(&view.root_attrs) }
}

/// The time extent of the data's time axis: the time variables of the best rank
/// ([`Var::time_rank`]) that give dates, with their bounds; auxiliary times such as a
/// `forecast_reference_time` only when nothing better gives one.
fn time_extent(vars: &[Var<'_>], ctx: &mut Ctx<'_, '_>) -> Option<TimeExtent> {
    let mut ranks: Vec<u8> = vars.iter().filter_map(Var::time_rank).collect();
    ranks.sort_unstable();
    ranks.dedup();
    ranks.into_iter().find_map(|rank| {
        let mut out: Option<TimeExtent> = None;
        for v in vars.iter().filter(|v| v.time_rank() == Some(rank)) {
            let Some((lo, hi, _)) = label_range(v, vars, ctx) else { continue };
            let calendar = v.attr("calendar").unwrap_or("standard").trim().to_string();
            out = Some(match out {
                Some(t) => TimeExtent { start: t.start.min(lo), end: t.end.max(hi), ..t },
                None => TimeExtent { start: lo, end: hi, calendar },
            });
        }
        out
    })
}

/// The bbox from latitude/longitude variables, or from a rotated grid.
fn with_bounds<'a>(v: &Var<'a>, vars: &[Var<'a>]) -> Vec<Var<'a>> {
    std::iter::once(v.clone()).chain(v.bounds(vars)).collect()
}

fn horizontal(vars: &[Var<'_>], ctx: &mut Ctx<'_, '_>) -> Option<[f64; 4]> {
    // latitudes/longitudes that are coordinates (of a dimension, or named by a `coordinates`
    // attribute) win over others such as a satellite's position
    let coords = named_by(vars, &["coordinates"]);
    let is_coord = |v: &Var<'_>| v.is_dim_coord() || coords.contains(&v.key());
    let lat = |v: &Var<'_>| v.is_latitude() && !v.is_longitude();
    let lon = |v: &Var<'_>| v.is_longitude() && !v.is_latitude();
    let has_coord_pair =
        vars.iter().any(|v| lat(v) && is_coord(v)) && vars.iter().any(|v| lon(v) && is_coord(v));
    let cf = if has_coord_pair {
        extent_of(vars, ctx, |v| lat(v) && is_coord(v), |v| lon(v) && is_coord(v))
    } else {
        extent_of(vars, ctx, lat, lon)
    };
    cf.or_else(|| extent_of(vars, ctx, |v| v.is_named_latitude(), |v| v.is_named_longitude()))
        .or_else(|| rotated(vars, ctx))
}

/// The bbox of the variables `is_lat` and `is_lon` pick (with their bounds).
fn extent_of(
    vars: &[Var<'_>],
    ctx: &mut Ctx<'_, '_>,
    is_lat: impl Fn(&Var<'_>) -> bool,
    is_lon: impl Fn(&Var<'_>) -> bool,
) -> Option<[f64; 4]> {
    let mut extent = Extent::default();
    for v in vars.iter().filter(|v| is_lat(v)) {
        for var in with_bounds(v, vars) {
            ctx.visit(&var, &mut |x| extent.add_lat(x));
        }
    }
    for v in vars.iter().filter(|v| is_lon(v)) {
        for var in with_bounds(v, vars) {
            ctx.visit(&var, &mut |x| extent.add_lon(x));
        }
    }
    extent.bbox()
}

/// Every point of a rotated-pole grid, unrotated.
fn rotated(vars: &[Var<'_>], ctx: &mut Ctx<'_, '_>) -> Option<[f64; 4]> {
    let mapping = vars.iter().find(|v| {
        v.attr("grid_mapping_name").is_some_and(|n| n.trim() == "rotated_latitude_longitude")
    })?;
    let num = |n: &str| attr(&mapping.node.attrs, n).and_then(AttrValue::as_f64);
    let pole = RotatedPole::from_attrs(mapping.attr("grid_mapping_name"), num)?;
    let in_group = |lat: bool| {
        let is = |v: &Var<'_>| if lat { v.is_grid_latitude() } else { v.is_grid_longitude() };
        vars.iter().find(|v| v.group == mapping.group && v.node.dims.len() == 1 && is(v)).cloned()
    };
    let (rlat, rlon) = (in_group(true)?, in_group(false)?);
    let read = |v: &Var<'_>, ctx: &mut Ctx<'_, '_>| {
        let mut out = Vec::new();
        ctx.visit(v, &mut |x| out.push(x)).then_some(out)
    };
    let (lats, lons) = (read(&rlat, ctx)?, read(&rlon, ctx)?);
    let mut extent = Extent::default();
    for la in &lats {
        for lo in &lons {
            let (lat, lon) = pole.unrotate(*la, *lo);
            extent.add_lat(lat);
            extent.add_lon(lon);
        }
    }
    extent.bbox()
}

/// A JSON value of an attribute (non-finite numbers dropped).
pub fn attr_json(v: &AttrValue) -> Value {
    let num = |x: f64| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number);
    match v {
        AttrValue::Int(x) => json!(x),
        AttrValue::UInt(x) => json!(x),
        AttrValue::Float(x) => num(*x),
        AttrValue::Str(s) => json!(s),
        AttrValue::Ints(x) => json!(x),
        AttrValue::UInts(x) => json!(x),
        AttrValue::Floats(x) => Value::Array(x.iter().map(|f| num(*f)).collect()),
        AttrValue::Strs(x) => json!(x),
        AttrValue::Float32(x) => num(f64::from(*x)),
        AttrValue::Narrow { value, .. } => json!(value),
        AttrValue::Floats32(x) => Value::Array(x.iter().map(|f| num(f64::from(*f))).collect()),
    }
}

fn global_properties(attrs: &Attrs) -> Map<String, Value> {
    let mut out = Map::new();
    let global = |n: &str| attr(attrs, n);
    if let Some(AttrValue::Str(t)) = global("title") {
        out.insert("title".into(), t.trim().into());
    }
    if let Some(AttrValue::Str(d)) = global("summary").or(global("comment")) {
        out.insert("description".into(), d.trim().into());
    }
    for name in GLOBAL_PROPERTIES {
        if let Some(v) = global(name) {
            out.insert(name.to_string(), attr_json(v));
        }
    }
    out
}
