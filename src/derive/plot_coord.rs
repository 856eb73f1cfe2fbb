//! A plotted dimension's coordinate (`quicklook.rs`): its values (the indices where it has
//! none), read once per plot for the selection, the axes and the area weights; how a step is
//! written in a title; which step a value in the path names.

use super::error::DeriveError;
use super::input;
use super::plan::values_of;
use crate::cf::calendar::{Calendar, TimeAxis};
use crate::plot::{self, Axis};
use crate::vfs::Vfs;
use serde_json::{Map, Value};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// A dimension's coordinate: its values (the indices when it has none) and how to write them.
pub struct Coord {
    pub values: Vec<f64>,
    pub time: Option<TimeAxis>,
    pub latitude: bool,
    pub label: String,
}

impl Coord {
    pub fn of(
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

    pub fn text(&self, i: u64) -> String {
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
    pub fn find(&self, v: &str) -> Option<u64> {
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
    pub fn axis(&self, range: &Range<u64>) -> Axis {
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

pub fn is_time(meta: &Map<String, Value>, dim: &str) -> bool {
    input::array(meta, dim)
        .ok()
        .and_then(|c| c.attrs.get("units").and_then(Value::as_str).map(|u| u.contains(" since ")))
        .unwrap_or(false)
}
