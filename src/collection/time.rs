//! The time axis of a collection: which variable and dimension it is, the members' order by
//! their time values, and time-like variables (the coordinate, its bounds) generated in the
//! first member's units with the calendar's arithmetic.

use super::error::Refusal;
use super::join::{Member, ReadArray};
use crate::cf::calendar::{Calendar, TimeAxis};
use crate::index::{ArrayNode, AttrValue, Dtype, ElementKind, GroupNode};

/// Members in time order (positions in the input) and the gaps between them.
pub struct Ordered {
    pub order: Vec<usize>,
    pub gaps: Vec<String>,
}

/// The time coordinate of a collection.
pub struct TimeOf {
    /// The coordinate variable's name.
    pub name: String,
    /// Its dimension (the join dimension).
    pub dim: String,
    /// Its calendar (the same in every member).
    pub calendar: Calendar,
}

pub(super) fn text<'a>(a: &'a ArrayNode, key: &str) -> Option<&'a str> {
    a.attrs.iter().find(|(k, _)| k == key).and_then(|(_, v)| match v {
        AttrValue::Str(s) => Some(s.as_str()),
        _ => None,
    })
}

impl TimeOf {
    /// The CF time coordinate of `group`: a 1-D variable with units `<unit> since <date>`,
    /// one named like its dimension first (`time` before others), else an auxiliary one
    /// (WRF's `XTIME(Time)`).
    pub fn find(group: &GroupNode) -> Option<TimeOf> {
        let rank = |a: &ArrayNode| match (a.dims[0] == a.name, a.name == "time") {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        };
        let a = group
            .arrays
            .iter()
            .filter(|a| a.dims.len() == 1 && Self::is_time_like(a))
            .min_by_key(|a| rank(a))?;
        let calendar = Calendar::parse(text(a, "calendar")).ok()?;
        Some(TimeOf { name: a.name.clone(), dim: a.dims[0].clone(), calendar })
    }

    /// The units of the time coordinate in `group`.
    pub fn units(&self, group: &GroupNode) -> Option<String> {
        let a = group.arrays.iter().find(|a| a.name == self.name)?;
        text(a, "units").map(str::to_string)
    }

    /// True when `a` is named by the time coordinate's `bounds` attribute in `group`.
    pub fn is_bounds(&self, group: &GroupNode, a: &ArrayNode) -> bool {
        let t = group.arrays.iter().find(|x| x.name == self.name);
        t.and_then(|t| text(t, "bounds")).is_some_and(|b| b == a.name)
    }

    /// True for a variable whose values are instants (`units` of `<unit> since <date>`).
    pub fn is_time_like(a: &ArrayNode) -> bool {
        text(a, "units").is_some_and(|u| u.to_ascii_lowercase().contains(" since "))
    }

    /// The length of the time dimension in `group`.
    pub fn length(&self, group: &GroupNode) -> u64 {
        group.dimensions.iter().find(|(n, _)| *n == self.dim).map_or_else(
            || {
                group
                    .arrays
                    .iter()
                    .find(|a| a.name == self.name)
                    .and_then(|a| a.shape.first().copied())
                    .unwrap_or(0)
            },
            |(_, len)| *len,
        )
    }

