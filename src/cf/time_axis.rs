//! CF time axes: `<unit> since <date>` units parsed for a calendar ([`super::calendar`]),
//! stored numbers turned into date labels as cftime's `num2date` gives them, and labels into
//! instants comparable between axes.

use super::calendar::{Calendar, Label, TimeError};

/// The unit of `<unit> since …`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    Micros(f64),
    /// 360_day only: 30 days.
    Months,
    /// noleap only: 365 days.
    CommonYears,
}

/// Parsed CF time units with their calendar: converts stored numbers to labels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeAxis {
    pub calendar: Calendar,
    unit: Unit,
    /// Day number of the reference date, plus microseconds since its midnight (tz removed).
    ref_day: i64,
    ref_micros: i64,
}

pub(super) const DAY_US: i64 = 86_400_000_000;
/// Reference years beyond this are refused (no real axis starts a million years away).
const MAX_YEAR: i64 = 1_000_000;

impl TimeAxis {
    /// Parse `units` (e.g. `days since 1850-01-01 00:00:00`) for `calendar`.
    pub fn parse(units: &str, calendar: Calendar) -> Result<TimeAxis, TimeError> {
        let lower = units.trim().to_ascii_lowercase();
        let (unit, date) =
            lower.split_once(" since ").ok_or_else(|| TimeError::NotSince(units.to_string()))?;
        let unit = match unit.trim() {
            "microseconds" | "microsecond" | "microsec" | "microsecs" => Unit::Micros(1.0),
            "milliseconds" | "millisecond" | "millisec" | "millisecs" | "msec" | "msecs" | "ms" => {
                Unit::Micros(1e3)
            }
            "second" | "seconds" | "sec" | "secs" | "s" => Unit::Micros(1e6),
            "minute" | "minutes" | "min" | "mins" => Unit::Micros(6e7),
            "hour" | "hours" | "hr" | "hrs" | "h" => Unit::Micros(3.6e9),
            "day" | "days" | "d" => Unit::Micros(8.64e10),
            "month" | "months" if calendar == Calendar::Day360 => Unit::Months,
            "common_year" | "common_years" if calendar == Calendar::NoLeap => Unit::CommonYears,
            other => return Err(TimeError::Unit(other.to_string())),
        };
        let (y, m, d, micros) = parse_reference(date.trim())?;
        // labels are kept in astronomical numbering (year 0 = 1 BC); without a year 0, as
        // cftime: year 0 does not exist and year -1 is the year before 1
        let y = match (calendar.has_year_zero(), y) {
            (true, y) => y,
            (false, 0) => return Err(TimeError::NoSuchDate(date.to_string())),
            (false, y) if y < 0 => y + 1,
            (false, y) => y,
        };
        if m == 0 || m > 12 || d == 0 || d > calendar.month_days(y, m) {
            return Err(TimeError::NoSuchDate(date.to_string()));
        }
        Ok(TimeAxis {
            calendar,
            unit,
            ref_day: calendar.day_number(y, m, d) + micros.div_euclid(DAY_US),
            ref_micros: micros.rem_euclid(DAY_US),
        })
    }

    /// The label of stored value `v` (`None` when not finite or out of range).
    pub fn label(&self, v: f64) -> Option<Label> {
        if !v.is_finite() {
            return None;
        }
        let offset = match self.unit {
            Unit::Micros(f) => v * f,
            Unit::Months => v * 30.0 * DAY_US as f64,
            Unit::CommonYears => v * 365.0 * DAY_US as f64,
        };
        // ±100,000 years (3.16e18 µs) is far beyond any real axis and keeps the i64
        // arithmetic below safe (the reference year is bounded too, see parse_reference)
        if offset.abs() > 3.2e18 {
            return None;
        }
        let total = self.ref_micros + offset.round() as i64;
        let day = self.ref_day + total.div_euclid(DAY_US);
        let (year, month, d) = self.calendar.date(day);
        Some(Label { year, month, day: d, micros: total.rem_euclid(DAY_US) })
    }

