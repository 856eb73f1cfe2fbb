//! gzip of JSON documents (`.zmetadata`, STAC items, listings, the generated documents of the
//! routes) for clients that ask for it (`Accept-Encoding: gzip`); chunk bytes are never
//! compressed again. A gzip answer of a tree file has its own ETag (the identity one with
//! `-gz`), as the bytes differ; generated documents have none.

use axum::http::{header, HeaderMap};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

/// Documents larger than this are sent as they are (compressing them would hold them whole).
pub const MAX_BYTES: u64 = 64 << 20;

/// Generated documents shorter than this are sent as they are (gzip would save little).
pub const WORTH: usize = 1024;

/// True when the client accepts gzip (and does not refuse it with `q=0`).
pub fn accepted(headers: &HeaderMap) -> bool {
    let Some(v) = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    v.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let refused =
            parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

/// `bytes` gzip-compressed.
pub fn compress(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::fast());
    // writing to a Vec cannot fail
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

/// The ETag of the gzip form of a document whose ETag is `etag` (quoted).
pub fn etag(etag: &str) -> String {
    format!("{}-gz\"", etag.trim_end_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn who_accepts_gzip() {
        assert!(accepted(&with("gzip, deflate, br")));
        assert!(accepted(&with("br;q=1.0, gzip;q=0.8")));
        assert!(accepted(&with("*")));
        assert!(!accepted(&with("gzip;q=0")));
        assert!(!accepted(&with("identity")));
        assert!(!accepted(&HeaderMap::new()));
    }

    #[test]
    fn round_trip_and_etag() {
        use std::io::Read;
        let text = b"{\"a\": 1}".repeat(100);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&compress(&text)[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
        assert_eq!(etag("\"1-2-3\""), "\"1-2-3-gz\"");
    }
}
