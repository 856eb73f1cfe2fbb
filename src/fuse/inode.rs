//! Inode numbers and the kernel's references to them. A node keeps the number it got first for
//! as long as the kernel holds it; each LOOKUP reply and each READDIRPLUS entry is one more
//! reference, each FORGET takes some back, and a node the kernel no longer holds leaves the
//! table. So the table is as large as the kernel's cache of the mount (which the kernel trims
//! under memory pressure), not as large as every node ever walked. A forgotten node's number
//! goes to the next new node (as a file system reuses a deleted file's inode number); a node
//! forgotten and looked up again may get another number.

use crate::vfs::NodeKey;
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

/// The root's inode number, as FUSE wants it.
pub const ROOT_INO: u64 = 1;

/// The hasher of the inode table: foldhash (seeded per process) instead of std's SipHash,
/// which was most of the table's cost when `find` gives 160,000 nodes their numbers. Keys are
/// archive paths: foldhash does not claim resistance to deliberately colliding names, which
/// would slow the table, not break it.
type Fast = foldhash::fast::RandomState;

/// Bidirectional map between inode numbers and nodes, with the kernel's reference count of
/// each, plus the inodes of each source file (to invalidate them when it changes). A key is
/// stored once, shared by both directions.
pub struct InodeTable {
    inner: RwLock<Nodes>,
    /// Keyed by the source's path as bytes (see `NodeKey`'s `Hash`).
    by_source: RwLock<HashMap<OsString, HashSet<u64, Fast>, Fast>>,
}

struct Nodes {
    inos: HashMap<Arc<NodeKey>, u64, Fast>,
    /// By inode number (slot 0 unused, so that ino == position); `None`: a free number.
    slots: Vec<Option<Node>>,
    /// Numbers of forgotten nodes, given out again before new ones.
    free: Vec<u64>,
}

impl Nodes {
    fn get(&self, ino: u64) -> Option<&Node> {
        self.slots.get(usize::try_from(ino).ok()?)?.as_ref()
    }
}

struct Node {
    key: Arc<NodeKey>,
    /// References the kernel holds. Raised under the read lock (atomically), lowered and
    /// checked for zero under the write lock: a node is never dropped between a request
    /// finding it and counting the reference it hands out.
    lookups: AtomicU64,
}

impl Default for InodeTable {
    fn default() -> Self {
        let root = Arc::new(NodeKey::root());
        let mut inos = HashMap::with_hasher(Fast::default());
        inos.insert(root.clone(), ROOT_INO);
        let slots = vec![None, Some(Node { key: root, lookups: AtomicU64::new(1) })];
        InodeTable {
            inner: RwLock::new(Nodes { inos, slots, free: Vec::new() }),
            by_source: RwLock::new(HashMap::with_hasher(Fast::default())),
        }
    }
}

impl InodeTable {
    /// The inode of `key`, allocating one on first sight, with no reference counted: for
    /// numbers the kernel does not keep, such as a plain listing's.
    pub fn ino_owned(&self, key: NodeKey) -> u64 {
        self.existing(&key).unwrap_or_else(|| self.allocate(key, 0))
    }

    /// The inode of `key`, handed to the kernel as a new reference (a LOOKUP reply or a
    /// READDIRPLUS entry): one more lookup counted, the node allocated if new.
    pub fn lookup(&self, key: NodeKey) -> u64 {
        {
            let guard = self.read();
            if let Some(ino) = guard.inos.get(&key) {
                if let Some(node) = guard.get(*ino) {
                    node.lookups.fetch_add(1, Relaxed);
                    return *ino;
                }
            }
        }
        self.allocate(key, 1)
    }

