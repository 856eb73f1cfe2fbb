//! Which pages of a generated chunk have been sent to readers that keep them (a FUSE mount:
//! the kernel's page cache): a chunk is complete once every page has been sent at least once,
//! however often a page is sent again (the kernel refilling a page it dropped, two readers of
//! overlapping ranges) — a count of bytes sent would reach the chunk's size early.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// The kernel's page: what its page cache asks a FUSE file for at least.
const PAGE: usize = 4096;

/// One bit per page of a chunk, and how many are set.
#[derive(Debug)]
pub struct SentPages {
    words: Box<[AtomicU64]>,
    pages: usize,
    set: AtomicUsize,
}

impl SentPages {
    /// None sent of a chunk of `len` bytes.
    pub fn new(len: usize) -> SentPages {
        let pages = len.div_ceil(PAGE);
        let words = (0..pages.div_ceil(64)).map(|_| AtomicU64::new(0)).collect();
        SentPages { words, pages, set: AtomicUsize::new(0) }
    }

    /// The bytes `range` were sent (every page they touch counts as sent): true for the one
    /// call that completes the chunk.
    pub fn mark(&self, range: Range<usize>) -> bool {
        if range.is_empty() || self.pages == 0 {
            return false;
        }
        let (first, last) = (range.start / PAGE, ((range.end - 1) / PAGE).min(self.pages - 1));
        let mut newly = 0;
        let mut page = first;
        while page <= last {
            let (word, bit) = (page / 64, page % 64);
            let n = (64 - bit).min(last + 1 - page);
            let mask = if n == 64 { u64::MAX } else { ((1u64 << n) - 1) << bit };
            let before = self.words[word].fetch_or(mask, Relaxed);
            newly += (mask & !before).count_ones() as usize;
            page += n;
        }
        let before = self.set.fetch_add(newly, Relaxed);
        newly > 0 && before + newly == self.pages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_is_complete_once_every_page_was_sent_whatever_was_sent_twice() {
        let len = 64 * PAGE * 3 + 100; // 193 pages over 4 words, the last page short
        let sent = SentPages::new(len);
        assert!(!sent.mark(0..PAGE * 100));
        // the same pages again, and more than the chunk's size in bytes sent: not complete
        assert!(!sent.mark(0..PAGE * 100));
        assert!(!sent.mark(PAGE * 50..PAGE * 150));
        assert!(!sent.mark(0..0));
        // the rest, the last page short: complete, once
        assert!(sent.mark(PAGE * 150..len));
        assert!(!sent.mark(PAGE * 150..len));
        assert!(!sent.mark(0..len));

        // a part of a page counts for the page; a one-page chunk
        let one = SentPages::new(100);
        assert!(one.mark(10..20) && !one.mark(0..100));
        let empty = SentPages::new(0);
        assert!(!empty.mark(0..0));
    }
}
