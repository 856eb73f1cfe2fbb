//! The time axis of a collection: which variable and dimension it is, the members' order by
//! their time values, and time-like variables (the coordinate, its bounds) generated in the
//! first member's units with the calendar's arithmetic.

use super::error::Refusal;
use super::join::{Member, ReadArray};
use crate::cf::calendar::{Calendar, TimeAxis};
use crate::index::{
    ArrayNode, AttrValue, ChunkFiles, ChunkRef, Dtype, ElementKind, GroupNode, StorageKind,
};

/// Reads a member's array whole, errors as text (the reason a variable is left out).
pub type ReadText<'r> = dyn Fn(usize, &ArrayNode) -> Result<Vec<u8>, String> + 'r;

/// Generated time-like variables larger than this are refused (a daily axis of 10,000 years is
/// 29 MiB as f8).
const MAX_GENERATED_BYTES: u64 = 64 << 20;

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

fn text<'a>(a: &'a ArrayNode, key: &str) -> Option<&'a str> {
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
        let mut steps: Vec<i128> = Vec::new();
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
            let instants = instants(a, calendar, &read_of(read, i, m, a)?)
                .map_err(|_| Refusal::MissingValues { member: m.name.clone() })?
                .map_err(|source| Refusal::Units { member: m.name.clone(), source })?;
            if instants.windows(2).any(|w| w[0] >= w[1]) {
                return Err(Refusal::Unsorted { member: m.name.clone() });
            }
            if let (Some(lo), Some(hi)) = (instants.first(), instants.last()) {
                spans.push((*lo, *hi, i));
            }
            steps.extend(instants.windows(2).map(|w| w[1] - w[0]));
        }
        spans.sort();
        for w in spans.windows(2) {
            if w[0].1 >= w[1].0 {
                let (a, b) = (&members[w[0].2].name, &members[w[1].2].name);
                return Err(Refusal::Overlap { a: a.clone(), b: b.clone() });
            }
        }
        // a gap: more than one and a half of the members' usual step between two members
        steps.sort_unstable();
        let step = steps.get(steps.len() / 2).copied();
        let gaps = spans
            .windows(2)
            .filter(|w| step.is_some_and(|s| (w[1].0 - w[0].1) * 2 > s * 3))
            .map(|w| format!("gap between {} and {}", members[w[0].2].name, members[w[1].2].name))
            .collect();
        let mut order: Vec<usize> = spans.iter().map(|s| s.2).collect();
        // members without time steps go last (they add nothing along time)
        let timeless: Vec<usize> = (0..members.len()).filter(|i| !order.contains(i)).collect();
        order.extend(timeless);
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
fn push_number(out: &mut Vec<u8>, d: Dtype, v: f64) -> Option<()> {
    match (d.kind, d.size, d.big_endian) {
        (ElementKind::Float, 8, false) => out.extend_from_slice(&v.to_le_bytes()),
        (ElementKind::Float, 8, true) => out.extend_from_slice(&v.to_be_bytes()),
        (ElementKind::Float, 4, false) => out.extend_from_slice(&(v as f32).to_le_bytes()),
        (ElementKind::Float, 4, true) => out.extend_from_slice(&(v as f32).to_be_bytes()),
        _ => out.extend(d.encode(&AttrValue::Float(v))?),
    }
    Some(())
}

/// Every value of `a` as an instant of `calendar`: Err(()) for a missing value.
#[allow(clippy::type_complexity)]
fn instants(
    a: &ArrayNode,
    calendar: Calendar,
    bytes: &[u8],
) -> Result<Result<Vec<i128>, crate::cf::calendar::TimeError>, ()> {
    let axis = match TimeAxis::parse(text(a, "units").unwrap_or(""), calendar) {
        Ok(axis) => axis,
        Err(e) => return Ok(Err(e)),
    };
    let values = numbers(a, bytes);
    let out: Option<Vec<i128>> = values.iter().map(|v| v.and_then(|v| axis.instant(v))).collect();
    out.map(Ok).ok_or(())
}

