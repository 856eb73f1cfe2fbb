//! The `Range` request header (RFC 9110 §14): one byte range of a file of known size. Several
//! ranges in one request are answered with the whole file (allowed by the RFC; clients that
//! read Zarr ask for one range at a time).

use std::ops::Range;

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    /// No usable range: the whole file (no header, another unit, several ranges, or a header
    /// that does not parse, which the RFC says to ignore).
    Whole,
    /// One satisfiable range: answered 206.
    Part(Range<u64>),
    /// A range that starts at or beyond the end: answered 416.
    Unsatisfiable,
}

/// Parse `header` (the `Range` value, if any) for a file of `size` bytes.
pub fn wanted(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // bytes=-N: the last N bytes
        (true, _, Some(n)) if n == 0 || size == 0 => Wanted::Unsatisfiable,
        (true, _, Some(n)) => Wanted::Part(size.saturating_sub(n)..size),
        (false, Some(a), _) if a >= size => Wanted::Unsatisfiable,
        (false, Some(a), None) if last.trim().is_empty() => Wanted::Part(a..size),
        (false, Some(a), Some(b)) if b >= a => Wanted::Part(a..b.saturating_add(1).min(size)),
        _ => Wanted::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_range_in_each_form() {
        assert_eq!(wanted(Some("bytes=0-9"), 100), Wanted::Part(0..10));
        assert_eq!(wanted(Some("bytes=90-"), 100), Wanted::Part(90..100));
        assert_eq!(wanted(Some("bytes=-10"), 100), Wanted::Part(90..100));
        assert_eq!(wanted(Some("bytes=-1000"), 100), Wanted::Part(0..100));
        assert_eq!(wanted(Some("bytes=95-1000"), 100), Wanted::Part(95..100));
        assert_eq!(wanted(Some(" bytes=1-1"), 100), Wanted::Part(1..2));
    }

    #[test]
    fn beyond_the_end_is_unsatisfiable() {
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=100-200"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-5"), 0), Wanted::Unsatisfiable);
    }

    #[test]
    fn anything_else_is_the_whole_file() {
        for h in [
            None,
            Some(""),
            Some("bytes=0-1,5-6"),
            Some("items=0-1"),
            Some("bytes=5-2"),
            Some("bytes=a-b"),
            Some("bytes=-"),
            Some("bytes=1"),
            Some("bytes=+1-2"),
            Some("bytes=99999999999999999999999-"),
        ] {
            assert_eq!(wanted(h, 100), Wanted::Whole, "{h:?}");
        }
    }
}