    /// The inode of `key`, which had none a moment ago, with `lookups` references.
    fn allocate(&self, key: NodeKey, lookups: u64) -> u64 {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let nodes = &mut *guard;
        if let Some(ino) = nodes.inos.get(&key) {
            if let Some(node) = nodes.get(*ino) {
                node.lookups.fetch_add(lookups, Relaxed);
            }
            return *ino;
        }
        let key = Arc::new(key);
        let node = Some(Node { key: key.clone(), lookups: AtomicU64::new(lookups) });
        let ino = match nodes.free.pop() {
            Some(ino) => {
                nodes.slots[ino as usize] = node;
                ino
            }
            None => {
                nodes.slots.push(node);
                (nodes.slots.len() - 1) as u64
            }
        };
        nodes.inos.insert(key.clone(), ino);
        // listed for its source before any other thread can see the number (still under
        // `inner`): a change to the source invalidates every inode the kernel may hold
        if let Some(source) = key.source() {
            let mut by_source = self.by_source.write().unwrap_or_else(|e| e.into_inner());
            match by_source.get_mut(source.as_os_str()) {
                Some(inos) => {
                    inos.insert(ino);
                }
                None => {
                    let mut inos = HashSet::with_hasher(Fast::default());
                    inos.insert(ino);
                    by_source.insert(source.as_os_str().to_owned(), inos);
                }
            }
        }
        ino
    }

    /// The kernel dropped `n` references to each `(ino, n)`: the nodes left without any leave
    /// the table (the root never does). Returns the nodes dropped.
    pub fn forget(&self, refs: impl IntoIterator<Item = (u64, u64)>) -> Vec<(u64, Arc<NodeKey>)> {
        let mut dropped = Vec::new();
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let nodes = &mut *guard;
        for (ino, n) in refs {
            let Some(node) = nodes.get(ino) else { continue };
            let left = node.lookups.load(Relaxed).saturating_sub(n);
            node.lookups.store(left, Relaxed);
            if left > 0 || ino == ROOT_INO {
                continue;
            }
            if let Some(node) = nodes.slots[ino as usize].take() {
                nodes.inos.remove(&node.key);
                nodes.free.push(ino);
                dropped.push((ino, node.key));
            }
        }
        if dropped.iter().any(|(_, key)| key.source().is_some()) {
            let mut by_source = self.by_source.write().unwrap_or_else(|e| e.into_inner());
            for (ino, key) in &dropped {
                let Some(source) = key.source() else { continue };
                if let Some(inos) = by_source.get_mut(source.as_os_str()) {
                    inos.remove(ino);
                    if inos.is_empty() {
                        by_source.remove(source.as_os_str());
                    }
                }
            }
        }
        dropped
    }

    /// The inode of `key` if it has one.
    pub fn existing(&self, key: &NodeKey) -> Option<u64> {
        self.read().inos.get(key).copied()
    }

    /// Every inode generated from source file `source` (archive-relative).
    pub fn of_source(&self, source: &std::path::Path) -> Vec<u64> {
        let by_source = self.by_source.read().unwrap_or_else(|e| e.into_inner());
        let inos = by_source.get(source.as_os_str());
        inos.map(|inos| inos.iter().copied().collect()).unwrap_or_default()
    }

    /// The node of inode `ino`.
    pub fn key(&self, ino: u64) -> Option<Arc<NodeKey>> {
        self.read().get(ino).map(|node| node.key.clone())
    }

