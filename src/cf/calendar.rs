//! CF calendars: dates to day numbers and back in each calendar, and date labels as cftime
//! writes them; `<unit> since <date>` axes over them are in [`super::time_axis`].
//!
//! No crate does this soundly: `cftime-rs` is AGPL and unreleased since 2023, chrono knows only
//! the proleptic Gregorian calendar. The arithmetic is small: every calendar maps a date to a
//! day number and back; a value is `reference + value × unit` in microseconds, as in cftime.

use chrono::{DateTime, NaiveDate, Utc};

pub use super::time_axis::TimeAxis;

/// A CF calendar (the `calendar` attribute).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calendar {
    /// `standard`/`gregorian`: Julian before 1582-10-15, Gregorian from then on.
    Standard,
    ProlepticGregorian,
    Julian,
    NoLeap,
    AllLeap,
    Day360,
}

/// Why a time coordinate's `calendar` or `units` cannot be read as dates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("calendar 'none' has no dates")]
    NoDates,
    #[error("unknown calendar '{0}'")]
    UnknownCalendar(String),
    #[error("'{0}' is not '<unit> since <date>'")]
    NotSince(String),
    #[error("time unit '{0}' is not supported for this calendar")]
    Unit(String),
    #[error("reference date '{0}' does not exist in this calendar")]
    NoSuchDate(String),
    #[error("cannot read the reference date '{0}'")]
    Reference(String),
}

impl Calendar {
    /// The calendar named by a `calendar` attribute (`None` attribute: standard).
    /// `Err` for `none` and unknown names.
    pub fn parse(name: Option<&str>) -> Result<Calendar, TimeError> {
        let Some(name) = name else { return Ok(Calendar::Standard) };
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "standard" | "gregorian" => Calendar::Standard,
            "proleptic_gregorian" => Calendar::ProlepticGregorian,
            "julian" => Calendar::Julian,
            "noleap" | "365_day" => Calendar::NoLeap,
            "all_leap" | "366_day" => Calendar::AllLeap,
            "360_day" => Calendar::Day360,
            "none" => return Err(TimeError::NoDates),
            other => return Err(TimeError::UnknownCalendar(other.to_string())),
        })
    }

    /// Whether the calendar has a year 0 (cftime's and CF 1.9's default): not the historical
    /// `standard` and `julian` calendars, where year -1 precedes year 1.
    pub fn has_year_zero(self) -> bool {
        !matches!(self, Calendar::Standard | Calendar::Julian)
    }

    /// The calendar in force: `standard` is Julian before the 1582 reform, Gregorian after.
    fn era(self, before_reform: bool) -> Calendar {
        match self {
            Calendar::Standard if before_reform => Calendar::Julian,
            Calendar::Standard => Calendar::ProlepticGregorian,
            other => other,
        }
    }

    fn is_leap(self, y: i64) -> bool {
        match self.era(y < 1582) {
            Calendar::Standard | Calendar::ProlepticGregorian => gregorian_leap(y),
            Calendar::Julian => julian_leap(y),
            Calendar::NoLeap => false,
            Calendar::AllLeap => true,
            Calendar::Day360 => false,
        }
    }

    pub(super) fn month_days(self, y: i64, m: u32) -> u32 {
        if self == Calendar::Day360 {
            return 30;
        }
        const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let d = DAYS[(m as usize).clamp(1, 12) - 1];
        if m == 2 && self.is_leap(y) {
            29
        } else {
            d
        }
    }

    /// The day of the year of a date (1 for January 1st), as cftime's `dayofyr`.
    pub fn day_of_year(self, y: i64, m: u32, d: u32) -> u32 {
        (self.day_number(y, m, d) - self.day_number(y, 1, 1) + 1) as u32
    }

    /// Day number of a date (any fixed origin per calendar).
    pub(super) fn day_number(self, y: i64, m: u32, d: u32) -> i64 {
        match self.era((y, m, d) < (1582, 10, 15)) {
            Calendar::Standard | Calendar::ProlepticGregorian => gregorian_jdn(y, m, d),
            Calendar::Julian => julian_jdn(y, m, d),
            Calendar::Day360 => y * 360 + (m as i64 - 1) * 30 + d as i64 - 1,
            Calendar::NoLeap | Calendar::AllLeap => {
                let year_len = if self == Calendar::NoLeap { 365 } else { 366 };
                let before: u32 = (1..m).map(|mm| self.month_days(y, mm)).sum();
                y * year_len + before as i64 + d as i64 - 1
            }
        }
    }

    /// The date of a day number.
    pub(super) fn date(self, n: i64) -> (i64, u32, u32) {
        // JDN 2,299,161 is 1582-10-15, the first Gregorian day
        match self.era(n < 2_299_161) {
            Calendar::Standard | Calendar::ProlepticGregorian => gregorian_from_jdn(n),
            Calendar::Julian => julian_from_jdn(n),
            Calendar::Day360 => {
                let (y, r) = (n.div_euclid(360), n.rem_euclid(360));
                (y, (r / 30) as u32 + 1, (r % 30) as u32 + 1)
            }
            Calendar::NoLeap | Calendar::AllLeap => {
                let year_len = if self == Calendar::NoLeap { 365 } else { 366 };
                let (y, mut r) = (n.div_euclid(year_len), n.rem_euclid(year_len));
                let mut m = 1;
                while m < 12 && r >= self.month_days(y, m) as i64 {
                    r -= self.month_days(y, m) as i64;
                    m += 1;
                }
                (y, m, r as u32 + 1)
            }
        }
    }
}

