//! What makes a response cacheable and revalidatable: a strong `ETag` and `Last-Modified` from
//! the node's attributes (the source's mtime and the node's size) and the server's view (its
//! options: the same source shown in raw or decoded chunks gives other bytes), and the
//! conditional request headers (`If-None-Match`, `If-Modified-Since`, `If-Range`) checked
//! against them.

use crate::vfs::Attr;
use axum::http::{header, HeaderMap};
use std::time::{SystemTime, UNIX_EPOCH};

/// A node's validators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validators {
    /// Quoted, as sent.
    pub etag: String,
    pub last_modified: SystemTime,
}

impl Validators {
    /// The validators of a node with `attr` in a server whose view is `view` (a digest of its
    /// options).
    pub fn of(attr: &Attr, view: u64) -> Validators {
        let ns = attr.mtime.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        Validators {
            etag: format!("\"{:x}-{ns:x}-{view:x}\"", attr.size),
            last_modified: attr.mtime,
        }
    }

    /// `Last-Modified` as an HTTP date.
    pub fn http_date(&self) -> String {
        httpdate::fmt_http_date(self.last_modified)
    }

    /// True when the client's copy is current: `If-None-Match` names this ETag (or `*`), or,
    /// without `If-None-Match`, `If-Modified-Since` is not before the modification (in whole
    /// seconds, as HTTP dates are).
    pub fn not_modified(&self, headers: &HeaderMap) -> bool {
        if let Some(tags) = headers.get(header::IF_NONE_MATCH) {
            let tags = tags.to_str().unwrap_or("");
            return tags
                .split(',')
                .map(str::trim)
                .any(|t| t == "*" || t == self.etag || t.strip_prefix("W/") == Some(&self.etag));
        }
        let since = headers.get(header::IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok());
        match since.and_then(|s| httpdate::parse_http_date(s).ok()) {
            Some(since) => secs(self.last_modified) <= secs(since),
            None => false,
        }
    }

    /// True when a `Range` may be honoured: no `If-Range`, or one naming this ETag or date.
    pub fn range_applies(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
            None => true,
            Some(v) if v.starts_with('"') => v == self.etag,
            Some(v) => {
                httpdate::parse_http_date(v).is_ok_and(|d| secs(d) == secs(self.last_modified))
            }
        }
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::Kind;
    use axum::http::HeaderValue;
    use std::time::Duration;

    fn attr(size: u64, secs: u64) -> Attr {
        let mtime = UNIX_EPOCH + Duration::from_millis(secs * 1000 + 250);
        Attr { kind: Kind::File, size, mtime, perm: 0o444, uid: 0, gid: 0 }
    }

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn etags_differ_with_size_mtime_and_view() {
        let a = Validators::of(&attr(10, 1000), 1);
        assert_ne!(a.etag, Validators::of(&attr(11, 1000), 1).etag);
        assert_ne!(a.etag, Validators::of(&attr(10, 1001), 1).etag);
        assert_ne!(a.etag, Validators::of(&attr(10, 1000), 2).etag);
        assert_eq!(a, Validators::of(&attr(10, 1000), 1));
    }

    #[test]
    fn conditional_requests() {
        let v = Validators::of(&attr(10, 1000), 1);
        assert!(v.not_modified(&headers(header::IF_NONE_MATCH, &v.etag)));
        assert!(v.not_modified(&headers(header::IF_NONE_MATCH, &format!("\"x\", {}", v.etag))));
        assert!(!v.not_modified(&headers(header::IF_NONE_MATCH, "\"other\"")));
        assert!(v.not_modified(&headers(header::IF_MODIFIED_SINCE, &v.http_date())));
        let earlier = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(999));
        assert!(!v.not_modified(&headers(header::IF_MODIFIED_SINCE, &earlier)));
        assert!(!v.not_modified(&HeaderMap::new()));
        assert!(v.range_applies(&HeaderMap::new()));
        assert!(v.range_applies(&headers(header::IF_RANGE, &v.etag)));
        assert!(!v.range_applies(&headers(header::IF_RANGE, "\"old\"")));
    }
}
