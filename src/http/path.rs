//! A request's URL path as a path of the tree: percent-decoded one segment at a time, so that
//! an encoded `/` (`%2F`) never splits a name, and refused when a segment would leave the
//! archive (`..`, `%2e%2e`) or cannot be a file name (NUL).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// Why a URL path names nothing in the tree.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("a segment '..' or '.' (or its encoding)")]
    Dots,
    #[error("an encoded '/' or NUL in a segment")]
    Separator,
    #[error("a '%' not followed by two hex digits")]
    BadEscape,
}

/// The tree path of URL path `raw` (as sent, still percent-encoded; without the query).
pub fn tree_path(raw: &str) -> Result<PathBuf, PathError> {
    let mut out = PathBuf::new();
    for segment in raw.split('/').filter(|s| !s.is_empty()) {
        let name = decode(segment)?;
        if name == b"." || name == b".." {
            return Err(PathError::Dots);
        }
        if name.contains(&b'/') || name.contains(&0) {
            return Err(PathError::Separator);
        }
        out.push(OsString::from_vec(name));
    }
    Ok(out)
}

/// Percent-decode one segment.
fn decode(segment: &str) -> Result<Vec<u8>, PathError> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(PathError::BadEscape)?;
            let hex = std::str::from_utf8(hex).map_err(|_| PathError::BadEscape)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| PathError::BadEscape)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// `name` percent-encoded for a URL path segment (an href of a directory listing).
pub fn encode(name: &[u8]) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(*b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_decoded_one_by_one() {
        assert_eq!(tree_path("/"), Ok(PathBuf::new()));
        assert_eq!(tree_path("/a.zarr/tas/0.0"), Ok(PathBuf::from("a.zarr/tas/0.0")));
        assert_eq!(tree_path("//a%20b/.zattrs"), Ok(PathBuf::from("a b/.zattrs")));
        assert_eq!(tree_path("/caf%C3%A9.zarr"), Ok(PathBuf::from("café.zarr")));
    }

    #[test]
    fn leaving_the_archive_is_refused() {
        assert_eq!(tree_path("/a/../b"), Err(PathError::Dots));
        assert_eq!(tree_path("/a/%2e%2E/b"), Err(PathError::Dots));
        assert_eq!(tree_path("/a/./b"), Err(PathError::Dots));
        assert_eq!(tree_path("/a%2F..%2Fb"), Err(PathError::Separator));
        assert_eq!(tree_path("/a%00"), Err(PathError::Separator));
        assert_eq!(tree_path("/a%2"), Err(PathError::BadEscape));
        assert_eq!(tree_path("/a%zz"), Err(PathError::BadEscape));
    }

    #[test]
    fn names_round_trip() {
        let name = "a b/ü%.zarr".as_bytes();
        let enc = encode(name);
        assert!(!enc.contains('/') && !enc.contains(' '));
        assert_eq!(decode(&enc), Ok(name.to_vec()));
    }
}
