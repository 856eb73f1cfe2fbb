//! A directory of the tree as a response: JSON for tools (`{"path", "entries": [{"name",
//! "type", "size", "mtime"}]}`), or a small HTML index for people when the client prefers
//! `text/html` (a browser).

use super::path::encode;
use crate::vfs::{Kind, Listed};
use std::os::unix::ffi::OsStrExt;
use std::time::UNIX_EPOCH;

/// The JSON listing of directory `path` (as requested) with `entries`.
pub fn json(path: &str, entries: &[Listed]) -> String {
    let items: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            let mut item = serde_json::json!({
                "name": e.child.name.to_string_lossy(),
                "type": if e.child.kind == Kind::Dir { "directory" } else { "file" },
            });
            if let Some(a) = &e.attr {
                // a provisional size (a STAC item not made yet) is no size
                if a.kind == Kind::File && !e.provisional {
                    item["size"] = a.size.into();
                }
                let secs = a.mtime.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                item["mtime"] = secs.into();
            }
            item
        })
        .collect();
    serde_json::json!({ "path": path, "entries": items }).to_string()
}

/// The HTML index of directory `path` with `entries` (names escaped, links encoded).
pub fn html(path: &str, entries: &[Listed]) -> String {
    let title = escape(path);
    let mut out = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><ul>\n"
    );
    if path != "/" {
        out.push_str("<li><a href=\"../\">../</a></li>\n");
    }
    for e in entries {
        let slash = if e.child.kind == Kind::Dir { "/" } else { "" };
        let href = encode(e.child.name.as_bytes());
        let name = escape(&e.child.name.to_string_lossy());
        let size = match &e.attr {
            Some(a) if a.kind == Kind::File && !e.provisional => format!(" ({} bytes)", a.size),
            _ => String::new(),
        };
        out.push_str(&format!("<li><a href=\"{href}{slash}\">{name}{slash}</a>{size}</li>\n"));
    }
    out.push_str("</ul></body></html>\n");
    out
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// True when the client prefers HTML to JSON (`Accept` names `text/html` before any JSON).
pub fn wants_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    let html = accept.find("text/html");
    let json = accept.find("application/json");
    match (html, json) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_get_html_tools_json() {
        assert!(wants_html(Some("text/html,application/xhtml+xml,*/*;q=0.8")));
        assert!(!wants_html(Some("application/json, text/html")));
        assert!(!wants_html(Some("*/*")));
        assert!(!wants_html(None));
    }

    #[test]
    fn names_are_escaped() {
        assert_eq!(escape("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }
}