/// A time-like variable of the members (`all`, in time order) joined along dimension `d`,
/// its values re-expressed in the first member's units: one chunk held in the index.
/// `units[i]` are member `i`'s units for it (its own, or its time coordinate's for bounds).
pub fn generated_time(
    all: &[&ArrayNode],
    d: usize,
    (calendar, units): (Calendar, &[String]),
    read: &ReadText<'_>,
) -> Result<ArrayNode, String> {
    let first = all[0];
    let target = TimeAxis::parse(&units[0], calendar).map_err(|e| e.to_string())?;
    let mut shape = first.shape.clone();
    shape[d] = all.iter().map(|a| a.shape[d]).sum();
    let count: u64 = shape.iter().product();
    if count.saturating_mul(8) > MAX_GENERATED_BYTES {
        return Err(format!("{count} values are more than a generated time variable may hold"));
    }
    // per member: its values re-expressed (None: missing)
    let mut parts: Vec<Vec<Option<f64>>> = Vec::with_capacity(all.len());
    for (i, a) in all.iter().enumerate() {
        let axis = TimeAxis::parse(&units[i], calendar).map_err(|e| format!("member {i}: {e}"))?;
        let bytes = read(i, a)?;
        let values = numbers(a, &bytes);
        parts.push(
            values
                .iter()
                .map(|v| v.and_then(|v| axis.instant(v)).map(|t| target.value(t)))
                .collect(),
        );
    }
    let joined = concat(&parts, all, d);
    let dtype = keep_or_float(first.dtype, &joined);
    let fill = first.fill_value.as_ref().and_then(|f| dtype.encode(f));
    let mut bytes = Vec::with_capacity(joined.len() * dtype.size);
    for v in &joined {
        match (v, &fill) {
            (Some(v), _) => push_number(&mut bytes, dtype, *v).ok_or("unencodable")?,
            (None, Some(f)) => bytes.extend_from_slice(f),
            (None, None) if dtype.is_float() => {
                push_number(&mut bytes, dtype, f64::NAN).ok_or("unencodable")?
            }
            (None, None) => return Err("missing values without a fill value".into()),
        }
    }
    let mut out = first.clone();
    out.dtype = dtype;
    out.fill_element = fill.clone().unwrap_or_else(|| vec![0; dtype.size]);
    out.chunks = shape.iter().map(|s| (*s).max(1)).collect();
    out.shape = shape;
    out.codecs = vec![];
    out.source_filters = vec![];
    out.storage = StorageKind::Compact;
    out.chunk_refs = if count == 0 { vec![] } else { vec![Some(ChunkRef::Inline { bytes })] };
    out.fill_chunk = None;
    out.library_path = None;
    out.files = ChunkFiles::Own;
    Ok(out)
}

/// The members' values joined along dimension `d` (row-major).
fn concat(parts: &[Vec<Option<f64>>], all: &[&ArrayNode], d: usize) -> Vec<Option<f64>> {
    let outer: u64 = all[0].shape[..d].iter().product();
    let inner: u64 = all[0].shape[d + 1..].iter().product();
    let mut out = Vec::new();
    for o in 0..outer {
        for (p, a) in parts.iter().zip(all) {
            let block = (a.shape[d] * inner) as usize;
            let at = o as usize * block;
            out.extend_from_slice(&p[at..at + block]);
        }
    }
    out
}

/// The first member's type when it holds every value exactly, else f8.
fn keep_or_float(dtype: Dtype, values: &[Option<f64>]) -> Dtype {
    let exact = match (dtype.kind, dtype.size) {
        (ElementKind::Float, 8) => true,
        (ElementKind::Float, 4) => values.iter().flatten().all(|v| f64::from(*v as f32) == *v),
        _ => values.iter().flatten().all(|v| {
            let back = dtype.encode(&AttrValue::Float(*v)).and_then(|b| dtype.decode(&b));
            back.and_then(|x| x.as_f64()) == Some(*v)
        }),
    };
    if exact {
        dtype
    } else {
        Dtype::le(ElementKind::Float, 8)
    }
}
