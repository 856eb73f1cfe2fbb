//! The STAC Item of one dataset: [`Facts`] plus where the dataset sits (id, store name, links)
//! and the configuration. Cheap: rendered on each request from cached facts.

use super::config::{expand, StacConfig};
use super::extent::geometry;
use super::facts::Facts;
use super::thumbnail::{Thumbnail, THUMBNAIL_CMAP};
use crate::cf::calendar::{Calendar, Label};
use chrono::{DateTime, Timelike, Utc};
use serde_json::{json, Value};
use std::time::SystemTime;

pub const DATACUBE: &str = "https://stac-extensions.github.io/datacube/v2.2.0/schema.json";
pub const XARRAY_ASSETS: &str =
    "https://stac-extensions.github.io/xarray-assets/v1.0.0/schema.json";
/// Media type of a Zarr store (v2 items keep the plain type).
pub const ZARR_MEDIA_TYPE: &str = "application/vnd+zarr";
/// Media type of a Zarr v3 store.
pub const ZARR3_MEDIA_TYPE: &str = "application/vnd+zarr; version=3";

/// Where a dataset's item sits and what it points to.
pub struct ItemPlace<'a> {
    /// Item id: the store path relative to the root, without `.zarr`.
    pub id: String,
    /// The store path relative to the root (`cmip6/tas_day.zarr`).
    pub store: String,
    /// Directories between the root catalog and the item; `None`: no catalog (offline items).
    pub depth: Option<usize>,
    /// Absolute path of the source file.
    pub source: String,
    pub mtime: SystemTime,
    pub config: &'a StacConfig,
    pub public_url: Option<&'a str>,
    /// The Zarr version of the store (2 or 3).
    pub zarr_format: u8,
    /// The quick-look image beside the item (`--thumbnails`): its file name and what it shows.
    pub thumbnail: Option<(String, Thumbnail)>,
}

/// Relative href of the root catalog from a directory `depth` levels below it.
pub fn root_href(depth: usize) -> String {
    if depth == 0 {
        "./catalog.json".into()
    } else {
        format!("{}catalog.json", "../".repeat(depth))
    }
}

