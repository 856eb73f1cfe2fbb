//! Strict JSON for Icechunk: our `zarr.json` documents write NaN and ±Infinity attribute
//! values as the bare tokens zarr-python reads back as floats (see `crate::zarr::attrs`), but
//! Icechunk parses every document it stores as strict JSON and refuses them (so does
//! `xarray.Dataset.to_zarr` into an Icechunk store). Such values are written as the strings
//! `"NaN"`, `"Infinity"`, `"-Infinity"` instead (the spelling Zarr v3 gives a float
//! `fill_value`); a reader then sees a string where the file has a float attribute.

/// `doc` with every bare `NaN`, `Infinity`, `-Infinity` outside strings quoted, and how many
/// were.
pub fn quote_special_floats(doc: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(doc.len() + 16);
    let (mut i, mut n, mut in_string) = (0, 0, false);
    while i < doc.len() {
        let b = doc[i];
        if in_string {
            out.push(b);
            match b {
                b'\\' if i + 1 < doc.len() => {
                    out.push(doc[i + 1]);
                    i += 1;
                }
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let token =
            [&b"-Infinity"[..], b"Infinity", b"NaN"].into_iter().find(|t| doc[i..].starts_with(t));
        match (b, token) {
            (b'"', _) => {
                in_string = true;
                out.push(b);
                i += 1;
            }
            (_, Some(t)) => {
                out.push(b'"');
                out.extend_from_slice(t);
                out.push(b'"');
                n += 1;
                i += t.len();
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_bare_tokens() {
        let doc = br#"{"a": NaN, "b": [1.5, -Infinity, Infinity], "c": "NaN \" Infinity", "fill_value": "NaN"}"#;
        let (out, n) = quote_special_floats(doc);
        assert_eq!(n, 3);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["a"], "NaN");
        assert_eq!(v["b"][1], "-Infinity");
        assert_eq!(v["c"], "NaN \" Infinity");
        assert_eq!(quote_special_floats(br#"{"x": 1}"#), (br#"{"x": 1}"#.to_vec(), 0));
    }
}