    /// How many nodes the table holds.
    pub fn count(&self) -> usize {
        self.read().inos.len()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Nodes> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn chunk(file: usize, name: usize) -> NodeKey {
        NodeKey::Dataset { source: format!("d/f{file}.nc").into(), inner: format!("v/{name}.0") }
    }

    #[test]
    fn threads_racing_for_the_same_nodes_get_one_number_each() {
        // a lost race shows in some rounds only: 20 fresh tables
        for _ in 0..20 {
            race_for(4000);
        }
    }

    fn race_for(n: usize) {
        let table = InodeTable::default();
        let start = std::sync::Barrier::new(8);
        let inos: Vec<Vec<u64>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..8)
                .map(|t| {
                    let (table, start) = (&table, &start);
                    s.spawn(move || {
                        start.wait();
                        // all threads ask for the same node at about the same time, half of
                        // them as the kernel's references
                        let mut inos = vec![0; n];
                        for (i, ino) in inos.iter_mut().enumerate() {
                            *ino = match t % 2 {
                                0 => table.ino_owned(chunk(i % 4, i)),
                                _ => table.lookup(chunk(i % 4, i)),
                            };
                        }
                        inos
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().expect("worker")).collect()
        });
        assert!(inos.iter().all(|v| v == &inos[0]), "a node got two numbers");
        let mut seen = inos[0].clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), n);
        assert!(seen.iter().all(|ino| *ino > ROOT_INO));
        for (i, ino) in inos[0].iter().enumerate() {
            assert_eq!(table.key(*ino).as_deref(), Some(&chunk(i % 4, i)));
            assert_eq!(table.existing(&chunk(i % 4, i)), Some(*ino));
        }
        // every inode is listed once under its source
        for f in 0..4 {
            let mut listed = table.of_source(Path::new(&format!("d/f{f}.nc")));
            listed.sort_unstable();
            let mut expected: Vec<u64> =
                (0..n).filter(|i| i % 4 == f).map(|i| inos[0][i]).collect();
            expected.sort_unstable();
            assert_eq!(listed, expected);
        }
        // four of the eight threads counted a reference to each node: four forgets drop it
        let all: Vec<u64> = seen.clone();
        for _ in 0..3 {
            assert!(table.forget(all.iter().map(|ino| (*ino, 1))).is_empty());
        }
        assert_eq!(table.forget(all.iter().map(|ino| (*ino, 1))).len(), n);
        assert_eq!(table.count(), 1, "only the root is left");
        assert_eq!(table.key(0), None);
        assert_eq!(table.key(ROOT_INO).as_deref(), Some(&NodeKey::root()));
    }

    #[test]
    fn a_node_leaves_when_the_kernel_forgets_its_last_reference() {
        let table = InodeTable::default();
        let (a, b) = (chunk(0, 1), chunk(0, 2));
        let ino = table.lookup(a.clone());
        assert_eq!(table.lookup(a.clone()), ino);
        let other = table.lookup(b.clone());
        assert!(table.forget([(ino, 1)]).is_empty(), "one reference left");
        assert_eq!(table.key(ino).as_deref(), Some(&a));
        let dropped = table.forget([(ino, 1), (12345, 1)]);
        assert_eq!(dropped.len(), 1);
        assert_eq!(*dropped[0].1, a);
        assert_eq!((table.key(ino), table.existing(&a)), (None, None));
        assert_eq!(table.of_source(Path::new("d/f0.nc")), vec![other]);
        // looked up again: numbered anew (here with the number it left free)
        let again = table.lookup(a.clone());
        assert_eq!(again, ino);
        assert_eq!(table.key(again).as_deref(), Some(&a));
        // a FORGET of more than was counted drops the node, never the root
        assert_eq!(table.forget([(again, 7), (other, 1), (ROOT_INO, 9)]).len(), 2);
        assert!(table.of_source(Path::new("d/f0.nc")).is_empty());
        assert_eq!(table.count(), 1);
        assert_eq!(table.key(ROOT_INO).as_deref(), Some(&NodeKey::root()));
    }

    #[test]
    fn a_reference_handed_out_while_another_is_forgotten_keeps_its_node() {
        // the kernel forgets a node while a LOOKUP of it is answered: whichever comes first,
        // the number answered must stay valid until its own FORGET
        let table = InodeTable::default();
        let key = chunk(1, 1);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..20_000 {
                        let ino = table.lookup(key.clone());
                        assert_eq!(table.key(ino).as_deref(), Some(&key), "number dropped");
                        table.forget([(ino, 1)]);
                    }
                });
            }
        });
        assert_eq!((table.count(), table.existing(&key)), (1, None));
    }
}
