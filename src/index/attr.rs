//! Attribute values and their JSON text as zarr-python writes it.
//!
//! JSON cannot hold NaN or ±Infinity; zarr-python (and so xarray) writes them as the bare tokens
//! `NaN`, `Infinity`, `-Infinity` in `.zattrs`, which Python's `json` reads back as floats. We do
//! the same, so attributes such as `missing_value = NaN` survive. In `.zarray` the v2 spec wants
//! the strings `"NaN"`, `"Infinity"`, `"-Infinity"` instead: see [`AttrValue::fill_value_json`].

use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// A typed attribute value. Single values and arrays are kept apart because netCDF4-python
/// (and so xarray) returns a one-element attribute as a scalar and longer ones as arrays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AttrValue {
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Ints(Vec<i64>),
    UInts(Vec<u64>),
    Floats(Vec<f64>),
    Strs(Vec<String>),
}

impl AttrValue {
    /// JSON text for `.zattrs` (bare NaN/Infinity tokens, as zarr-python writes).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        match self {
            AttrValue::Int(v) => push(&mut out, v),
            AttrValue::UInt(v) => push(&mut out, v),
            AttrValue::Float(v) => out.push_str(&float_token(*v, false)),
            AttrValue::Str(s) => push_json_string(&mut out, s),
            AttrValue::Ints(v) => list(&mut out, v, |o, x| push(o, x)),
            AttrValue::UInts(v) => list(&mut out, v, |o, x| push(o, x)),
            AttrValue::Floats(v) => list(&mut out, v, |o, x| o.push_str(&float_token(*x, false))),
            AttrValue::Strs(v) => list(&mut out, v, |o, x| push_json_string(o, x)),
        }
        out
    }

    /// JSON text for the `.zarray` `fill_value` field: a scalar, non-finite floats as strings.
    /// Returns `None` when the value cannot be a Zarr fill value (arrays with != 1 element).
    pub fn fill_value_json(&self, float_dtype: bool) -> Option<String> {
        let scalar = match self {
            AttrValue::Ints(v) if v.len() == 1 => AttrValue::Int(v[0]),
            AttrValue::UInts(v) if v.len() == 1 => AttrValue::UInt(v[0]),
            AttrValue::Floats(v) if v.len() == 1 => AttrValue::Float(v[0]),
            AttrValue::Ints(_) | AttrValue::UInts(_) | AttrValue::Floats(_) => return None,
            AttrValue::Str(_) | AttrValue::Strs(_) => return None,
            other => other.clone(),
        };
        Some(match scalar {
            AttrValue::Float(v) if float_dtype => float_token(v, true),
            // An integer array with a float fill: only exact integers are representable.
            AttrValue::Float(v) if v.fract() == 0.0 && v.is_finite() => format!("{}", v as i64),
            AttrValue::Float(_) => return None,
            AttrValue::Int(v) if float_dtype => float_token(v as f64, true),
            AttrValue::UInt(v) if float_dtype => float_token(v as f64, true),
            other => other.to_json(),
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            AttrValue::Int(_) | AttrValue::UInt(_) | AttrValue::Float(_) | AttrValue::Str(_) => 1,
            AttrValue::Ints(v) => v.len(),
            AttrValue::UInts(v) => v.len(),
            AttrValue::Floats(v) => v.len(),
            AttrValue::Strs(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as f64 when it is a single number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Int(v) => Some(*v as f64),
            AttrValue::UInt(v) => Some(*v as f64),
            AttrValue::Float(v) => Some(*v),
            AttrValue::Ints(v) if v.len() == 1 => Some(v[0] as f64),
            AttrValue::UInts(v) if v.len() == 1 => Some(v[0] as f64),
            AttrValue::Floats(v) if v.len() == 1 => Some(v[0]),
            _ => None,
        }
    }
}

fn push<T: std::fmt::Display>(out: &mut String, v: T) {
    let _ = write!(out, "{v}");
}

fn list<T>(out: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        each(out, x);
    }
    out.push(']');
}

/// Shortest text that reads back as the same f64, always with a '.', 'e', or a token.
fn float_token(v: f64, quoted: bool) -> String {
    let token = if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        // Debug prints the shortest round-trip form and keeps ".0" on integral values.
        return format!("{v:?}");
    };
    if quoted {
        format!("\"{token}\"")
    } else {
        token
    }
}

/// Append the JSON string literal of `s` to `out`, ASCII-only (as Python's json writes by
/// default).
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    // names and most attribute texts need no escape: copied as they are
    if s.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_zarr_python() {
        assert_eq!(AttrValue::Float(0.1f32 as f64).to_json(), "0.10000000149011612");
        assert_eq!(AttrValue::Float(1.0).to_json(), "1.0");
        assert_eq!(AttrValue::Float(f64::NAN).to_json(), "NaN");
        assert_eq!(AttrValue::Floats(vec![1.5, f64::NEG_INFINITY]).to_json(), "[1.5, -Infinity]");
        assert_eq!(AttrValue::UInt(u64::MAX).to_json(), "18446744073709551615");
        assert_eq!(AttrValue::Str("h\u{e9}\"l\n".into()).to_json(), "\"h\\u00e9\\\"l\\n\"");
        assert_eq!(AttrValue::Str("\u{1F600}".into()).to_json(), "\"\\ud83d\\ude00\"");
    }

    #[test]
    fn fill_values_follow_the_v2_spec() {
        assert_eq!(AttrValue::Float(f64::NAN).fill_value_json(true).as_deref(), Some("\"NaN\""));
        assert_eq!(AttrValue::Int(-999).fill_value_json(false).as_deref(), Some("-999"));
        assert_eq!(AttrValue::Int(-999).fill_value_json(true).as_deref(), Some("-999.0"));
        assert_eq!(AttrValue::Float(f64::NAN).fill_value_json(false), None);
        assert_eq!(AttrValue::Floats(vec![1.0, 2.0]).fill_value_json(true), None);
    }
}
