//! What a node of the tree is: [`NodeKey`], a path of the archive (a directory, a place inside
//! a dataset's store, a STAC file). The tree is addressed by these keys; how an adapter names
//! them (FUSE: inode numbers) is the adapter's business.

use super::naming::ArchiveEntry;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// A node of the tree. Hashed and compared by the bytes of its paths (see the `Hash`
/// implementation).
#[derive(Clone, Debug)]
pub enum NodeKey {
    /// A directory of the archive (relative path; empty for the root).
    Dir(PathBuf),
    /// A path inside the Zarr store of the source file `source` ("" = the store's root).
    Dataset { source: PathBuf, inner: String },
    /// The STAC item of `source`, whose store is shown as `store`.
    Item { source: PathBuf, store: std::ffi::OsString },
    /// The STAC catalog of an archive directory (relative path).
    Catalog(PathBuf),
    /// The quick-look image of `source`, whose store is shown as `store` (`--thumbnails`).
    Thumbnail { source: PathBuf, store: std::ffi::OsString },
    /// A path inside derived store `name` (its path in the tree; "" = the store's root).
    Derived { name: PathBuf, inner: String },
}

/// By bytes, not by path components as `Path` hashes and compares: twice as cheap, and the
/// same thing here, where every path is made by `join` of names (no "." or doubled "/").
impl Hash for NodeKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        std::mem::discriminant(self).hash(h);
        match self {
            NodeKey::Dir(rel) | NodeKey::Catalog(rel) => rel.as_os_str().hash(h),
            NodeKey::Dataset { source, inner } | NodeKey::Derived { name: source, inner } => {
                source.as_os_str().hash(h);
                inner.hash(h);
            }
            NodeKey::Item { source, store } | NodeKey::Thumbnail { source, store } => {
                source.as_os_str().hash(h);
                store.hash(h);
            }
        }
    }
}

impl PartialEq for NodeKey {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (NodeKey::Dir(a), NodeKey::Dir(b)) | (NodeKey::Catalog(a), NodeKey::Catalog(b)) => {
                a.as_os_str() == b.as_os_str()
            }
            (
                NodeKey::Dataset { source: a, inner: x },
                NodeKey::Dataset { source: b, inner: y },
            ) => x == y && a.as_os_str() == b.as_os_str(),
            (NodeKey::Item { source: a, store: x }, NodeKey::Item { source: b, store: y })
            | (
                NodeKey::Thumbnail { source: a, store: x },
                NodeKey::Thumbnail { source: b, store: y },
            ) => x == y && a.as_os_str() == b.as_os_str(),
            (NodeKey::Derived { name: a, inner: x }, NodeKey::Derived { name: b, inner: y }) => {
                x == y && a.as_os_str() == b.as_os_str()
            }
            _ => false,
        }
    }
}

impl Eq for NodeKey {}

impl NodeKey {
    /// The archive's root directory.
    pub fn root() -> NodeKey {
        NodeKey::Dir(PathBuf::new())
    }

    /// The source file this node is generated from, if any (a collection's or a derived
    /// store's: its store's path, which [`super::Stale`] names when one of its sources changes).
    pub fn source(&self) -> Option<&PathBuf> {
        match self {
            NodeKey::Dataset { source, .. }
            | NodeKey::Item { source, .. }
            | NodeKey::Thumbnail { source, .. }
            | NodeKey::Derived { name: source, .. } => Some(source),
            NodeKey::Dir(_) | NodeKey::Catalog(_) => None,
        }
    }

    /// The directory holding this node (the root's is the root).
    pub fn parent(&self) -> NodeKey {
        let dir_of = |p: &Path| NodeKey::Dir(p.parent().map(Path::to_path_buf).unwrap_or_default());
        match self {
            NodeKey::Dir(rel) => dir_of(rel),
            NodeKey::Catalog(rel) => NodeKey::Dir(rel.clone()),
            NodeKey::Item { source, .. } | NodeKey::Thumbnail { source, .. } => dir_of(source),
            NodeKey::Derived { name, inner } if inner.is_empty() => dir_of(name),
            NodeKey::Derived { name, inner } => NodeKey::Derived {
                name: name.clone(),
                inner: inner.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default(),
            },
            NodeKey::Dataset { source, inner } if inner.is_empty() => dir_of(source),
            NodeKey::Dataset { source, inner } => NodeKey::Dataset {
                source: source.clone(),
                inner: inner.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default(),
            },
        }
    }
}

/// The node `name` in directory `inner` of the store of `source`.
pub(super) fn store_child(source: &Path, inner: &str, name: &str) -> NodeKey {
    let inner = if inner.is_empty() { name.to_string() } else { format!("{inner}/{name}") };
    NodeKey::Dataset { source: source.to_path_buf(), inner }
}

/// The node of an entry of archive directory `rel`.
pub(super) fn entry_key(rel: &Path, entry: &ArchiveEntry) -> NodeKey {
    match entry {
        ArchiveEntry::Dir { name } => NodeKey::Dir(rel.join(name)),
        ArchiveEntry::Dataset { file, .. } => {
            NodeKey::Dataset { source: rel.join(file), inner: String::new() }
        }
        // a collection's source is its store's name (no file of the directory has that name)
        ArchiveEntry::Collection { name, .. } | ArchiveEntry::Ncml { name, .. } => {
            NodeKey::Dataset { source: rel.join(name), inner: String::new() }
        }
        ArchiveEntry::Item { file, store, .. } => {
            NodeKey::Item { source: rel.join(file), store: store.clone() }
        }
        ArchiveEntry::Thumbnail { file, store, .. } => {
            NodeKey::Thumbnail { source: rel.join(file), store: store.clone() }
        }
        ArchiveEntry::Derived { name } => {
            NodeKey::Derived { name: rel.join(name), inner: String::new() }
        }
        ArchiveEntry::Catalog { .. } => NodeKey::Catalog(rel.to_path_buf()),
    }
}
