//! The tree by inode number, as the kernel addresses it: a thin layer over the path-addressed
//! [`Vfs`] that numbers the nodes the kernel holds ([`InodeTable`]: LOOKUP replies and
//! READDIRPLUS entries are references, FORGET gives them back) and turns a changed source's
//! stale keys into the inodes and entries the kernel must drop (negative ones too,
//! [`NegativeEntries`]). Kernel-free: the tests drive
//! it directly; the fuser callbacks (`adapter.rs`) call it one-to-one.

use super::inode::InodeTable;
use super::negative::NegativeEntries;
use crate::vfs::{Attr, Bytes, NodeKey, Vfs, VfsError};
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A node's number and attributes (a LOOKUP reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InoAttr {
    pub ino: u64,
    pub attr: Attr,
}

/// Kernel caches to drop when a source changes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Invalidation {
    /// Inodes whose attributes and cached pages are stale.
    pub inodes: Vec<u64>,
    /// Directory entries (parent inode, name) the kernel may hold, positive or negative.
    pub entries: Vec<(u64, OsString)>,
    /// The sources whose nodes are stale (archive-relative; a collection's: its store), for
    /// what is kept of them outside the kernel (local copies).
    pub sources: Vec<std::path::PathBuf>,
}

/// The tree of one mount, and the inode numbers of the nodes the kernel holds.
pub struct InodeVfs {
    vfs: Arc<Vfs>,
    pub(super) inodes: InodeTable,
    negative: NegativeEntries,
}

impl InodeVfs {
    /// Number the nodes of `vfs` (only its root so far).
    pub fn new(vfs: Arc<Vfs>) -> Self {
        InodeVfs { vfs, inodes: InodeTable::default(), negative: NegativeEntries::default() }
    }

    /// The path-addressed tree.
    pub fn vfs(&self) -> &Arc<Vfs> {
        &self.vfs
    }

    pub(super) fn key(&self, ino: u64) -> Result<Arc<NodeKey>, VfsError> {
        self.inodes.key(ino).ok_or(VfsError::NotFound)
    }

    /// Look up `name` in directory `parent`. The node found is one more reference the kernel
    /// holds, until it says [`InodeVfs::forget`].
    pub fn lookup(&self, parent: u64, name: &OsStr) -> Result<InoAttr, VfsError> {
        let parent = self.key(parent)?;
        let key = self.vfs.child(&parent, name)?;
        // numbered (and counted) only once found: a name that is not there costs the inode
        // table nothing
        let attr = self.vfs.attr(&key)?;
        Ok(InoAttr { ino: self.inodes.lookup(key), attr })
    }

    /// `name` was not found in directory `parent`: may the kernel cache that for `ttl` (a
    /// negative entry)? Yes, and it is remembered for [`InodeVfs::source_changed`], unless
    /// too many are remembered already.
    pub fn missing(&self, parent: u64, name: &OsStr, ttl: Duration) -> bool {
        !ttl.is_zero() && self.negative.remember(parent, name, ttl)
    }

    /// Attributes of `ino`.
    pub fn getattr(&self, ino: u64) -> Result<Attr, VfsError> {
        self.vfs.attr(&*self.key(ino)?)
    }

    /// The kernel dropped `n` references to each `(ino, n)` (FUSE FORGET): nodes it no longer
    /// holds leave the inode table, and a later lookup numbers them anew.
    pub fn forget(&self, refs: impl IntoIterator<Item = (u64, u64)>) {
        for (ino, key) in self.inodes.forget(refs) {
            self.negative.forget(ino);
            self.vfs.released(&key);
        }
    }

    /// How many nodes have an inode number now (the kernel's references and the root).
    pub fn nodes(&self) -> usize {
        self.inodes.count()
    }

    /// Check that `ino` may be opened for reading; writing is refused.
    pub fn open(&self, ino: u64, write: bool) -> Result<Attr, VfsError> {
        self.vfs.open(&*self.key(ino)?, write)
    }

    /// Read up to `size` bytes at `offset` of file `ino` (see [`Vfs::read`]).
    pub fn read(&self, ino: u64, offset: u64, size: u32) -> Result<Bytes, VfsError> {
        self.vfs.read(&*self.key(ino)?, offset, size)
    }

    /// `rel` (archive-relative) changed: what the kernel must drop, of what it may hold (the
    /// inodes made from the file, its directory's and catalog's, and the names that changed).
    pub fn source_changed(&self, rel: &Path, renamed: bool) -> Invalidation {
        let Some(stale) = self.vfs.source_changed(rel, renamed) else {
            return Invalidation::default();
        };
        let mut inodes = self.inodes.of_source(&stale.source);
        // the collections it is (or was) a member of: their stores, chunks and items
        for store in &stale.collections {
            inodes.extend(self.inodes.of_source(store));
        }
        let mut entries = Vec::new();
        if let Some(parent) = self.inodes.existing(&NodeKey::Dir(stale.dir.clone())) {
            inodes.push(parent);
            entries = stale.names.into_iter().map(|n| (parent, n)).collect();
        }
        inodes.extend(self.inodes.existing(&NodeKey::Catalog(stale.dir)));
        // union parents above the change (--union-parent)
        for (dir, names) in stale.parents {
            if let Some(parent) = self.inodes.existing(&NodeKey::Dir(dir.clone())) {
                inodes.push(parent);
                entries.extend(names.into_iter().map(|n| (parent, n)));
            }
            inodes.extend(self.inodes.existing(&NodeKey::Catalog(dir)));
        }
        // names answered missing in any of those directories may exist now
        entries.extend(self.negative.take(&inodes));
        let mut sources = stale.collections;
        sources.push(stale.source);
        Invalidation { inodes, entries, sources }
    }
}
