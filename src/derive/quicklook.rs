//! Quick-look plots of one variable (`/datasets/{id}/plot/{var}/{kind}/{cmap}/{selection…}`,
//! as cloudify spells the path): the selection resolved against the store's coordinates, the
//! values read chunk by chunk through the derived view (decoded and masked as xarray decodes
//! them, see `input.rs`), drawn by [`crate::plot`].
//!
//! Selection: pairs `{dim}/{spec}`: `lo_hi` an index range as Python's `isel(dim=slice(lo,
//! hi))`; anything else a value: on a time axis the first step whose date starts with it
//! (`2000-01` → the first step of January 2000; else the last step before it), otherwise the
//! step nearest the number (`lev/850`). Dimensions not named: a map takes its last two whole
//! and every other at its last index (the last time step); a line runs along the time
//! dimension (else the first) and averages every other dimension it does not name (weighted
//! by cos(latitude) along a latitude dimension: an area mean); a histogram counts what a map
//! would show. `.png` (the default) or `.svg` on the last segment chooses the format.

use super::error::DeriveError;
use super::input::{self, Array};
use super::plot_coord::{is_time, Coord};
use super::plot_request::{Kind, PlotRequest, Sel};
use super::slab::slab;
use crate::cf::geo::RotatedPole;
use crate::plot::{self, Colormap, Figure, Grid, Plot};
use crate::vfs::Vfs;
use serde_json::{Map, Value};
use std::ops::Range;
use std::path::Path;

/// The image for `req` of `store` (read through `vfs`, the derived view); `max_values`: the
/// most values a plot may read.
pub fn plot(
    vfs: &Vfs,
    store: &Path,
    req: &PlotRequest,
    max_values: u64,
) -> Result<Vec<u8>, DeriveError> {
    let meta = input::metadata(vfs, store)?;
    let arr = input::array(&meta, &req.var)?;
    for (dim, _) in &req.selection {
        if !arr.dims.contains(dim) {
            let dims = arr.dims.join(", ");
            return Err(DeriveError::Request(format!(
                "{} has no dimension {dim:?}: {dims}",
                req.var
            )));
        }
    }
    let n = arr.dims.len();
    // every dimension's coordinate, read once for the selection, the axes and the weights
    let coords: Vec<Coord> =
        arr.dims.iter().map(|dim| Coord::of(vfs, store, &meta, dim)).collect::<Result<_, _>>()?;
    let series = arr.dims.iter().position(|d| is_time(&meta, d)).unwrap_or(0);
    let mut ranges = Vec::with_capacity(n);
    let mut words = Vec::new();
    for (d, dim) in arr.dims.iter().enumerate() {
        let len = arr.shape[d];
        let coord = &coords[d];
        let chosen = req.selection.iter().find(|(name, _)| name == dim).map(|(_, s)| s);
        let range = match chosen {
            Some(Sel::Range(lo, hi)) if *hi <= len => *lo..*hi,
            Some(Sel::Range(_, hi)) => {
                return Err(DeriveError::Request(format!("{dim} has {len} steps, not {hi}")))
            }
            Some(Sel::Value(v)) => {
                let i = coord
                    .find(v)
                    .ok_or_else(|| DeriveError::Request(format!("{dim} has no step {v:?}")))?;
                i..i + 1
            }
            None => match req.kind {
                Kind::Map | Kind::Hist if d + 2 >= n => 0..len,
                Kind::Line => 0..len,
                _ => len.saturating_sub(1)..len,
            },
        };
        if range.end - range.start == 1 && len > 1 {
            words.push(format!("{dim} = {}", coord.text(range.start)));
        }
        ranges.push(range);
    }
    let count: u64 = ranges.iter().map(|r| r.end - r.start).product();
    if count > max_values {
        let what = format!("{count} values to plot");
        return Err(DeriveError::TooLarge { needed: count * 8, limit: max_values * 8, what });
    }
    let values = slab(vfs, store, &arr, &ranges)?;
    let attr = |k: &str| arr.attrs.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let name = [attr("long_name"), attr("standard_name"), req.var.clone()]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    let pole = rotated_pole(&meta, &arr);
    if let (Kind::Map, Some(p)) = (req.kind, pole) {
        words.push(p.describe());
    }
    let title = if words.is_empty() { name } else { format!("{name}, {}", words.join(", ")) };
    let plot = match req.kind {
        Kind::Hist => Plot::Hist { values, bins: 50 },
        Kind::Map => map(vfs, store, (&meta, &arr, &coords), &ranges, values, pole)?,
        Kind::Line => line((&arr, &coords), &ranges, series, &values)?,
    };
    let cmap = Colormap::named(&req.cmap).map_err(|e| DeriveError::Request(e.to_string()))?;
    let fig = Figure { plot, title, units: attr("units"), cmap, size: (900, 450) };
    plot::render(&fig, req.format).map_err(|e| match e {
        plot::PlotError::AllMissing | plot::PlotError::Shape(_) => {
            DeriveError::Request(e.to_string())
        }
        other => DeriveError::Metadata(other.to_string()),
    })
}

