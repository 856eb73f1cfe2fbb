//! Bytes-bounded LRU of generated chunks (re-encoded chunks). Pass-through chunks are never
//! cached here: the kernel page cache keeps them. Concurrent misses on one chunk generate it
//! once, and the chunks being generated at once share a byte budget ([`InFlight`]): a quarter
//! of `--cache-size`, at most 32 MiB, taken from the cache's capacity, so cached and
//! in-the-making chunks together stay within `--cache-size` whatever the thread count. A
//! chunk's memory, once evicted and no longer read, goes back to that budget as a spare for
//! the next chunk made ([`InFlight::recycle`]). In a FUSE mount a chunk whose every byte has
//! been read leaves at once ([`ChunkCache::releasing_served`]): the kernel keeps it.

use super::inflight::{InFlight, Permit};
use super::sent::SentPages;
use moka::sync::Cache;
use std::collections::HashSet;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

/// A generated chunk (no copy when it enters the cache).
pub type Chunk = Arc<ChunkBuf>;

/// A generated chunk's bytes; their memory goes back to the budget of chunks being made when
/// the chunk is dropped (evicted, and no read holding it any more).
#[derive(Debug)]
pub struct ChunkBuf {
    bytes: Vec<u8>,
    home: Arc<InFlight>,
    /// Its pages sent to readers so far ([`ChunkCache::served`]; made at the first).
    sent: OnceLock<SentPages>,
}

impl ChunkBuf {
    fn new(bytes: Vec<u8>, home: Arc<InFlight>) -> ChunkBuf {
        home.made(bytes.capacity() as u64);
        ChunkBuf { bytes, home, sent: OnceLock::new() }
    }
}

impl std::ops::Deref for ChunkBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for ChunkBuf {
    fn drop(&mut self) {
        self.home.recycle(std::mem::take(&mut self.bytes));
    }
}

/// Identity of a generated chunk: (dataset generation, array, chunk position).
pub type ChunkKey = (u64, usize, usize);

/// What the cache keeps under a [`ChunkKey`]: the whole chunk, or one part of a stacked chunk
/// (decoded alone when a read needs only it, see `zarr::chunk`).
type Entry = (ChunkKey, u32);
const WHOLE: u32 = u32::MAX;

/// The cache of generated chunks.
#[derive(Clone)]
pub struct ChunkCache {
    inner: Cache<Entry, Chunk>,
    making: Arc<InFlight>,
    /// Whole chunks being made now: a read inside one waits for it rather than making parts.
    whole_in_making: Arc<Mutex<HashSet<ChunkKey>>>,
    /// The readers keep what they are sent (see [`ChunkCache::releasing_served`]).
    release_served: bool,
}

impl ChunkCache {
    /// At most `max_bytes` of chunk data, chunks being made included: the budget of those
    /// (a quarter, at most 32 MiB) is taken from the cache's capacity.
    pub fn new(max_bytes: u64) -> Self {
        let making = (max_bytes / 4).min(32 << 20);
        // Plain LRU: moka's default TinyLFU admission turns new chunks away once the cache is
        // full, and a chunk file read in 128 KiB pieces would then be decoded for every piece.
        let inner = Cache::builder()
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .max_capacity(max_bytes - making)
            .weigher(|_k: &Entry, v: &Chunk| u32::try_from(v.len()).unwrap_or(u32::MAX))
            .build();
        let whole_in_making = Arc::new(Mutex::new(HashSet::new()));
        let making = Arc::new(InFlight::new(making, max_bytes));
        ChunkCache { inner, making, whole_in_making, release_served: false }
    }

    /// A cache whose readers keep the bytes they are sent (a FUSE mount: the kernel's page
    /// cache holds the chunk files read through it, and asks for a file's bytes again only
    /// once it dropped them): a whole chunk leaves the cache once every byte of it has been
    /// sent ([`ChunkCache::served`]), its memory kept for the next chunk made, so a one-pass
    /// read neither holds the cache's bytes a second time beside the kernel's copy nor takes
    /// fresh memory for every chunk. What is read in part stays in the LRU as before.
    pub fn releasing_served(mut self, release: bool) -> Self {
        self.release_served = release;
        self
    }

    /// The bytes `range` of whole chunk `key` (`chunk`, got from this cache) sent to a reader;
    /// with [`ChunkCache::releasing_served`], the read that completes its pages lets it go.
    pub fn served(&self, key: ChunkKey, chunk: &Chunk, range: Range<usize>) {
        if !self.release_served {
            return;
        }
        if chunk.sent.get_or_init(|| SentPages::new(chunk.len())).mark(range) {
            // only this very chunk: one made again under the key since stays
            let entry = (key, WHOLE);
            if self.inner.get(&entry).is_some_and(|c| Arc::ptr_eq(&c, chunk)) {
                self.inner.invalidate(&entry);
                // moka lets go of the value when it applies its pending writes: now, so that
                // the memory is a spare by the time the next chunk is made
                self.inner.run_pending_tasks();
            }
        }
    }

    /// The cached chunk, or the bytes `make` returns (run once for concurrent callers, once
    /// the chunk's `size` bytes fit in the budget of chunks being made; [`Permit::buffer`]
    /// gives it memory to make them in).
    pub fn get_or_try<E>(
        &self,
        key: ChunkKey,
        size: u64,
        make: impl FnOnce(&mut Permit<'_>) -> Result<Vec<u8>, E>,
    ) -> Result<Chunk, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        self.entry_or_try((key, WHOLE), size, make)
    }