/// The item as pretty JSON text, newline-terminated.
pub fn item_json(facts: &Facts, place: &ItemPlace<'_>) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(&item(facts, place)).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The item of a dataset.
pub fn item(facts: &Facts, place: &ItemPlace<'_>) -> stac::Item {
    let mut item = stac::Item::new(&place.id);
    item.extensions = vec![DATACUBE.into(), XARRAY_ASSETS.into()];
    let (bbox, source) = match facts.bbox {
        Some(b) => (b, "coordinates"),
        None => ([-180.0, -90.0, 180.0, 90.0], "global-fallback"),
    };
    item.bbox = Some(stac::Bbox::new(bbox[0], bbox[1], bbox[2], bbox[3]));
    item.geometry = serde_json::from_value(geometry(bbox)).ok();
    let p = &mut item.properties;
    let times = facts.time.as_ref().and_then(|t| Some((stac_time(t.start)?, stac_time(t.end)?, t)));
    let extra = &mut p.additional_fields;
    match times {
        Some(((start, false), (end, false), _)) if start == end => p.datetime = Some(start),
        Some(((start, _), (end, _), _)) => {
            p.datetime = None;
            p.start_datetime = Some(start);
            p.end_datetime = Some(end);
        }
        None => {
            let mtime = DateTime::<Utc>::from(place.mtime);
            p.datetime = Some(mtime.with_nanosecond(0).unwrap_or(mtime));
        }
    }
    let store_name = place.store.rsplit('/').next().unwrap_or(&place.store);
    p.title = facts.properties.get("title").and_then(Value::as_str).map(str::to_string);
    p.title.get_or_insert_with(|| store_name.to_string());
    p.description = facts.properties.get("description").and_then(Value::as_str).map(str::to_string);
    for (k, v) in &facts.properties {
        if k != "title" && k != "description" {
            extra.insert(k.clone(), v.clone());
        }
    }
    extra.insert("cube:dimensions".into(), Value::Object(facts.dimensions.clone()));
    extra.insert("cube:variables".into(), Value::Object(facts.variables.clone()));
    if let Some(((_, a), (_, b), t)) = &times {
        extra.insert("cf:calendar".into(), t.calendar.clone().into());
        if *a || *b {
            let year_zero = Calendar::parse(Some(&t.calendar)).map_or(true, |c| c.has_year_zero());
            let labels = [t.start.iso(year_zero), t.end.iso(year_zero)];
            extra.insert("cloudify:cf_time_extent".into(), json!(labels));
        }
    }
    extra.insert("cloudify:bbox_source".into(), source.into());
    let time_source = if times.is_some() { "coordinates" } else { "file-mtime" };
    extra.insert("cloudify:datetime_source".into(), time_source.into());
    let config = place.config;
    if let Some(l) = &config.license {
        extra.insert("license".into(), l.clone().into());
    }
    if !config.providers.is_empty() {
        extra.insert("providers".into(), json!(config.providers));
    }
    if !config.keywords.is_empty() {
        extra.insert("keywords".into(), json!(config.keywords));
    }
    for (k, v) in &config.item_properties {
        extra.insert(k.clone(), v.clone());
    }
    item.assets.extend(assets(place, store_name));
    if let Some(depth) = place.depth {
        item.links = vec![
            stac::Link::root(root_href(depth)).json(),
            stac::Link::parent("./catalog.json").json(),
        ];
    }
    item
}

/// A label as a STAC datetime, and whether it was clamped: STAC datetimes are RFC 3339, whose
/// years are 0001–9999 in the parsers STAC clients use (pystac, stac-pydantic), so a label
/// before year 1 (a climatology in year 0) becomes 0001-01-01T00:00:00Z and one after 9999
/// becomes 9999-12-31T23:59:59Z. `None`: no date (beyond any calendar's range).
fn stac_time(label: Label) -> Option<(DateTime<Utc>, bool)> {
    let bound = |y, m, d, h, min, s| {
        chrono::NaiveDate::from_ymd_opt(y, m, d)?.and_hms_opt(h, min, s).map(|t| t.and_utc())
    };
    match label.year {
        y if y < 1 => Some((bound(1, 1, 1, 0, 0, 0)?, true)),
        y if y > 9999 => Some((bound(9999, 12, 31, 23, 59, 59)?, true)),
        _ => Some((label.to_utc()?, false)),
    }
}

/// The item of a dataset that cannot be presented (its file cannot be indexed): still a valid
/// item, so that a walk of the catalog goes on past it, saying why (`cloudify:error`), with
/// no geometry (unknown), the file's mtime as `datetime`, and no data asset (the store's
/// metadata cannot be read). It is replaced by the full item once the file is readable.
pub fn unreadable_item(place: &ItemPlace<'_>, reason: &str) -> stac::Item {
    let mut item = stac::Item::new(&place.id);
    let p = &mut item.properties;
    let mtime = DateTime::<Utc>::from(place.mtime);
    p.datetime = Some(mtime.with_nanosecond(0).unwrap_or(mtime));
    let store_name = place.store.rsplit('/').next().unwrap_or(&place.store);
    p.title = Some(store_name.to_string());
    let extra = &mut p.additional_fields;
    extra.insert("cloudify:error".into(), reason.into());
    extra.insert("cloudify:datetime_source".into(), "file-mtime".into());
    if let Some(depth) = place.depth {
        item.links = vec![
            stac::Link::root(root_href(depth)).json(),
            stac::Link::parent("./catalog.json").json(),
        ];
    }
    item
}

/// [`unreadable_item`] as pretty JSON text, newline-terminated.
pub fn unreadable_item_json(place: &ItemPlace<'_>, reason: &str) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(&unreadable_item(place, reason)).unwrap_or_default();
    out.push(b'\n');
    out
}

/// A store asset's media type and fields for the item's Zarr version: v3 says its version
/// (media type, `zarr:zarr_format`, and `zarr_format` for xarray).
fn zarr_asset(mut a: stac::Asset, zarr_format: u8) -> stac::Asset {
    let fields = &mut a.additional_fields;
    if zarr_format == 3 {
        a.r#type = Some(ZARR3_MEDIA_TYPE.into());
        fields.insert("zarr:zarr_format".into(), json!(3));
        let kwargs = json!({"engine": "zarr", "consolidated": true, "zarr_format": 3});
        fields.insert("xarray:open_kwargs".into(), kwargs);
    } else {
        a.r#type = Some(ZARR_MEDIA_TYPE.into());
        let kwargs = json!({"engine": "zarr", "consolidated": true});
        fields.insert("xarray:open_kwargs".into(), kwargs);
    }
    a
}

fn assets(place: &ItemPlace<'_>, store_name: &str) -> Vec<(String, stac::Asset)> {
    let mut out = Vec::new();
    let values = [
        ("public_url", place.public_url.map(|u| u.trim_end_matches('/'))),
        ("store", Some(place.store.as_str())),
        ("id", Some(place.id.as_str())),
        ("source", Some(place.source.as_str())),
    ];
    // beside the store (relative, so a copy of the tree works anywhere), or where it is
    // published (--public-url: absolute, so the item works wherever it is loaded)
    let href = match values[0].1 {
        Some(url) => format!("{url}/{}", place.store),
        None => format!("./{store_name}"),
    };
    let mut data = stac::Asset::new(href).role("data");
    data.title = Some(format!("{store_name} (Zarr v{}, consolidated)", place.zarr_format));
    out.push(("data".to_string(), zarr_asset(data, place.zarr_format)));
    if let Some((file, thumb)) = &place.thumbnail {
        // beside the item, as the store is; absolute where the tree is published
        let href = match values[0].1 {
            Some(url) => {
                let dir = place.store.rsplit_once('/').map_or("", |(d, _)| d);
                let dir = if dir.is_empty() { String::new() } else { format!("{dir}/") };
                format!("{url}/{dir}{file}")
            }
            None => format!("./{file}"),
        };
        let mut a = stac::Asset::new(href).role("thumbnail");
        a.r#type = Some("image/png".into());
        let kind = if thumb.map { "map" } else { "line" };
        a.title = Some(format!("{} ({kind}, {THUMBNAIL_CMAP})", thumb.var));
        out.push(("thumbnail".to_string(), a));
    }
    for (key, t) in &place.config.assets {
        // an asset whose placeholders have no value (no --public-url) is left out
        let Some(href) = expand(&t.href, &values) else { continue };
        let mut a = stac::Asset::new(href);
        a.title = t.title.as_deref().and_then(|s| expand(s, &values));
        a.description = t.description.clone();
        a.r#type = t.media_type.clone();
        a.roles = t.roles.clone();
        out.push((key.clone(), a));
    }
    out
}
