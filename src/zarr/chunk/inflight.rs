//! A byte budget for generated chunks being made at once. Every FUSE thread may be decoding
//! a chunk that is not in the cache yet; without a bound the daemon's memory would grow with
//! the thread count (threads × chunk size) on top of the cache's. A chunk waits until its
//! bytes fit in the budget; a chunk larger than the whole budget is made alone. Chunks are
//! admitted in the order they asked, so a big one is not starved by a stream of small ones.
//!
//! The budget also keeps the memory of freed big chunks (*spares*) for the next chunks made:
//! a fresh 16 MiB buffer costs 4,096 page faults, ~12% of the daemon's CPU in a decoded
//! first read (measured). A spare serves only a chunk of exactly its capacity, so what is
//! counted is what is held: the spares stay within the budget, and the made chunks still
//! alive (cached or being read), the chunks being made and the spares together within the
//! whole cache's bytes. So a full cache leaves the spares what the chunks being made leave of
//! the budget, and a cache that lets served chunks go (`ChunkCache::served`) keeps a budget's
//! worth of spares: a one-pass read then decodes into the same few buffers.

use std::sync::{Condvar, Mutex, MutexGuard};

/// Bytes of chunks being generated, and the most allowed at once.
#[derive(Debug)]
pub struct InFlight {
    budget: u64,
    /// The whole cache's bytes (the budget included).
    total: u64,
    state: Mutex<State>,
    freed: Condvar,
}

/// Freed buffers this large are worth keeping: glibc serves them from fresh mmaps (its mmap
/// threshold is set to 4 MiB at start, `fuse/mount.rs`); smaller ones come back from its heap
/// without page faults.
const SPARE_MIN: usize = 4 << 20;

/// Bytes being made, the tickets handed out and admitted so far (FIFO admission), the bytes
/// of made chunks alive, and the spare buffers kept (their capacities summed in `spare_bytes`).
#[derive(Debug, Default)]
struct State {
    used: u64,
    alive: u64,
    issued: u64,
    admitted: u64,
    spares: Vec<Vec<u8>>,
    spare_bytes: u64,
}

/// Room for one chunk being made; given back when dropped.
#[derive(Debug)]
pub struct Permit<'a> {
    owner: &'a InFlight,
    bytes: u64,
    /// A spare of the chunk's size, taken at admission.
    spare: Option<Vec<u8>>,
}

