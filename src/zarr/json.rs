//! A tiny writer for the JSON documents of a Zarr v2 store, built from pre-rendered values so
//! that non-finite attribute floats keep zarr-python's bare `NaN`/`Infinity` tokens.
//!
//! A document is written in one pass into one buffer (fields borrow their keys and values):
//! `find` over a warm archive renders the metadata of every store it enters.

use std::borrow::Cow;
use std::fmt::Write;

/// An object under construction: keys in insertion order, values as JSON text or objects.
#[derive(Default)]
pub struct Object<'a> {
    fields: Vec<(&'a str, Value<'a>)>,
}

enum Value<'a> {
    /// Rendered JSON (re-indented where it is nested).
    Text(Cow<'a, str>),
    /// An object rendered in place at its depth.
    Object(Object<'a>),
}

impl<'a> Object<'a> {
    pub fn new() -> Self {
        Object::default()
    }

    /// Add a field whose value is already JSON text.
    pub fn raw(mut self, key: &'a str, json: impl Into<Cow<'a, str>>) -> Self {
        self.fields.push((key, Value::Text(json.into())));
        self
    }

    /// Add a field whose value is an object.
    pub fn object(mut self, key: &'a str, object: Object<'a>) -> Self {
        self.fields.push((key, Value::Object(object)));
        self
    }

    /// Render with two-space indentation, nested objects indented accordingly.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.size_hint());
        self.render_into(&mut out, 0);
        out
    }

    /// About the rendered length (indentation of nested lines not counted).
    fn size_hint(&self) -> usize {
        let value = |v: &Value| match v {
            Value::Text(t) => t.len(),
            Value::Object(o) => o.size_hint(),
        };
        self.fields.iter().map(|(k, v)| k.len() + value(v) + 8).sum::<usize>() + 4
    }

    fn render_into(&self, out: &mut String, depth: usize) {
        if self.fields.is_empty() {
            out.push_str("{}");
            return;
        }
        out.push_str("{\n");
        for (i, (k, v)) in self.fields.iter().enumerate() {
            pad(out, depth + 1);
            push_json_string(out, k);
            out.push_str(": ");
            match v {
                Value::Text(t) => push_indented(out, t, depth + 1),
                Value::Object(o) => o.render_into(out, depth + 1),
            }
            if i + 1 < self.fields.len() {
                out.push(',');
            }
            out.push('\n');
        }
        pad(out, depth);
        out.push('}');
    }
}

fn pad(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Append a (possibly multi-line) JSON value nested at `depth`: its continuation lines are
/// indented by that depth.
fn push_indented(out: &mut String, value: &str, depth: usize) {
    let mut lines = value.split('\n');
    if let Some(first) = lines.next() {
        out.push_str(first);
    }
    for line in lines {
        out.push('\n');
        pad(out, depth);
        out.push_str(line);
    }
}

/// A JSON list of strings.
pub fn string_list(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_json_string(&mut out, s);
    }
    out.push(']');
    out
}

/// A JSON list of unsigned integers.
pub fn u64_list(items: &[u64]) -> String {
    let mut out = String::from("[");
    for (i, n) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{n}");
    }
    out.push(']');
    out
}

/// Append the JSON string literal of `s` to `out`, ASCII-only (as Python's json writes by
/// default).
pub fn push_json_string(out: &mut String, s: &str) {
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

/// Consolidated metadata as Zarr v2 writes it, made standard JSON: the bare `NaN`,
/// `Infinity` and `-Infinity` tokens zarr-python reads (and Zarr writes for such attribute
/// values) become the strings Zarr uses for such fill values.
pub fn standard_json(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        let token =
            ["-Infinity", "Infinity", "NaN"].into_iter().find(|t| rest.starts_with(t.as_bytes()));
        match (b, token) {
            (_, Some(t)) => {
                out.extend_from_slice(format!("\"{t}\"").as_bytes());
                i += t.len();
            }
            (b'"', None) => {
                in_string = true;
                out.push(b);
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_and_indents() {
        let inner = Object::new().raw("a", "1").raw("b", "[1, 2]").render();
        let outer = Object::new().raw("x", inner.as_str()).raw("y", "NaN").render();
        assert_eq!(outer, "{\n  \"x\": {\n    \"a\": 1,\n    \"b\": [1, 2]\n  },\n  \"y\": NaN\n}");
        let deeper = Object::new().raw("o", outer.as_str()).render();
        assert_eq!(
            deeper,
            "{\n  \"o\": {\n    \"x\": {\n      \"a\": 1,\n      \"b\": [1, 2]\n    },\n    \
             \"y\": NaN\n  }\n}"
        );
        // an object nested in place renders as its text nested
        let x = Object::new().raw("a", "1").raw("b", "[1, 2]");
        let o = Object::new().object("x", x).raw("y", "NaN");
        assert_eq!(Object::new().object("o", o).render(), deeper);
        assert_eq!(Object::new().render(), "{}");
        assert_eq!(Object::new().object("e", Object::new()).render(), "{\n  \"e\": {}\n}");
        assert_eq!(Object::new().raw("k\"\u{e9}", "1").render(), "{\n  \"k\\\"\\u00e9\": 1\n}");
        assert_eq!(string_list(&["a".into(), "\n".into()]), "[\"a\", \"\\n\"]");
        assert_eq!(u64_list(&[]), "[]");
        assert_eq!(u64_list(&[3, 18446744073709551615]), "[3, 18446744073709551615]");
    }
}
