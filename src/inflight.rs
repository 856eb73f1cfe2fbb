//! A byte budget for generated chunks being made at once. Every FUSE thread may be decoding
//! a chunk that is not in the cache yet; without a bound the daemon's memory would grow with
//! the thread count (threads × chunk size) on top of the cache's. A chunk waits until its
//! bytes fit in the budget; a chunk larger than the whole budget is made alone. Chunks are
//! admitted in the order they asked, so a big one is not starved by a stream of small ones.

use std::sync::{Condvar, Mutex, MutexGuard};

/// Bytes of chunks being generated, and the most allowed at once.
#[derive(Debug)]
pub struct InFlight {
    budget: u64,
    state: Mutex<State>,
    freed: Condvar,
}

/// Bytes being made, and the tickets handed out and admitted so far (FIFO admission).
#[derive(Debug, Default)]
struct State {
    used: u64,
    issued: u64,
    admitted: u64,
}

/// Room for one chunk being made; given back when dropped.
#[derive(Debug)]
pub struct Permit<'a> {
    owner: &'a InFlight,
    bytes: u64,
}

impl InFlight {
    pub fn new(budget: u64) -> Self {
        InFlight { budget, state: Mutex::new(State::default()), freed: Condvar::new() }
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
        state.used += bytes;
        state.admitted += 1;
        drop(state);
        // the next in line may fit too
        self.freed.notify_all();
        Permit { owner: self, bytes }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.owner.state().used -= self.bytes;
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
        let budget = InFlight::new(10);
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
        let budget = InFlight::new(10);
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
}
