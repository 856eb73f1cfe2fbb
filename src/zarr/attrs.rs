//! Attribute values as zarr-python writes them (v2 `.zattrs` and v3 `attributes` alike), and
//! scalar fill values (v2 `.zarray` and v3 `zarr.json` spell them the same way).
//!
//! JSON cannot hold NaN or ±Infinity; zarr-python (and so xarray) writes them as the bare tokens
//! `NaN`, `Infinity`, `-Infinity` in `.zattrs`, which Python's `json` reads back as floats. We do
//! the same, so attributes such as `missing_value = NaN` survive. In `.zarray` the v2 spec wants
//! the strings `"NaN"`, `"Infinity"`, `"-Infinity"` instead: see [`fill_value_json`].

use crate::index::AttrValue;
use crate::zarr::json::push_json_string;
use std::fmt::Write;

/// JSON text for `.zattrs` (bare NaN/Infinity tokens, as zarr-python writes).
pub fn to_json(value: &AttrValue) -> String {
    let mut out = String::new();
    match value {
        AttrValue::Int(v) => push(&mut out, v),
        AttrValue::UInt(v) => push(&mut out, v),
        AttrValue::Float(v) => out.push_str(&float_token(*v, false)),
        AttrValue::Str(s) => push_json_string(&mut out, s),
        AttrValue::Ints(v) => list(&mut out, v, |o, x| push(o, x)),
        AttrValue::UInts(v) => list(&mut out, v, |o, x| push(o, x)),
        AttrValue::Floats(v) => list(&mut out, v, |o, x| o.push_str(&float_token(*x, false))),
        AttrValue::Strs(v) => list(&mut out, v, |o, x| push_json_string(o, x)),
        // single precision as its exact double value, as zarr-python writes a float32
        AttrValue::Float32(v) => out.push_str(&float_token(f64::from(*v), false)),
        AttrValue::Narrow { value, .. } => push(&mut out, value),
        AttrValue::Floats32(v) => {
            list(&mut out, v, |o, x| o.push_str(&float_token(f64::from(*x), false)))
        }
    }
    out
}

/// JSON text for the `.zarray` `fill_value` field: a scalar, non-finite floats as strings.
/// Returns `None` when the value cannot be a Zarr fill value (arrays with != 1 element).
pub fn fill_value_json(value: &AttrValue, float_dtype: bool) -> Option<String> {
    let scalar = match &*value.widened() {
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
        other => to_json(&other),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_zarr_python() {
        assert_eq!(to_json(&AttrValue::Float(0.1f32 as f64)), "0.10000000149011612");
        assert_eq!(to_json(&AttrValue::Float(1.0)), "1.0");
        assert_eq!(to_json(&AttrValue::Float(f64::NAN)), "NaN");
        assert_eq!(to_json(&AttrValue::Floats(vec![1.5, f64::NEG_INFINITY])), "[1.5, -Infinity]");
        assert_eq!(to_json(&AttrValue::UInt(u64::MAX)), "18446744073709551615");
        assert_eq!(to_json(&AttrValue::Str("h\u{e9}\"l\n".into())), "\"h\\u00e9\\\"l\\n\"");
        assert_eq!(to_json(&AttrValue::Str("\u{1F600}".into())), "\"\\ud83d\\ude00\"");
    }

    #[test]
    fn fill_values_follow_the_v2_spec() {
        assert_eq!(fill_value_json(&AttrValue::Float(f64::NAN), true).as_deref(), Some("\"NaN\""));
        assert_eq!(fill_value_json(&AttrValue::Int(-999), false).as_deref(), Some("-999"));
        assert_eq!(fill_value_json(&AttrValue::Int(-999), true).as_deref(), Some("-999.0"));
        assert_eq!(fill_value_json(&AttrValue::Float(f64::NAN), false), None);
        assert_eq!(fill_value_json(&AttrValue::Floats(vec![1.0, 2.0]), true), None);
    }
}