    /// The chunk `key` if it is cached whole (made by nobody; counted as a hit).
    pub fn cached(&self, key: ChunkKey) -> Option<Chunk> {
        let hit = self.inner.get(&(key, WHOLE));
        if hit.is_some() {
            crate::telemetry::stats::STATS.cache_lookup(true);
        }
        hit
    }

    /// Whether the whole chunk `key` is being made now (by [`ChunkCache::get_or_try`]).
    pub fn whole_in_making(&self, key: ChunkKey) -> bool {
        self.whole_in_making.lock().unwrap_or_else(|e| e.into_inner()).contains(&key)
    }

    /// Part `part` of the stacked chunk `key`, as [`ChunkCache::get_or_try`] (`size`: the
    /// part's).
    pub fn part_or_try<E>(
        &self,
        key: ChunkKey,
        part: u32,
        size: u64,
        make: impl FnOnce(&mut Permit<'_>) -> Result<Vec<u8>, E>,
    ) -> Result<Chunk, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        self.entry_or_try((key, part.min(WHOLE - 1)), size, make)
    }

    fn entry_or_try<E>(
        &self,
        key: Entry,
        size: u64,
        make: impl FnOnce(&mut Permit<'_>) -> Result<Vec<u8>, E>,
    ) -> Result<Chunk, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        // a hit asks `get` first: moka's try_get_with boxes its key even when it finds it
        if let Some(chunk) = self.inner.get(&key) {
            crate::telemetry::stats::STATS.cache_lookup(true);
            return Ok(chunk);
        }
        let mut inserted = false;
        let result = self.inner.try_get_with(key, || {
            inserted = true;
            // listed while it waits for room in the budget and is made
            let _making = (key.1 == WHOLE).then(|| Making::new(&self.whole_in_making, key.0));
            let mut room = self.making.acquire(size);
            let bytes = make(&mut room)?;
            Ok(Arc::new(ChunkBuf::new(bytes, self.making.clone())))
        });
        crate::telemetry::stats::STATS.cache_lookup(!inserted);
        if inserted {
            // moka evicts lazily; keep the byte bound tight when large chunks arrive quickly
            self.inner.run_pending_tasks();
        }
        result
    }
}

/// A whole chunk listed as being made for as long as this lives.
struct Making<'a>(&'a Mutex<HashSet<ChunkKey>>, ChunkKey);

impl<'a> Making<'a> {
    fn new(set: &'a Mutex<HashSet<ChunkKey>>, key: ChunkKey) -> Self {
        set.lock().unwrap_or_else(|e| e.into_inner()).insert(key);
        Making(set, key)
    }
}

impl Drop for Making<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_chunk_is_known_to_be_in_making_only_while_it_is_made() {
        let cache = ChunkCache::new(64 << 20);
        let key = (1, 0, 7);
        assert!(!cache.whole_in_making(key));
        let made = cache.get_or_try(key, 16, |room| {
            assert!(cache.whole_in_making(key) && !cache.whole_in_making((1, 0, 8)));
            Ok::<_, ()>(room.buffer(16))
        });
        assert!(made.is_ok() && !cache.whole_in_making(key));
        assert!(cache.cached(key).is_some());
        // a failure leaves the set too; a part is never listed as a whole chunk in making
        let failed = cache.get_or_try((1, 0, 9), 16, |_| Err::<Vec<u8>, _>("bad"));
        assert!(failed.is_err() && !cache.whole_in_making((1, 0, 9)));
        let part = cache.part_or_try((1, 0, 10), 3, 16, |room| {
            assert!(!cache.whole_in_making((1, 0, 10)));
            Ok::<_, ()>(room.buffer(16))
        });
        assert!(part.is_ok() && cache.cached((1, 0, 10)).is_none(), "a part is not the chunk");
    }

    /// A whole chunk of `n` bytes made under `key` (its memory a spare if one fits).
    fn make(cache: &ChunkCache, key: ChunkKey, n: usize) -> Chunk {
        let made = cache.get_or_try(key, n as u64, |room| Ok::<_, ()>(room.buffer(n)));
        made.unwrap()
    }

    #[test]
    fn a_chunk_read_to_its_end_leaves_a_cache_whose_readers_keep_it() {
        let n = 4 << 20; // big enough to be kept as a spare
        let keeping = ChunkCache::new(64 << 20).releasing_served(true);
        let chunk = make(&keeping, (1, 0, 0), n);
        let ptr = chunk.as_ptr();
        keeping.served((1, 0, 0), &chunk, 0..n / 2);
        keeping.served((1, 0, 0), &chunk, 0..n / 2);
        assert!(keeping.cached((1, 0, 0)).is_some(), "half read, twice: kept");
        keeping.served((1, 0, 0), &chunk, n / 2..n);
        assert!(keeping.cached((1, 0, 0)).is_none(), "read to its end: gone");
        drop(chunk);
        // its memory serves the next chunk of its size
        let next = make(&keeping, (1, 0, 1), n);
        assert_eq!(next.as_ptr(), ptr, "the served chunk's buffer, reused");

        // a chunk made again under a key is not let go by its predecessor's last read
        let old = make(&keeping, (1, 0, 2), 64);
        keeping.inner.invalidate(&((1, 0, 2), WHOLE));
        let new = make(&keeping, (1, 0, 2), 64);
        keeping.served((1, 0, 2), &old, 0..64);
        assert!(keeping.cached((1, 0, 2)).is_some_and(|c| Arc::ptr_eq(&c, &new)));

        // a cache whose readers keep nothing (HTTP) keeps what was read whole
        let plain = ChunkCache::new(64 << 20);
        let chunk = make(&plain, (1, 0, 0), 64);
        plain.served((1, 0, 0), &chunk, 0..64);
        assert!(plain.cached((1, 0, 0)).is_some());
    }
}
