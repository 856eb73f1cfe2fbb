//! Process-wide counters of what the daemon did (datasets indexed, index failures, chunk cache
//! hits and misses, reads and bytes served, names looked up and not found, local copies of
//! re-read files and opens served from them), and the one-line summary the log gets at start and
//! on SIGUSR1. Counters are relaxed atomics: each is exact, a summary is not a consistent
//! snapshot across counters (it need not be).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The counters of this process.
pub static STATS: Stats = Stats::new();

/// Counters, only ever incremented.
#[derive(Debug, Default)]
pub struct Stats {
    indexed: AtomicU64,
    indexed_natively: AtomicU64,
    loaded: AtomicU64,
    index_failures: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    buffers_reused: AtomicU64,
    parts_made: AtomicU64,
    reads: AtomicU64,
    bytes_served: AtomicU64,
    read_errors: AtomicU64,
    missing_lookups: AtomicU64,
    copies_made: AtomicU64,
    copy_bytes: AtomicU64,
    copy_bytes_peak: AtomicU64,
    passthrough_opens: AtomicU64,
    passthrough_fallbacks: AtomicU64,
}

/// The counters' values at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Datasets indexed from their source file.
    pub indexed: u64,
    /// Of those, indexed by the native reader (the rest through netcdf-c/libhdf5).
    pub indexed_natively: u64,
    /// Datasets whose index came from the index directory.
    pub loaded: u64,
    /// Source files that could not be indexed (each version counted once).
    pub index_failures: u64,
    /// Generated chunks found in the chunk cache.
    pub cache_hits: u64,
    /// Generated chunks that had to be made.
    pub cache_misses: u64,
    /// Of those, chunks made in the memory of a freed one (no fresh buffer to fault in).
    pub buffers_reused: u64,
    /// Of the misses, single parts of a stacked chunk made for a read that needed only them
    /// (the kernel filling a hole in its page cache).
    pub parts_made: u64,
    /// Successful read requests.
    pub reads: u64,
    /// Bytes returned by those reads.
    pub bytes_served: u64,
    /// Read requests that failed with an I/O error.
    pub read_errors: u64,
    /// Lookups of names that are not there (what negative entries save the kernel asking
    /// again).
    pub missing_lookups: u64,
    /// Local copies of re-read files made (`--passthrough-cache`).
    pub copies_made: u64,
    /// Bytes written into those copies.
    pub copy_bytes: u64,
    /// The most bytes the copies held on disk at once.
    pub copy_bytes_peak: u64,
    /// Opens answered with a copy (the kernel reads it without asking the daemon).
    pub passthrough_opens: u64,
    /// Opens that were to be answered with a copy and were served by FUSE reads instead (a
    /// copy failed or had no room, the file was open in the other mode).
    pub passthrough_fallbacks: u64,
}

impl Stats {
    /// All counters at zero.
    pub const fn new() -> Stats {
        Stats {
            indexed: AtomicU64::new(0),
            indexed_natively: AtomicU64::new(0),
            loaded: AtomicU64::new(0),
            index_failures: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            buffers_reused: AtomicU64::new(0),
            parts_made: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            bytes_served: AtomicU64::new(0),
            read_errors: AtomicU64::new(0),
            missing_lookups: AtomicU64::new(0),
            copies_made: AtomicU64::new(0),
            copy_bytes: AtomicU64::new(0),
            copy_bytes_peak: AtomicU64::new(0),
            passthrough_opens: AtomicU64::new(0),
            passthrough_fallbacks: AtomicU64::new(0),
        }
    }

    /// A dataset became available: indexed now, or its index read from the index directory.
    pub fn dataset_loaded(&self, from_index_dir: bool) {
        let c = if from_index_dir { &self.loaded } else { &self.indexed };
        c.fetch_add(1, Relaxed);
    }

    /// A dataset was indexed by the native reader (also counted by `dataset_loaded`).
    pub fn indexed_natively(&self) {
        self.indexed_natively.fetch_add(1, Relaxed);
    }

    /// A source file could not be indexed.
    pub fn index_failed(&self) {
        self.index_failures.fetch_add(1, Relaxed);
    }

    /// A generated chunk was found in the cache (`true`) or made (`false`).
    pub fn cache_lookup(&self, hit: bool) {
        let c = if hit { &self.cache_hits } else { &self.cache_misses };
        c.fetch_add(1, Relaxed);
    }

    /// A generated chunk was made in the memory of a freed one.
    pub fn buffer_reused(&self) {
        self.buffers_reused.fetch_add(1, Relaxed);
    }

    /// One part of a stacked chunk was made alone (also counted as a miss).
    pub fn part_made(&self) {
        self.parts_made.fetch_add(1, Relaxed);
    }

    /// A read request returned `bytes` bytes.
    pub fn served(&self, bytes: usize) {
        self.reads.fetch_add(1, Relaxed);
        self.bytes_served.fetch_add(bytes as u64, Relaxed);
    }

    /// A read request failed.
    pub fn read_failed(&self) {
        self.read_errors.fetch_add(1, Relaxed);
    }

