//! Inode numbers, stable for the life of the mount: a node keeps the number it got first.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// What an inode stands for.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum NodeKey {
    /// A directory of the archive (relative path; empty for the root).
    Dir(PathBuf),
    /// A path inside the Zarr store of the source file `source` ("" = the store's root).
    Dataset { source: PathBuf, inner: String },
    /// The STAC item of `source`, whose store is shown as `store`.
    Item { source: PathBuf, store: std::ffi::OsString },
    /// The STAC catalog of an archive directory (relative path).
    Catalog(PathBuf),
}

/// The root's inode number, as FUSE wants it.
pub const ROOT_INO: u64 = 1;

impl NodeKey {
    /// The source file this node is generated from, if any.
    pub fn source(&self) -> Option<&PathBuf> {
        match self {
            NodeKey::Dataset { source, .. } | NodeKey::Item { source, .. } => Some(source),
            NodeKey::Dir(_) | NodeKey::Catalog(_) => None,
        }
    }
}

/// The hasher of the inode table: foldhash (seeded per process) instead of std's SipHash,
/// which was most of the table's cost when `find` gives 160,000 nodes their numbers. Keys are
/// archive paths: foldhash does not claim resistance to deliberately colliding names, which
/// would slow the table, not break it.
type Fast = foldhash::fast::RandomState;

/// Bidirectional map between inode numbers and nodes, plus the inodes of each source file
/// (to invalidate them when it changes). Entries are never removed; a key is stored once,
/// shared by both directions.
pub struct InodeTable {
    inner: RwLock<Nodes>,
    by_source: RwLock<HashMap<PathBuf, Vec<u64>, Fast>>,
}

struct Nodes {
    inos: HashMap<Arc<NodeKey>, u64, Fast>,
    /// By inode number (index 0 unused, so that ino == position).
    keys: Vec<Arc<NodeKey>>,
}

impl Default for InodeTable {
    fn default() -> Self {
        let root = Arc::new(NodeKey::Dir(PathBuf::new()));
        let mut inos = HashMap::with_hasher(Fast::default());
        inos.insert(root.clone(), ROOT_INO);
        InodeTable {
            inner: RwLock::new(Nodes { inos, keys: vec![root.clone(), root] }),
            by_source: RwLock::new(HashMap::with_hasher(Fast::default())),
        }
    }
}

impl InodeTable {
    /// The inode of `key`, allocating one on first sight.
    pub fn ino(&self, key: &NodeKey) -> u64 {
        self.existing(key).unwrap_or_else(|| self.allocate(key.clone()))
    }

    /// [`InodeTable::ino`] of a key made for the question (kept, not copied, when new).
    pub fn ino_owned(&self, key: NodeKey) -> u64 {
        self.existing(&key).unwrap_or_else(|| self.allocate(key))
    }

    /// The inode of `key`, which had none a moment ago.
    fn allocate(&self, key: NodeKey) -> u64 {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(ino) = guard.inos.get(&key) {
            return *ino;
        }
        let ino = guard.keys.len() as u64;
        let key = Arc::new(key);
        guard.keys.push(key.clone());
        guard.inos.insert(key.clone(), ino);
        // listed for its source before any other thread can see the number (still under
        // `inner`): a change to the source invalidates every inode the kernel may hold
        if let Some(source) = key.source() {
            let mut by_source = self.by_source.write().unwrap_or_else(|e| e.into_inner());
            match by_source.get_mut(source) {
                Some(inos) => inos.push(ino),
                None => {
                    by_source.insert(source.clone(), vec![ino]);
                }
            }
        }
        ino
    }

    /// The inode of `key` if it has one.
    pub fn existing(&self, key: &NodeKey) -> Option<u64> {
        self.read().inos.get(key).copied()
    }

    /// Every inode generated from source file `source` (archive-relative).
    pub fn of_source(&self, source: &std::path::Path) -> Vec<u64> {
        let by_source = self.by_source.read().unwrap_or_else(|e| e.into_inner());
        by_source.get(source).cloned().unwrap_or_default()
    }

    /// The node of inode `ino`.
    pub fn key(&self, ino: u64) -> Option<Arc<NodeKey>> {
        if ino == 0 {
            return None;
        }
        self.read().keys.get(ino as usize).cloned()
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
                        // them with a key made for the question
                        let mut inos = vec![0; n];
                        for (i, ino) in inos.iter_mut().enumerate() {
                            *ino = match t % 2 {
                                0 => table.ino(&chunk(i % 4, i)),
                                _ => table.ino_owned(chunk(i % 4, i)),
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
        assert_eq!(table.key(0), None);
        assert_eq!(table.key(ROOT_INO).as_deref(), Some(&NodeKey::Dir(PathBuf::new())));
    }
}