/// A map: the last two dimensions as (y, x), every other of one step. On its 2-D longitude
/// and latitude where the variable names them, else on true longitude and latitude
/// computed from a rotated pole's grid coordinates, else on the dimensions' coordinates.
fn map(
    vfs: &Vfs,
    store: &Path,
    (meta, arr, coords): (&Map<String, Value>, &Array, &[Coord]),
    ranges: &[Range<u64>],
    values: Vec<f64>,
    pole: Option<RotatedPole>,
) -> Result<Plot, DeriveError> {
    let n = arr.dims.len();
    if n < 2 || ranges[..n - 2].iter().any(|r| r.end - r.start != 1) {
        return Err(DeriveError::Request(format!(
            "a map is of two dimensions ({}): select one step of the others",
            arr.dims.iter().rev().take(2).rev().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let (ydim, xdim) = (&arr.dims[n - 2], &arr.dims[n - 1]);
    if let Some((lon, lat)) = curvilinear(meta, arr, ydim, xdim) {
        let yx = [ranges[n - 2].clone(), ranges[n - 1].clone()];
        let lon_v = slab(vfs, store, &input::array(meta, &lon)?, &yx)?;
        let lat_v = slab(vfs, store, &input::array(meta, &lat)?, &yx)?;
        let shape = ((yx[0].end - yx[0].start) as usize, (yx[1].end - yx[1].start) as usize);
        return Ok(Plot::Map { values, grid: Grid::Curvilinear { lon: lon_v, lat: lat_v, shape } });
    }
    let (yc, xc) = (&coords[n - 2], &coords[n - 1]);
    if let Some(pole) = pole.filter(|_| !yc.values.is_empty() && !xc.values.is_empty()) {
        let swap = input::array(meta, ydim).is_ok_and(|c| {
            c.attrs.get("standard_name").and_then(Value::as_str) == Some("grid_longitude")
        });
        let (mut lon, mut lat) = (Vec::new(), Vec::new());
        for j in ranges[n - 2].clone() {
            for i in ranges[n - 1].clone() {
                let (a, b) = (yc.values[j as usize], xc.values[i as usize]);
                let (la, lo) = if swap { pole.unrotate(b, a) } else { pole.unrotate(a, b) };
                lat.push(la);
                lon.push(lo);
            }
        }
        let len = |r: &Range<u64>| (r.end - r.start) as usize;
        let shape = (len(&ranges[n - 2]), len(&ranges[n - 1]));
        return Ok(Plot::Map { values, grid: Grid::Curvilinear { lon, lat, shape } });
    }
    let x = xc.axis(&ranges[n - 1]);
    let y = yc.axis(&ranges[n - 2]);
    Ok(Plot::Map { values, grid: Grid::Rectilinear { x, y } })
}

/// The rotated pole of the variable's grid mapping, if its `grid_mapping` names one.
fn rotated_pole(meta: &Map<String, Value>, arr: &Array) -> Option<RotatedPole> {
    let name = arr.attrs.get("grid_mapping")?.as_str()?.trim();
    let gm = input::array(meta, name).ok()?;
    let text = gm.attrs.get("grid_mapping_name").and_then(Value::as_str);
    RotatedPole::from_attrs(text, |k| gm.attrs.get(k).and_then(Value::as_f64))
}

/// The 2-D longitude and latitude arrays the variable's `coordinates` name over (y, x).
fn curvilinear(
    meta: &Map<String, Value>,
    arr: &Array,
    y: &str,
    x: &str,
) -> Option<(String, String)> {
    let names = arr.attrs.get("coordinates")?.as_str()?;
    let mut lon = None;
    let mut lat = None;
    for name in names.split_whitespace() {
        let Ok(c) = input::array(meta, name) else { continue };
        if c.dims != [y, x] {
            continue;
        }
        let units = c.attrs.get("units").and_then(Value::as_str).unwrap_or("");
        let std = c.attrs.get("standard_name").and_then(Value::as_str).unwrap_or("");
        if units.starts_with("degrees_east") || std == "longitude" {
            lon = Some(name.to_string());
        } else if units.starts_with("degrees_north") || std == "latitude" {
            lat = Some(name.to_string());
        }
    }
    Some((lon?, lat?))
}

/// A line along `series`, every other dimension averaged (by cos(latitude) along latitude).
fn line(
    (arr, coords): (&Array, &[Coord]),
    ranges: &[Range<u64>],
    series: usize,
    values: &[f64],
) -> Result<Plot, DeriveError> {
    if series >= arr.dims.len() {
        return Err(DeriveError::Request(format!(
            "{} has no dimension to draw a line along",
            arr.name
        )));
    }
    let lens: Vec<usize> = ranges.iter().map(|r| (r.end - r.start) as usize).collect();
    let weights: Vec<Vec<f64>> = coords
        .iter()
        .zip(ranges)
        .map(|(c, r)| match c.latitude {
            true => r
                .clone()
                .map(|i| c.values.get(i as usize).map_or(1.0, |v| v.to_radians().cos()))
                .collect(),
            false => vec![1.0; (r.end - r.start) as usize],
        })
        .collect();
    let mut sum = vec![0.0; lens[series]];
    let mut wsum = vec![0.0; lens[series]];
    let mut index = vec![0usize; lens.len()];
    for v in values {
        if v.is_finite() {
            let w: f64 = index
                .iter()
                .enumerate()
                .filter(|(d, _)| *d != series)
                .map(|(d, &i)| weights[d][i])
                .product();
            sum[index[series]] += v * w;
            wsum[index[series]] += w;
        }
        for d in (0..lens.len()).rev() {
            index[d] += 1;
            if index[d] < lens[d] {
                break;
            }
            index[d] = 0;
        }
    }
    let y = sum.iter().zip(&wsum).map(|(s, w)| if *w > 0.0 { s / w } else { f64::NAN }).collect();
    let x = coords[series].axis(&ranges[series]);
    Ok(Plot::Line { x, y })
}
