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
use super::plan::values_of;
use super::plot_request::{Kind, PlotRequest, Sel};
use super::slab::slab;
use crate::cf::calendar::{Calendar, TimeAxis};
use crate::plot::{self, Axis, Colormap, Figure, Grid, Plot};
use crate::vfs::Vfs;
use serde_json::{Map, Value};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

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
    let title = if words.is_empty() { name } else { format!("{name}, {}", words.join(", ")) };
    let plot = match req.kind {
        Kind::Hist => Plot::Hist { values, bins: 50 },
        Kind::Map => map(vfs, store, (&meta, &arr, &coords), &ranges, values)?,
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

/// A map: the last two dimensions as (y, x), every other of one step.
fn map(
    vfs: &Vfs,
    store: &Path,
    (meta, arr, coords): (&Map<String, Value>, &Array, &[Coord]),
    ranges: &[Range<u64>],
    values: Vec<f64>,
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
    let x = coords[n - 1].axis(&ranges[n - 1]);
    let y = coords[n - 2].axis(&ranges[n - 2]);
    Ok(Plot::Map { values, grid: Grid::Rectilinear { x, y } })
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

/// A dimension's coordinate: its values (the indices when it has none) and how to write them.
struct Coord {
    values: Vec<f64>,
    time: Option<TimeAxis>,
    latitude: bool,
    label: String,
}

impl Coord {
    fn of(
        vfs: &Vfs,
        store: &Path,
        meta: &Map<String, Value>,
        dim: &str,
    ) -> Result<Coord, DeriveError> {
        let Some(c) = input::array(meta, dim).ok().filter(|c| c.dims.len() == 1) else {
            return Ok(Coord {
                values: vec![],
                time: None,
                latitude: false,
                label: dim.to_string(),
            });
        };
        let values = values_of(vfs, store, &c)?;
        let attr = |k: &str| c.attrs.get(k).and_then(Value::as_str);
        let time = attr("units")
            .filter(|u| u.contains(" since "))
            .and_then(|u| TimeAxis::parse(u, Calendar::parse(attr("calendar")).ok()?).ok());
        let latitude = attr("units").is_some_and(|u| u.starts_with("degrees_north"))
            || attr("standard_name") == Some("latitude");
        let label = plot::with_units(
            attr("long_name").unwrap_or(dim),
            if time.is_some() { "" } else { attr("units").unwrap_or("") },
        );
        Ok(Coord { values, time, latitude, label })
    }

    fn text(&self, i: u64) -> String {
        let v = self.values.get(i as usize).copied().unwrap_or(i as f64);
        match &self.time {
            Some(t) => t
                .label(v)
                .map(|l| l.iso(t.calendar.has_year_zero()))
                .unwrap_or_else(|| v.to_string()),
            None => format!("{v}"),
        }
    }

    /// The step a value names (see the module docs).
    fn find(&self, v: &str) -> Option<u64> {
        if self.time.is_some() {
            let texts: Vec<String> = (0..self.values.len() as u64).map(|i| self.text(i)).collect();
            if let Some(i) = texts.iter().position(|t| t.starts_with(v)) {
                return Some(i as u64);
            }
            return texts.iter().rposition(|t| t.as_str() < v).map(|i| i as u64);
        }
        let x: f64 = v.parse().ok()?;
        self.values
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_finite())
            .min_by(|a, b| (a.1 - x).abs().total_cmp(&(b.1 - x).abs()))
            .map(|(i, _)| i as u64)
    }

    /// The plot's axis over `range` (indices when the dimension has no coordinate).
    fn axis(&self, range: &Range<u64>) -> Axis {
        let values: Vec<f64> = range
            .clone()
            .map(|i| self.values.get(i as usize).copied().unwrap_or(i as f64))
            .collect();
        let ticks: Option<plot::TickFormat> = self.time.map(|t| {
            let f: plot::TickFormat = Arc::new(move |v| {
                let iso = t.label(v).map(|l| l.iso(t.calendar.has_year_zero())).unwrap_or_default();
                iso.get(..10).unwrap_or(&iso).to_string()
            });
            f
        });
        Axis { label: self.label.clone(), values, ticks }
    }
}

fn is_time(meta: &Map<String, Value>, dim: &str) -> bool {
    input::array(meta, dim)
        .ok()
        .and_then(|c| c.attrs.get("units").and_then(Value::as_str).map(|u| u.contains(" since ")))
        .unwrap_or(false)
}