    /// Microseconds of one unit.
    fn unit_micros(&self) -> f64 {
        match self.unit {
            Unit::Micros(f) => f,
            Unit::Months => 30.0 * DAY_US as f64,
            Unit::CommonYears => 365.0 * DAY_US as f64,
        }
    }

    /// The instant of stored value `v`: microseconds since day 0 of the calendar, comparable
    /// between axes of the same calendar (`None` when not finite or out of range).
    pub fn instant(&self, v: f64) -> Option<i128> {
        let offset = v * self.unit_micros();
        if !offset.is_finite() || offset.abs() > 3.2e18 {
            return None;
        }
        Some(self.origin() + offset.round() as i128)
    }

    /// The value this axis stores for `instant` (see [`TimeAxis::instant`]).
    pub fn value(&self, instant: i128) -> f64 {
        (instant - self.origin()) as f64 / self.unit_micros()
    }

    fn origin(&self) -> i128 {
        i128::from(self.ref_day) * i128::from(DAY_US) + i128::from(self.ref_micros)
    }
}

/// `Y-M-D[(T| )h[:m[:s[.f]]]][ ][Z|UTC|±h[:mm]|±hhmm]` → (year, month, day, µs since midnight,
/// time-zone offset removed).
fn parse_reference(s: &str) -> Result<(i64, u32, u32, i64), TimeError> {
    let bad = || TimeError::Reference(s.to_string());
    let s = s.trim();
    let (neg_year, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let date_end = rest.find(['T', 't', ' ']).unwrap_or(rest.len());
    let mut parts = rest[..date_end].split('-');
    // every field bounded, so that no units attribute can overflow the day arithmetic
    let bounded = |v: i64, max: i64| if v.abs() <= max { Ok(v) } else { Err(bad()) };
    let num = |p: Option<&str>| p.and_then(|x| x.trim().parse::<i64>().ok()).ok_or_else(bad);
    let year = bounded(num(parts.next())?, MAX_YEAR)?;
    let month = bounded(num(parts.next())?, 12)? as u32;
    let day = bounded(parts.next().map_or(Ok(1), |p| num(Some(p)))?, 31)? as u32;
    let year = if neg_year { -year } else { year };
    let mut time = rest[date_end..].trim_start_matches(['T', 't', ' ']).trim().to_string();
    let mut tz_minutes: i64 = 0;
    for suffix in ["utc", "z"] {
        if let Some(t) = time.strip_suffix(suffix) {
            time = t.trim().to_string();
        }
    }
    // a time-zone offset: the last '+' or a '-' after the time
    if let Some(pos) = time.rfind(['+', '-']) {
        let (clock, tz) = time.split_at(pos);
        let sign = if tz.starts_with('-') { -1 } else { 1 };
        let tz = tz[1..].trim();
        let (h, m) = match tz.split_once(':') {
            Some((h, m)) => (h, m),
            None if tz.len() == 4 => tz.split_at(2),
            None => (tz, "0"),
        };
        let h: i64 = bounded(h.parse().map_err(|_| bad())?, 24)?;
        let m: i64 = bounded(m.parse().map_err(|_| bad())?, 59)?;
        tz_minutes = sign * (h * 60 + m);
        time = clock.trim().to_string();
    }
    let mut micros: i64 = 0;
    if !time.is_empty() {
        let mut fields = time.split(':');
        let h: i64 = bounded(fields.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?, 48)?;
        let m: i64 = bounded(fields.next().map_or(Ok(0), |x| x.parse().map_err(|_| bad()))?, 59)?;
        let sec: f64 = fields.next().map_or(Ok(0.0), |x| x.parse().map_err(|_| bad()))?;
        if !(0.0..=61.0).contains(&sec) {
            return Err(bad());
        }
        micros = h * 3_600_000_000 + m * 60_000_000 + (sec * 1e6).round() as i64;
    }
    Ok((year, month, day, micros - tz_minutes * 60_000_000))
}
