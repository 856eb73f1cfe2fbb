//! Directory pages with attributes (what FUSE READDIRPLUS returns), so that `find`, `rsync`
//! and `ls -l` need no lookup per entry. Every entry gets what `getattr` would answer, with
//! one exception: a STAC item's size is only known once its dataset is indexed and its
//! coordinates read, which a listing must not cause. Until an item has been generated once,
//! its entry carries a *provisional* attribute (size 0) that the adapter must let expire at
//! once, so the next `stat` or `read` asks `getattr` for the real one.

use super::dataset::{Identity, SourceStat};
use super::inode::NodeKey;
use super::node::{Attr, DirEntry, Kind};
use super::{Vfs, VfsError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// A directory entry and the attributes the kernel may cache with it.
#[derive(Clone, Debug)]
pub struct EntryPlus {
    pub entry: DirEntry,
    /// `None`: the entry cannot be stat'ed now (vanished, refused). A READDIRPLUS reply has no
    /// way to list a name without attributes, so it is left out (its lookup would fail too).
    pub attr: Option<Attr>,
    /// The attribute is a placeholder (see the module docs): cache it for no time at all.
    pub provisional: bool,
}

impl EntryPlus {
    /// Whether listing this entry hands the kernel a reference to its node (FUSE counts one
    /// lookup for every READDIRPLUS entry but "." and "..").
    fn is_reference(&self) -> bool {
        self.attr.is_some() && self.entry.name != "." && self.entry.name != ".."
    }
}

/// The sizes of the STAC items generated so far, by source file (archive-relative), each
/// valid for one source identity; dropped with the item's node.
#[derive(Default)]
pub(super) struct ItemSizes(Mutex<HashMap<PathBuf, (Identity, u64)>>);

impl ItemSizes {
    pub(super) fn record(&self, source: &Path, identity: Identity, size: u64) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(source.to_path_buf(), (identity, size));
    }

    pub(super) fn remove(&self, source: &Path) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(source);
    }

    fn get(&self, source: &Path, identity: &Identity) -> Option<u64> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(source).filter(|(id, _)| id == identity).map(|(_, size)| *size)
    }
}

impl Vfs {
    /// At most `max` entries of directory `ino` from the `start`-th on, as
    /// [`Vfs::readdir_page`], each with its attributes. Every entry with attributes, "." and
    /// ".." aside, is a reference handed to the kernel (as a lookup is): those that do not
    /// make it into the reply must be given back with [`Vfs::unsent`].
    pub fn readdirplus_page(
        &self,
        ino: u64,
        start: usize,
        max: usize,
    ) -> Result<Vec<EntryPlus>, VfsError> {
        // the dataset of a store's directory is resolved once per page, not once per entry,
        // and a source file once per page for its store and its item
        let (entries, ds) = self.page(ino, start, max, true)?;
        let mut stats: HashMap<PathBuf, Option<SourceStat>> = HashMap::new();
        let mut stat = |source: &Path| {
            stats
                .entry(source.to_path_buf())
                .or_insert_with(|| self.source_stat(source).ok())
                .ok_or(VfsError::NotFound)
        };
        let mut plus = Vec::with_capacity(entries.len());
        for entry in entries {
            if entry.name == "." || entry.name == ".." {
                // the kernel never caches these two; any attribute of the right inode will do
                let attr = Attr {
                    ino: entry.ino,
                    kind: Kind::Dir,
                    size: 0,
                    mtime: SystemTime::UNIX_EPOCH,
                    perm: 0,
                    uid: 0,
                    gid: 0,
                };
                plus.push(EntryPlus { entry, attr: Some(attr), provisional: true });
                continue;
            }
            let ino = entry.ino;
            let listed = match (self.inodes.key(ino).as_deref(), &ds) {
                (Some(NodeKey::Dataset { inner, .. }), Some(ds)) => {
                    self.inner_attr(ino, ds, inner).map(|a| (a, false))
                }
                (Some(NodeKey::Dataset { source, inner }), None) if inner.is_empty() => {
                    stat(source).map(|s| (Attr::of_source(ino, &s, Kind::Dir, 0), false))
                }
                (Some(NodeKey::Item { source, .. }), _) => {
                    stat(source).map(|s| self.listed_item_attr(ino, source, &s))
                }
                (Some(key), _) => self.attr_of(ino, key).map(|a| (a, false)),
                (None, _) => Err(VfsError::NotFound),
            };
            plus.push(match listed {
                Ok((attr, provisional)) => EntryPlus { entry, attr: Some(attr), provisional },
                Err(_) => {
                    // not listed: not a reference
                    self.forget([(ino, 1)]);
                    EntryPlus { entry, attr: None, provisional: false }
                }
            });
        }
        Ok(plus)
    }

    /// Entries of a [`Vfs::readdirplus_page`] that were not sent to the kernel (its reply was
    /// full): their references are taken back.
    pub fn unsent(&self, entries: &[EntryPlus]) {
        self.forget(entries.iter().filter(|e| e.is_reference()).map(|e| (e.entry.ino, 1)));
    }

    /// An item's attributes without generating it: the size recorded when it was last
    /// generated from this very source (`stat`), else a provisional 0.
    fn listed_item_attr(&self, ino: u64, source: &Path, stat: &SourceStat) -> (Attr, bool) {
        let known = self.item_sizes.get(source, &stat.identity);
        (Attr::of_source(ino, stat, Kind::File, known.unwrap_or(0)), known.is_none())
    }
}