fn gregorian_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn julian_leap(y: i64) -> bool {
    y.rem_euclid(4) == 0
}

// Julian day numbers (Fliegel & Van Flandern / Richards), astronomical year numbering.
fn gregorian_jdn(y: i64, m: u32, d: u32) -> i64 {
    let a = (14 - m as i64) / 12;
    let (yy, mm) = (y + 4800 - a, m as i64 + 12 * a - 3);
    d as i64 + (153 * mm + 2) / 5 + 365 * yy + yy.div_euclid(4) - yy.div_euclid(100)
        + yy.div_euclid(400)
        - 32045
}

fn julian_jdn(y: i64, m: u32, d: u32) -> i64 {
    let a = (14 - m as i64) / 12;
    let (yy, mm) = (y + 4800 - a, m as i64 + 12 * a - 3);
    d as i64 + (153 * mm + 2) / 5 + 365 * yy + yy.div_euclid(4) - 32083
}

fn gregorian_from_jdn(j: i64) -> (i64, u32, u32) {
    let a = j + 32044;
    let b = (4 * a + 3).div_euclid(146_097);
    let c = a - 146_097 * b / 4;
    let d = (4 * c + 3) / 1461;
    let e = c - 1461 * d / 4;
    let m = (5 * e + 2) / 153;
    let day = e - (153 * m + 2) / 5 + 1;
    let month = m + 3 - 12 * (m / 10);
    let year = 100 * b + d - 4800 + m / 10;
    (year, month as u32, day as u32)
}

fn julian_from_jdn(j: i64) -> (i64, u32, u32) {
    let c = j + 32082;
    let d = (4 * c + 3).div_euclid(1461);
    let e = c - 1461 * d / 4;
    let m = (5 * e + 2) / 153;
    let day = e - (153 * m + 2) / 5 + 1;
    let month = m + 3 - 12 * (m / 10);
    let year = d - 4800 + m / 10;
    (year, month as u32, day as u32)
}

/// A date label in some calendar, to the microsecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Label {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    /// Microseconds since midnight.
    pub micros: i64,
}

