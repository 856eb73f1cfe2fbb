//! A tiny writer for the JSON documents of a Zarr v2 store, built from pre-rendered values so
//! that non-finite attribute floats keep zarr-python's bare `NaN`/`Infinity` tokens.

/// An object under construction: keys in insertion order, values as JSON text.
#[derive(Default)]
pub struct Object {
    fields: Vec<(String, String)>,
}

impl Object {
    pub fn new() -> Self {
        Object::default()
    }

    /// Add a field whose value is already JSON text.
    pub fn raw(mut self, key: &str, json: impl Into<String>) -> Self {
        self.fields.push((key.to_string(), json.into()));
        self
    }

    /// Render with two-space indentation, nested objects indented accordingly.
    pub fn render(&self) -> String {
        self.render_at(0)
    }

    fn render_at(&self, depth: usize) -> String {
        if self.fields.is_empty() {
            return "{}".to_string();
        }
        let pad = "  ".repeat(depth + 1);
        let mut out = String::from("{\n");
        for (i, (k, v)) in self.fields.iter().enumerate() {
            out.push_str(&pad);
            out.push_str(&crate::index::json_string(k));
            out.push_str(": ");
            out.push_str(&indent_tail(v, depth + 1));
            if i + 1 < self.fields.len() {
                out.push(',');
            }
            out.push('\n');
        }
        out.push_str(&"  ".repeat(depth));
        out.push('}');
        out
    }
}

/// Re-indent the continuation lines of a multi-line JSON value nested at `depth`.
fn indent_tail(value: &str, depth: usize) -> String {
    let pad = "  ".repeat(depth);
    value.replace('\n', &format!("\n{pad}"))
}

/// A JSON list of strings.
pub fn string_list(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| crate::index::json_string(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// A JSON list of unsigned integers.
pub fn u64_list(items: &[u64]) -> String {
    let parts: Vec<String> = items.iter().map(u64::to_string).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_and_indents() {
        let inner = Object::new().raw("a", "1").render();
        let outer = Object::new().raw("x", inner).raw("y", "NaN").render();
        assert_eq!(outer, "{\n  \"x\": {\n    \"a\": 1\n  },\n  \"y\": NaN\n}");
        assert_eq!(Object::new().render(), "{}");
    }
}