    /// A name was looked up and is not there.
    pub fn lookup_missed(&self) {
        self.missing_lookups.fetch_add(1, Relaxed);
    }

    /// A copy of `bytes` bytes was made; the copies now hold `held` bytes.
    pub fn copy_made(&self, bytes: u64, held: u64) {
        self.copies_made.fetch_add(1, Relaxed);
        self.copy_bytes.fetch_add(bytes, Relaxed);
        self.copy_bytes_peak.fetch_max(held, Relaxed);
    }

    /// An open was answered with a copy.
    pub fn passthrough_opened(&self) {
        self.passthrough_opens.fetch_add(1, Relaxed);
    }

    /// An open meant for a copy was served by FUSE reads.
    pub fn passthrough_fell_back(&self) {
        self.passthrough_fallbacks.fetch_add(1, Relaxed);
    }

    /// The current values.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            indexed: self.indexed.load(Relaxed),
            indexed_natively: self.indexed_natively.load(Relaxed),
            loaded: self.loaded.load(Relaxed),
            index_failures: self.index_failures.load(Relaxed),
            cache_hits: self.cache_hits.load(Relaxed),
            cache_misses: self.cache_misses.load(Relaxed),
            buffers_reused: self.buffers_reused.load(Relaxed),
            parts_made: self.parts_made.load(Relaxed),
            reads: self.reads.load(Relaxed),
            bytes_served: self.bytes_served.load(Relaxed),
            read_errors: self.read_errors.load(Relaxed),
            missing_lookups: self.missing_lookups.load(Relaxed),
            copies_made: self.copies_made.load(Relaxed),
            copy_bytes: self.copy_bytes.load(Relaxed),
            copy_bytes_peak: self.copy_bytes_peak.load(Relaxed),
            passthrough_opens: self.passthrough_opens.load(Relaxed),
            passthrough_fallbacks: self.passthrough_fallbacks.load(Relaxed),
        }
    }
}

/// What the tree holds at one moment, for the summary.
#[derive(Clone, Copy, Debug, Default)]
pub struct Held {
    /// Inode numbers (what the kernel caches of the mount).
    pub nodes: usize,
    /// Datasets kept indexed.
    pub datasets: u64,
    /// The bytes their indexes hold (estimated).
    pub index_bytes: u64,
    /// Local copies of re-read files the cache holds (`--passthrough-cache`).
    pub copies: u64,
    /// The bytes of copies on disk: those held, and those dropped but still open.
    pub copy_bytes: u64,
    /// Copies admitted and not yet filled.
    pub copies_filling: u64,
}

/// Log one summary line: `when` says why ("start", "SIGUSR1", "unmount"), `uptime` how long
/// the mount has been up, `held` what the tree holds now.
pub fn log_summary(when: &str, uptime: Duration, held: Held) {
    let s = STATS.snapshot();
    tracing::info!(
        target: "cloudify_mount::stats",
        when,
        uptime_s = uptime.as_secs(),
        nodes = held.nodes,
        datasets_kept = held.datasets,
        index_kib = held.index_bytes / 1024,
        datasets_indexed = s.indexed,
        datasets_indexed_natively = s.indexed_natively,
        datasets_from_index_dir = s.loaded,
        index_failures = s.index_failures,
        cache_hits = s.cache_hits,
        cache_misses = s.cache_misses,
        chunk_buffers_reused = s.buffers_reused,
        chunk_parts_made = s.parts_made,
        reads = s.reads,
        bytes_served = s.bytes_served,
        read_errors = s.read_errors,
        missing_lookups = s.missing_lookups,
        copies = held.copies,
        copy_bytes_held = held.copy_bytes,
        copies_filling = held.copies_filling,
        copy_bytes_peak = s.copy_bytes_peak,
        copies_made = s.copies_made,
        copy_bytes_written = s.copy_bytes,
        passthrough_opens = s.passthrough_opens,
        passthrough_fallbacks = s.passthrough_fallbacks,
        "summary"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let s = Stats::new();
        s.dataset_loaded(false);
        s.dataset_loaded(true);
        s.dataset_loaded(true);
        s.indexed_natively();
        s.index_failed();
        s.cache_lookup(true);
        s.cache_lookup(false);
        s.buffer_reused();
        s.part_made();
        s.served(100);
        s.served(28);
        s.read_failed();
        s.lookup_missed();
        s.copy_made(10, 30);
        s.copy_made(5, 20);
        s.passthrough_opened();
        s.passthrough_fell_back();
        let want = Snapshot {
            indexed: 1,
            indexed_natively: 1,
            loaded: 2,
            index_failures: 1,
            cache_hits: 1,
            cache_misses: 1,
            buffers_reused: 1,
            parts_made: 1,
            reads: 2,
            bytes_served: 128,
            read_errors: 1,
            missing_lookups: 1,
            copies_made: 2,
            copy_bytes: 15,
            copy_bytes_peak: 30,
            passthrough_opens: 1,
            passthrough_fallbacks: 1,
        };
        assert_eq!(s.snapshot(), want);
    }
}
