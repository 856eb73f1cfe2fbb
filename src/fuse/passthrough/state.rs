//! The table behind [`Copies`]: an entry per file opened (its version, bytes read, copy and open
//! handles), the least-recently-opened order, the bound on files remembered and the room made
//! for a new copy within the budget.

use super::{CacheOptions, Copy, Job, Version, MAX_FILES};
use crate::vfs::NodeKey;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// A file's open handles, all in one mode (the kernel's rule): none, by FUSE reads, or by
/// passthrough to one copy.
pub(super) enum Handles<B> {
    Idle,
    Cached(u32),
    Passthrough(u32, Arc<Copy<B>>),
}

/// What is known of one file (a node inside a store).
pub(super) struct Entry<B> {
    pub(super) version: Version,
    /// Bytes of this version FUSE reads served (a file read in full is admitted).
    pub(super) read: u64,
    pub(super) copy: Option<Arc<Copy<B>>>,
    pub(super) handles: Handles<B>,
    /// When it was last opened (the key in [`State::lru`]).
    pub(super) tick: u64,
    /// Copying this version failed: served by FUSE reads.
    pub(super) failed: bool,
    pub(super) copying: bool,
    /// An open waited [`super::RELEASE_WAIT`] for the file's FUSE-read handles in vain: no other
    /// open of this version waits.
    pub(super) busy: bool,
    /// The source changed while this version was being copied: the copy is not used.
    pub(super) outdated: bool,
}

/// The files, by node; their order of last open; the handles given out; copies being made.
pub(super) struct State<B> {
    pub(super) files: HashMap<Arc<NodeKey>, Entry<B>>,
    pub(super) lru: BTreeMap<u64, Arc<NodeKey>>,
    pub(super) tick: u64,
    pub(super) handles: HashMap<u64, Arc<NodeKey>>,
    pub(super) next_fh: u64,
    /// Copies admitted and not yet filled (queued or being filled).
    pub(super) copying: usize,
    /// The mount ended: nothing more is filled.
    pub(super) closed: bool,
    /// Copies admitted, waiting for a filler.
    pub(super) queue: VecDeque<Job<B>>,
}

impl<B> Entry<B> {
    /// Whether FUSE reads have served as many bytes of this version as it holds.
    pub(super) fn read_in_full(&self) -> bool {
        self.read >= self.version.size
    }
}

impl<B> State<B> {
    pub(super) fn entry(&mut self, key: &Arc<NodeKey>) -> &mut Entry<B> {
        self.files.get_mut(key).expect("an entry being opened is never forgotten")
    }

    /// The entry of `key` at `version`, as the most recently opened: a new one, or one whose
    /// older version's copy and count are dropped (its open handles stay: the kernel's mode).
    pub(super) fn touch(&mut self, key: &Arc<NodeKey>, version: Version) -> &mut Entry<B> {
        self.tick += 1;
        let tick = self.tick;
        match self.files.get_mut(key) {
            Some(e) => {
                self.lru.remove(&e.tick);
                e.tick = tick;
                if e.version != version {
                    e.version = version;
                    (e.read, e.copy, e.failed, e.busy) = (0, None, false, false);
                }
            }
            None => {
                let e = Entry {
                    version,
                    read: 0,
                    copy: None,
                    handles: Handles::Idle,
                    tick,
                    failed: false,
                    copying: false,
                    busy: false,
                    outdated: false,
                };
                self.files.insert(key.clone(), e);
                self.forget_oldest();
            }
        }
        self.lru.insert(tick, key.clone());
        self.entry(key)
    }

    /// Past [`MAX_FILES`], forget the least recently opened files no handle uses.
    fn forget_oldest(&mut self) {
        let over = self.files.len().saturating_sub(MAX_FILES);
        let idle: Vec<(u64, Arc<NodeKey>)> = self
            .lru
            .iter()
            .filter(|(_, k)| {
                let e = &self.files[*k];
                matches!(e.handles, Handles::Idle) && !e.copying
            })
            .take(over)
            .map(|(t, k)| (*t, k.clone()))
            .collect();
        for (tick, key) in idle {
            self.lru.remove(&tick);
            self.files.remove(&key);
        }
    }

    /// Make room for `size` more bytes by dropping copies nobody has open, least recently
    /// opened first (never `key`'s); false (nothing dropped) when that cannot make enough.
    pub(super) fn make_room(
        &mut self,
        key: &Arc<NodeKey>,
        size: u64,
        options: &CacheOptions,
        held: &AtomicU64,
    ) -> bool {
        let used = held.load(Relaxed);
        if used + size <= options.bytes {
            return true;
        }
        let need = used + size - options.bytes;
        let mut free = 0;
        let mut drop = Vec::new();
        for k in self.lru.values() {
            if free >= need {
                break;
            }
            let e = &self.files[k];
            match &e.copy {
                Some(c) if k != key && Arc::strong_count(c) == 1 => {
                    free += c.version.size;
                    drop.push(k.clone());
                }
                _ => {}
            }
        }
        if free < need {
            return false;
        }
        for k in drop {
            if let Some(e) = self.files.get_mut(&k) {
                e.copy = None;
            }
        }
        true
    }
}