impl Label {
    /// As an RFC 3339 UTC date-time. A label that is no real date (Feb 30 of `360_day`, Feb 29
    /// of a year that is not leap in the Gregorian calendar) is clamped to the month's last day.
    pub fn to_utc(self) -> Option<DateTime<Utc>> {
        let year = i32::try_from(self.year).ok()?;
        let mut day = self.day;
        let date = loop {
            if let Some(d) = NaiveDate::from_ymd_opt(year, self.month, day) {
                break d;
            }
            day = day.checked_sub(1).filter(|d| *d >= 28)?;
        };
        let midnight = date.and_hms_opt(0, 0, 0)?;
        Some(midnight.checked_add_signed(chrono::TimeDelta::microseconds(self.micros))?.and_utc())
    }

    /// The label as cftime's `isoformat()` writes it (`0000-01-16T12:00:00`, microseconds
    /// when not zero), the year numbered as in the calendar (`has_year_zero`: astronomical;
    /// else year -1 precedes year 1).
    pub fn iso(self, has_year_zero: bool) -> String {
        let year = if has_year_zero || self.year > 0 { self.year } else { self.year - 1 };
        let sign = if year < 0 { "-" } else { "" };
        let (secs, us) = (self.micros / 1_000_000, self.micros % 1_000_000);
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let mut out = format!(
            "{sign}{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}",
            year.unsigned_abs(),
            self.month,
            self.day
        );
        if us != 0 {
            out.push_str(&format!(".{us:06}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::time_axis::DAY_US;
    use super::*;

    fn label(units: &str, cal: &str, v: f64) -> (i64, u32, u32, i64) {
        let axis = TimeAxis::parse(units, Calendar::parse(Some(cal)).unwrap()).unwrap();
        let l = axis.label(v).unwrap();
        (l.year, l.month, l.day, l.micros)
    }

    #[test]
    fn calendars_match_cftime() {
        // values printed by cftime 1.6.6 num2date
        let h = |h: i64| h * 3_600_000_000;
        assert_eq!(label("days since 1900-01-01", "julian", 59.0), (1900, 2, 29, 0));
        assert_eq!(label("days since 1900-01-01", "standard", 59.0), (1900, 3, 1, 0));
        assert_eq!(label("days since 1582-10-01", "standard", 4.0), (1582, 10, 15, 0));
        assert_eq!(label("days since 1582-10-01", "proleptic_gregorian", 4.0), (1582, 10, 5, 0));
        assert_eq!(label("days since 2000-01-01", "360_day", 59.0), (2000, 2, 30, 0));
        assert_eq!(label("days since 2001-01-01", "all_leap", 59.0), (2001, 2, 29, 0));
        assert_eq!(label("days since 2000-01-01", "noleap", 365.0), (2001, 1, 1, 0));
        assert_eq!(
            label("days since 2000-01-01 00:00:00 +05:00", "standard", 0.0),
            (1999, 12, 31, h(19))
        );
        assert_eq!(
            label("days since 2000-01-01 00:00:00 -0500", "360_day", 0.0),
            (2000, 1, 1, h(5))
        );
        assert_eq!(label("days since 2000-01-01T06:00:00Z", "standard", 1.5), (2000, 1, 2, h(18)));
        assert_eq!(label("hours since 2000-1-1", "gregorian", -1.0), (1999, 12, 31, h(23)));
        assert_eq!(label("months since 2000-01-01", "360_day", 1.5), (2000, 2, 16, 0));
        assert_eq!(
            label("seconds since 1970-01-01 00:00:00.5", "standard", 1.5),
            (1970, 1, 1, 2_000_000)
        );
    }

    #[test]
    fn hostile_units_and_values_are_refused_not_overflowed() {
        for units in [
            "days since 99999999999999999-01-01",
            "days since -9223372036854775807-01-01",
            "hours since 2000-01-01 9999999999999999:00",
            "hours since 2000-01-01 00:00 +99999999999999:00",
            "seconds since 2000-01-01 00:00:1e300",
            "days since 2000-13-01",
        ] {
            assert!(TimeAxis::parse(units, Calendar::Standard).is_err(), "{units}");
        }
        let axis = TimeAxis::parse("days since 1000000-12-31", Calendar::Standard).unwrap();
        for v in [1e300, -1e300, 1.06e11, f64::MAX, f64::MIN_POSITIVE] {
            if let Some(l) = axis.label(v) {
                let _ = l.to_utc(); // None beyond chrono's range, never a panic
            }
        }
        // a year beyond chrono's range: no date, not a panic
        let last = Label { year: 262_143, month: 12, day: 31, micros: DAY_US - 1 };
        assert_eq!(last.to_utc(), None);
    }

    #[test]
    fn year_zero_as_cftime_numbers_it() {
        // cftime 1.6: no year 0 in standard/julian (reference year 0 refused), astronomical
        // numbering in the others
        assert!(TimeAxis::parse("days since 0000-01-01", Calendar::Standard).is_err());
        assert!(TimeAxis::parse("days since 0000-01-01", Calendar::Julian).is_err());
        assert_eq!(label("days since 0000-01-01", "noleap", 15.5), (0, 1, 16, 12 * 3_600_000_000));
        assert_eq!(label("days since 0000-01-01", "360_day", 365.0), (1, 1, 6, 0));
        let iso = |units: &str, cal: &str, v: f64| {
            let cal = Calendar::parse(Some(cal)).unwrap();
            TimeAxis::parse(units, cal).unwrap().label(v).unwrap().iso(cal.has_year_zero())
        };
        assert_eq!(iso("days since 0000-01-01", "noleap", 15.5), "0000-01-16T12:00:00");
        assert_eq!(iso("days since 0001-01-01", "standard", -1.0), "-0001-12-31T00:00:00");
        assert_eq!(iso("days since -0001-12-31", "julian", 1.0), "0001-01-01T00:00:00");
        assert_eq!(
            iso("days since 0001-01-01", "proleptic_gregorian", -1.0),
            "0000-12-31T00:00:00"
        );
        assert_eq!(iso("seconds since 2000-01-01", "standard", 1.25), "2000-01-01T00:00:01.250000");
    }

    #[test]
    fn refused() {
        assert!(Calendar::parse(Some("none")).is_err());
        assert!(TimeAxis::parse("weeks since 2000-01-01", Calendar::Standard).is_err());
        assert!(TimeAxis::parse("months since 2000-01-01", Calendar::Standard).is_err());
        assert!(TimeAxis::parse("days since 2001-02-29", Calendar::Standard).is_err());
        assert!(TimeAxis::parse("days", Calendar::Standard).is_err());
    }

    #[test]
    fn clamping() {
        let l = Label { year: 2000, month: 2, day: 30, micros: 3_600_000_000 };
        assert_eq!(l.to_utc().unwrap().to_rfc3339(), "2000-02-29T01:00:00+00:00");
        let l = Label { year: 2001, month: 2, day: 29, micros: 0 };
        assert_eq!(l.to_utc().unwrap().to_rfc3339(), "2001-02-28T00:00:00+00:00");
    }

    #[test]
    fn values_are_re_expressed_in_another_reference() {
        let a = TimeAxis::parse("days since 1850-01-01", Calendar::NoLeap).unwrap();
        let b = TimeAxis::parse("hours since 1851-01-01 06:00", Calendar::NoLeap).unwrap();
        let t = b.instant(18.0).unwrap();
        assert_eq!(a.value(t), 365.0 + 1.0);
        assert_eq!(a.instant(a.value(t)), Some(t));
        let g = TimeAxis::parse("days since 1900-01-01", Calendar::Standard).unwrap();
        let g2 = TimeAxis::parse("days since 1901-01-01", Calendar::Standard).unwrap();
        assert_eq!(g.value(g2.instant(0.0).unwrap()), 365.0);
        assert_eq!(a.instant(f64::NAN), None);
    }
}