impl InFlight {
    /// A budget of `budget` bytes for chunks being made, within a cache of `total` bytes.
    pub fn new(budget: u64, total: u64) -> Self {
        let state = Mutex::new(State::default());
        InFlight { budget, total: total.max(budget), state, freed: Condvar::new() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait for every earlier caller to be admitted and for `bytes` more to fit (or for
    /// nothing else to be in the making), then take them.
    pub fn acquire(&self, bytes: u64) -> Permit<'_> {
        let mut state = self.state();
        let ticket = state.issued;
        state.issued += 1;
        while state.admitted != ticket
            || (state.used > 0 && state.used.saturating_add(bytes) > self.budget)
        {
            state = self.freed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.used = state.used.saturating_add(bytes);
        state.admitted += 1;
        let fits = |v: &Vec<u8>| v.capacity() as u64 == bytes;
        let spare = state.spares.iter().position(fits).map(|i| state.spares.swap_remove(i));
        state.spare_bytes -= spare.as_ref().map_or(0, |v| v.capacity() as u64);
        // spares give way to chunks in the making and to made ones (freed below, outside
        // the lock)
        let mut dropped = Vec::new();
        while state.held() > self.total {
            let Some(v) = state.spares.pop() else { break };
            state.spare_bytes -= v.capacity() as u64;
            dropped.push(v);
        }
        drop(state);
        drop(dropped);
        // the next in line may fit too
        self.freed.notify_all();
        Permit { owner: self, bytes, spare }
    }

    /// A made chunk of `bytes` (its buffer's capacity) is alive until [`InFlight::recycle`].
    pub fn made(&self, bytes: u64) {
        self.state().alive += bytes;
    }

    /// Keep `buf`, the memory of a made chunk no longer used, for a later chunk, if there is
    /// room for it; else free it.
    pub fn recycle(&self, buf: Vec<u8>) {
        let mut state = self.state();
        state.alive = state.alive.saturating_sub(buf.capacity() as u64);
        if buf.capacity() < SPARE_MIN {
            return;
        }
        let rejected = self.keep(&mut state, buf);
        drop(state);
        drop(rejected); // freed after the lock
    }

    /// Keep `buf` as a spare if the spares stay within the budget and everything within the
    /// cache's bytes; else hand it back.
    fn keep(&self, state: &mut State, buf: Vec<u8>) -> Option<Vec<u8>> {
        let cap = buf.capacity() as u64;
        if state.spare_bytes.saturating_add(cap) > self.budget
            || state.held().saturating_add(cap) > self.total
        {
            return Some(buf);
        }
        state.spare_bytes += cap;
        state.spares.push(buf);
        None
    }
}

impl State {
    /// Bytes of chunks alive, being made and spare.
    fn held(&self) -> u64 {
        self.alive.saturating_add(self.used).saturating_add(self.spare_bytes)
    }
}

impl Permit<'_> {
    /// A buffer of `len` bytes for the chunk being made: a spare's memory when one of that
    /// size was kept (holding another chunk's bytes: the caller must overwrite every one), else
    /// a new zeroed buffer.
    pub fn buffer(&mut self, len: usize) -> Vec<u8> {
        match self.spare.take() {
            Some(mut v) if v.capacity() >= len => {
                crate::telemetry::stats::STATS.buffer_reused();
                v.resize(len, 0); // shortens, or zero-fills only the bytes beyond its length
                v
            }
            _ => vec![0; len],
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self.owner.state();
        state.used -= self.bytes;
        // a spare the maker did not ask for goes back (if room is left for it)
        let rejected = self.spare.take().and_then(|v| self.owner.keep(&mut state, v));
        drop(state);
        drop(rejected);
        self.owner.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    #[test]
    fn chunks_wait_for_room_and_an_oversized_one_runs_alone() {
        let budget = InFlight::new(10, 10);
        let peak = AtomicU64::new(0);
        let now = AtomicU64::new(0);
        std::thread::scope(|s| {
            for bytes in [4, 4, 4, 6, 25, 3] {
                let (budget, peak, now) = (&budget, &peak, &now);
                s.spawn(move || {
                    let _permit = budget.acquire(bytes);
                    let mine = now.fetch_add(bytes, Ordering::SeqCst) + bytes;
                    peak.fetch_max(mine, Ordering::SeqCst);
                    // an oversized chunk shares the budget with nobody
                    assert!(mine <= 10 || mine == bytes, "{mine} bytes at once");
                    std::thread::sleep(Duration::from_millis(20));
                    now.fetch_sub(bytes, Ordering::SeqCst);
                });
            }
        });
        assert!(peak.load(Ordering::SeqCst) >= 8, "small chunks ran side by side");
        assert_eq!(budget.state().used, 0, "every permit given back");
    }

    #[test]
    fn a_big_chunk_is_not_overtaken_by_small_ones() {
        let budget = InFlight::new(10, 10);
        let order = Mutex::new(Vec::new());
        let issued = |n| {
            while budget.state().issued < n {
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        std::thread::scope(|s| {
            let first = budget.acquire(8);
            let (budget, order) = (&budget, &order);
            s.spawn(move || {
                let _p = budget.acquire(25);
                order.lock().unwrap().push("big");
                std::thread::sleep(Duration::from_millis(20));
            });
            issued(2);
            // 2 bytes would fit beside the first 8, but the big chunk asked before
            s.spawn(move || {
                let _p = budget.acquire(2);
                order.lock().unwrap().push("small");
            });
            issued(3);
            std::thread::sleep(Duration::from_millis(20));
            assert!(order.lock().unwrap().is_empty(), "both wait while 8 bytes are in the making");
            drop(first);
        });
        assert_eq!(*order.lock().unwrap(), ["big", "small"]);
    }

    #[test]
    fn freed_buffers_are_reused_within_the_budget() {
        let unit = SPARE_MIN;
        let budget = InFlight::new(3 * unit as u64, 3 * unit as u64);
        let spares = |b: &InFlight| b.state().spare_bytes / unit as u64;
        let mut first = budget.acquire(unit as u64);
        let mut buf = first.buffer(unit);
        buf[0] = 9;
        let ptr = buf.as_ptr();
        drop(first);
        budget.recycle(buf);
        budget.recycle(vec![7; unit]);
        budget.recycle(vec![7; unit]);
        budget.recycle(vec![7; unit]); // a fourth would exceed the budget: freed
        budget.recycle(vec![7; unit - 1]); // small: freed
        assert_eq!(spares(&budget), 3);
        // a chunk of that size gets a spare; the spares left give way to it
        let mut next = budget.acquire(unit as u64);
        assert_eq!(spares(&budget), 2);
        let reused = next.buffer(unit);
        assert_eq!(reused.as_ptr(), ptr, "the first chunk's memory");
        assert_eq!(reused[0], 9, "with its old bytes, not zeroed again");
        let big = budget.acquire(2 * unit as u64 - 1);
        let state = budget.state();
        assert_eq!((state.used, state.spare_bytes), (3 * unit as u64 - 1, 0));
        drop(state);
        assert!(big.spare.is_none(), "no spare of that size");
        drop((next, big));
        // a spare the maker did not use goes back when its permit is dropped
        budget.recycle(reused);
        let unused = budget.acquire(unit as u64);
        assert_eq!(spares(&budget), 0);
        drop(unused);
        assert_eq!(spares(&budget), 1);
        // a chunk without a spare of its size gets fresh zeroed memory
        let mut odd = budget.acquire(64);
        assert_eq!(odd.buffer(64), vec![0; 64]);
    }

    #[test]
    fn spares_are_kept_while_the_cache_leaves_room_for_them() {
        let unit = SPARE_MIN as u64;
        let spares = |b: &InFlight| b.state().spare_bytes / unit;
        // a budget of two chunks being made, in a cache of six chunks
        let budget = InFlight::new(2 * unit, 6 * unit);
        let making = (budget.acquire(unit), budget.acquire(unit));
        // chunks that were read and let go: kept beside a full budget (the cache is empty)
        for _ in 0..3 {
            budget.made(unit);
            budget.recycle(vec![7; unit as usize]);
        }
        assert_eq!(spares(&budget), 2, "spares stay within the budget");
        drop(making);
        // the cache fills up: the spares give way to its chunks at the next admission
        budget.made(5 * unit);
        let next = budget.acquire(unit);
        assert!(next.spare.is_some(), "one spare serves the chunk made");
        assert_eq!(spares(&budget), 0, "the other is freed: 5 + 1 chunks fill the cache");
        drop(next);

        // a chunk let go is kept only if the cache's chunks leave room for it
        let budget = InFlight::new(2 * unit, 3 * unit);
        budget.made(2 * unit);
        budget.recycle(vec![7; unit as usize]); // 1 alive + 1 spare
        assert_eq!(spares(&budget), 1);
        budget.made(2 * unit);
        budget.recycle(vec![7; unit as usize]); // 2 alive + 2 spares would pass 3
        assert_eq!(spares(&budget), 1, "freed, though the budget had room for it");
    }
}