    /// The members in time order (positions in `members`), each member's times strictly
    /// increasing and no two members overlapping.
    pub fn order(&self, members: &[Member<'_>], read: &ReadArray<'_>) -> Result<Ordered, Refusal> {
        let mut spans: Vec<(i128, i128, usize)> = Vec::with_capacity(members.len());
        let mut steps: Vec<i128> = Vec::with_capacity(members.len());
        let first_cal = text(self.coordinate(&members[0])?, "calendar").unwrap_or("standard");
        for (i, m) in members.iter().enumerate() {
            let a = self.coordinate(m)?;
            let cal_text = text(a, "calendar").unwrap_or("standard");
            let calendar = Calendar::parse(Some(cal_text))
                .map_err(|source| Refusal::Units { member: m.name.clone(), source })?;
            if calendar != self.calendar {
                return Err(Refusal::Calendars {
                    a: members[0].name.clone(),
                    ca: first_cal.to_string(),
                    b: m.name.clone(),
                    cb: cal_text.to_string(),
                });
            }
            let span = span(a, calendar, &read_of(read, i, m, a)?).map_err(|e| match e {
                SpanError::Units(source) => Refusal::Units { member: m.name.clone(), source },
                SpanError::Missing => Refusal::MissingValues { member: m.name.clone() },
                SpanError::Unsorted => Refusal::Unsorted { member: m.name.clone() },
            })?;
            let Some(Span { lo, hi, count }) = span else { continue };
            spans.push((lo, hi, i));
            if count > 1 {
                steps.push((hi - lo) / (count as i128 - 1));
            }
        }
        spans.sort();
        for w in spans.windows(2) {
            if w[0].1 >= w[1].0 {
                let (a, b) = (&members[w[0].2].name, &members[w[1].2].name);
                return Err(Refusal::Overlap { a: a.clone(), b: b.clone() });
            }
        }
        // a gap: more than one and a half of the members' usual step (the median of their
        // mean steps) between two members
        steps.sort_unstable();
        let step = steps.get(steps.len() / 2).copied();
        let gaps = spans
            .windows(2)
            .filter(|w| step.is_some_and(|s| (w[1].0 - w[0].1) * 2 > s * 3))
            .map(|w| format!("gap between {} and {}", members[w[0].2].name, members[w[1].2].name))
            .collect();
        let mut order: Vec<usize> = spans.iter().map(|s| s.2).collect();
        // members without time steps go last (they add nothing along time)
        let mut timed = vec![false; members.len()];
        order.iter().for_each(|i| timed[*i] = true);
        order.extend((0..members.len()).filter(|i| !timed[*i]));
        Ok(Ordered { order, gaps })
    }

    fn coordinate<'m>(&self, m: &'m Member<'_>) -> Result<&'m ArrayNode, Refusal> {
        let missing = || Refusal::MissingTime { member: m.name.clone(), name: self.name.clone() };
        m.index.root.arrays.iter().find(|a| a.name == self.name).ok_or_else(missing)
    }
}

fn read_of(
    read: &ReadArray<'_>,
    i: usize,
    m: &Member<'_>,
    a: &ArrayNode,
) -> Result<Vec<u8>, Refusal> {
    read(i, a).map_err(|source| Refusal::Read { member: m.name.clone(), source })
}

/// The elements of `bytes` (one array of `a`) as numbers; `None` for a fill value or NaN.
pub(super) fn numbers(a: &ArrayNode, bytes: &[u8]) -> Vec<Option<f64>> {
    let fill = a.fill_value.as_ref().and_then(AttrValue::as_f64);
    let size = a.dtype.size.max(1);
    bytes
        .chunks_exact(size)
        .map(|b| {
            let v = number(a.dtype, b)?;
            (!v.is_nan() && Some(v) != fill).then_some(v)
        })
        .collect()
}

/// One stored element as a number: floats read directly (a time axis has hundreds of
/// thousands), other types through [`Dtype::decode`].
fn number(d: Dtype, b: &[u8]) -> Option<f64> {
    match (d.kind, <[u8; 8]>::try_from(b), <[u8; 4]>::try_from(b)) {
        (ElementKind::Float, Ok(x), _) if d.big_endian => Some(f64::from_be_bytes(x)),
        (ElementKind::Float, Ok(x), _) => Some(f64::from_le_bytes(x)),
        (ElementKind::Float, _, Ok(x)) if d.big_endian => Some(f64::from(f32::from_be_bytes(x))),
        (ElementKind::Float, _, Ok(x)) => Some(f64::from(f32::from_le_bytes(x))),
        _ => d.decode(b).and_then(|v| v.as_f64()),
    }
}

/// `v` stored as one element of `d` (floats written directly), appended to `out`.
pub(super) fn push_number(out: &mut Vec<u8>, d: Dtype, v: f64) -> Option<()> {
    match (d.kind, d.size, d.big_endian) {
        (ElementKind::Float, 8, false) => out.extend_from_slice(&v.to_le_bytes()),
        (ElementKind::Float, 8, true) => out.extend_from_slice(&v.to_be_bytes()),
        (ElementKind::Float, 4, false) => out.extend_from_slice(&(v as f32).to_le_bytes()),
        (ElementKind::Float, 4, true) => out.extend_from_slice(&(v as f32).to_be_bytes()),
        _ => out.extend(d.encode(&AttrValue::Float(v))?),
    }
    Some(())
}

/// Why a member's time values give no [`Span`].
enum SpanError {
    Units(crate::cf::calendar::TimeError),
    /// A fill value, NaN or an instant out of range.
    Missing,
    /// Values that do not strictly increase.
    Unsorted,
}

/// A member's time values: the first and last instants, and how many values.
struct Span {
    lo: i128,
    hi: i128,
    count: usize,
}

/// The [`Span`] of `a`'s values (`bytes`) in `calendar`, `None` for no values. The values are
/// compared as stored (one unit is a positive duration: they increase where instants do); only
/// the first and the last are made instants.
fn span(a: &ArrayNode, calendar: Calendar, bytes: &[u8]) -> Result<Option<Span>, SpanError> {
    let axis =
        TimeAxis::parse(text(a, "units").unwrap_or(""), calendar).map_err(SpanError::Units)?;
    let values: Option<Vec<f64>> = numbers(a, bytes).into_iter().collect();
    let values = values.ok_or(SpanError::Missing)?;
    let (Some(first), Some(last)) = (values.first(), values.last()) else {
        return Ok(None);
    };
    if values.windows(2).any(|w| w[0] >= w[1]) {
        return Err(SpanError::Unsorted);
    }
    let lo = axis.instant(*first).ok_or(SpanError::Missing)?;
    let hi = axis.instant(*last).ok_or(SpanError::Missing)?;
    if lo > hi || (lo == hi && values.len() > 1) {
        return Err(SpanError::Unsorted);
    }
    Ok(Some(Span { lo, hi, count: values.len() }))
}
