//! Group labels of a time coordinate (`time.month`, `time.season`, …): each time step's group,
//! in the CF calendar of the coordinate, and the groups' labels sorted as xarray sorts them.

use super::error::DeriveError;
use super::input::Dtype;
use super::request::Component;
use crate::cf::calendar::{Calendar, TimeAxis};
use serde_json::Value;

/// The labels of the groups, as stored in the result's coordinate.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels {
    Ints(Vec<i64>),
    /// Season names (`DJF`, `JJA`, `MAM`, `SON`).
    Strings(Vec<String>),
    /// A coordinate's own values (grouped by value), its type and attributes.
    Values(Vec<f64>, Dtype, serde_json::Map<String, Value>),
}

impl Labels {
    pub fn len(&self) -> usize {
        match self {
            Labels::Ints(v) => v.len(),
            Labels::Strings(v) => v.len(),
            Labels::Values(v, ..) => v.len(),
        }
    }
}

/// Each step's group (`None`: a time that is no date, left out as xarray leaves out NaT),
/// and the groups' labels in sorted order.
pub fn groups(
    values: &[f64],
    attrs: &serde_json::Map<String, Value>,
    component: Component,
) -> Result<(Vec<Option<usize>>, Labels), DeriveError> {
    let text = |k: &str| attrs.get(k).and_then(Value::as_str);
    let bad = |e: String| DeriveError::Request(format!("the coordinate is not a CF time: {e}"));
    let units = text("units").ok_or_else(|| bad("no units".into()))?;
    let calendar = Calendar::parse(text("calendar")).map_err(|e| bad(e.to_string()))?;
    let axis = TimeAxis::parse(units, calendar).map_err(|e| bad(e.to_string()))?;
    let keys: Vec<Option<i64>> = values
        .iter()
        .map(|v| {
            let l = axis.label(*v)?;
            Some(match component {
                Component::Year => l.year,
                Component::Month => i64::from(l.month),
                Component::Season => season(l.month) as i64,
                Component::Day => i64::from(l.day),
                Component::DayOfYear => i64::from(calendar.day_of_year(l.year, l.month, l.day)),
                Component::Hour => l.micros / 3_600_000_000,
            })
        })
        .collect();
    let mut sorted: Vec<i64> = keys.iter().flatten().copied().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let of = keys.iter().map(|k| k.and_then(|k| sorted.binary_search(&k).ok())).collect();
    let labels = match component {
        Component::Season => {
            Labels::Strings(sorted.iter().map(|s| SEASONS[*s as usize].to_string()).collect())
        }
        _ => Labels::Ints(sorted),
    };
    Ok((of, labels))
}

/// Each value's group (`None`: NaN) and the distinct values, sorted (xarray's groupby of a
/// coordinate by value).
pub fn by_value(values: &[f64]) -> (Vec<Option<usize>>, Vec<f64>) {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_unstable_by(f64::total_cmp);
    sorted.dedup();
    let of = values.iter().map(|v| sorted.binary_search_by(|s| s.total_cmp(v)).ok()).collect();
    (of, sorted)
}

/// Seasons in xarray's (alphabetical) order.
const SEASONS: [&str; 4] = ["DJF", "JJA", "MAM", "SON"];

/// The index in `SEASONS` of month `m`.
fn season(m: u32) -> usize {
    match m {
        12 | 1 | 2 => 0,
        6..=8 => 1,
        3..=5 => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(units: &str, calendar: &str) -> serde_json::Map<String, Value> {
        let v = serde_json::json!({"units": units, "calendar": calendar});
        v.as_object().unwrap().clone()
    }

    #[test]
    fn months_and_seasons_in_360_day() {
        let a = attrs("days since 2000-01-01", "360_day");
        let days: Vec<f64> = (0..12).map(|m| m as f64 * 30.0 + 15.0).collect();
        let (of, labels) = groups(&days, &a, Component::Month).unwrap();
        assert_eq!(labels, Labels::Ints((1..=12).collect()));
        assert_eq!(of[11], Some(11));
        let (of, labels) = groups(&days, &a, Component::Season).unwrap();
        assert_eq!(labels.len(), 4);
        assert_eq!((of[0], of[5], of[11]), (Some(0), Some(1), Some(0)));
        let (_, doy) = groups(&days, &a, Component::DayOfYear).unwrap();
        assert_eq!(doy, Labels::Ints((0..12).map(|m| m * 30 + 16).collect()));
    }

    #[test]
    fn noleap_day_of_year_and_nan_times() {
        let a = attrs("days since 2001-01-01", "noleap");
        let (of, labels) = groups(&[59.0, 364.0, f64::NAN], &a, Component::DayOfYear).unwrap();
        assert_eq!(labels, Labels::Ints(vec![60, 365]));
        assert_eq!(of, vec![Some(0), Some(1), None]);
        assert!(groups(&[0.0], &attrs("meters", "noleap"), Component::Month).is_err());
    }

    #[test]
    fn values_group_by_value() {
        let (of, v) = by_value(&[2.0, 1.0, f64::NAN, 2.0, -0.5]);
        assert_eq!(v, vec![-0.5, 1.0, 2.0]);
        assert_eq!(of, vec![Some(2), Some(1), None, Some(2), Some(0)]);
    }
}
