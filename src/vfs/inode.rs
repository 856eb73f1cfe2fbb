//! Inode numbers, stable for the life of the mount: a node keeps the number it got first.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::RwLock;

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

/// Bidirectional map between inode numbers and nodes, plus the inodes of each source file
/// (to invalidate them when it changes). Entries are never removed.
pub struct InodeTable {
    inner: RwLock<(HashMap<NodeKey, u64>, Vec<NodeKey>)>,
    by_source: RwLock<HashMap<PathBuf, Vec<u64>>>,
}

impl Default for InodeTable {
    fn default() -> Self {
        let root = NodeKey::Dir(PathBuf::new());
        let map = HashMap::from([(root.clone(), ROOT_INO)]);
        // index 0 is unused so that ino == position
        InodeTable {
            inner: RwLock::new((map, vec![root.clone(), root])),
            by_source: RwLock::new(HashMap::new()),
        }
    }
}

impl InodeTable {
    /// The inode of `key`, allocating one on first sight.
    pub fn ino(&self, key: &NodeKey) -> u64 {
        if let Some(ino) = self.read().0.get(key) {
            return *ino;
        }
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(ino) = guard.0.get(key) {
            return *ino;
        }
        let ino = guard.1.len() as u64;
        guard.1.push(key.clone());
        guard.0.insert(key.clone(), ino);
        if let Some(source) = key.source() {
            let mut by_source = self.by_source.write().unwrap_or_else(|e| e.into_inner());
            by_source.entry(source.clone()).or_default().push(ino);
        }
        ino
    }

    /// The inode of `key` if it has one.
    pub fn existing(&self, key: &NodeKey) -> Option<u64> {
        self.read().0.get(key).copied()
    }

    /// Every inode generated from source file `source` (archive-relative).
    pub fn of_source(&self, source: &std::path::Path) -> Vec<u64> {
        let by_source = self.by_source.read().unwrap_or_else(|e| e.into_inner());
        by_source.get(source).cloned().unwrap_or_default()
    }

    /// The node of inode `ino`.
    pub fn key(&self, ino: u64) -> Option<NodeKey> {
        if ino == 0 {
            return None;
        }
        self.read().1.get(ino as usize).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, (HashMap<NodeKey, u64>, Vec<NodeKey>)> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
}
