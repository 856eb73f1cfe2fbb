//! Pages of a directory of the tree: its entries from the `start`-th on, each with its name,
//! kind and [`NodeKey`], and the same with every entry's attributes (what FUSE READDIRPLUS
//! sends, what an HTTP listing with sizes would show), so that `find`, `rsync` and `ls -l`
//! need no lookup per entry. Every entry gets what [`Vfs::attr`] would answer, with one
//! exception: a STAC item's size is only known once its dataset is indexed and its
//! coordinates read, which a listing must not cause. Until an item has been generated once,
//! its entry carries a *provisional* attribute (size 0) that an adapter must let expire at
//! once, so the next `stat` or `read` asks for the real one.

use super::dataset::Loaded;
use super::identity::{Identity, SourceStat};
use super::key::{entry_key, store_child, NodeKey};
use super::naming::ArchiveEntry;
use super::node::{Attr, Kind};
use super::{Vfs, VfsError};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One entry of a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Child {
    pub name: OsString,
    pub kind: Kind,
    pub key: NodeKey,
}

/// A directory entry and the attributes an adapter may cache with it.
#[derive(Clone, Debug)]
pub struct Listed {
    pub child: Child,
    /// `None`: the entry cannot be stat'ed now (vanished, refused).
    pub attr: Option<Attr>,
    /// The attribute is a placeholder (see the module docs): cache it for no time at all.
    pub provisional: bool,
}

/// The sizes of the STAC items generated so far, by source file (archive-relative), each
/// valid for one source identity; dropped with the item's node ([`Vfs::released`]).
#[derive(Default)]
pub(super) struct ItemSizes(Mutex<HashMap<PathBuf, (Identity, u64)>>);

impl ItemSizes {
    pub(super) fn record(&self, source: &Path, identity: Identity, size: u64) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(source.to_path_buf(), (identity, size));
    }

    fn remove(&self, source: &Path) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(source);
    }

    pub(super) fn get(&self, source: &Path, identity: &Identity) -> Option<u64> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(source).filter(|(id, _)| id == identity).map(|(_, size)| *size)
    }
}

impl Vfs {
    /// At most `max` entries of directory `key` from the `start`-th on (0 is the first entry;
    /// no "." or ".."): the kernel reads big directories a page at a time, and a page must not
    /// cost the whole directory.
    pub fn list(&self, key: &NodeKey, start: usize, max: usize) -> Result<Vec<Child>, VfsError> {
        Ok(self.children(key, start, max)?.0)
    }

    /// [`Vfs::list`], and the dataset when `key` is inside a store.
    fn children(
        &self,
        key: &NodeKey,
        skip: usize,
        max: usize,
    ) -> Result<(Vec<Child>, Option<Arc<Loaded>>), VfsError> {
        match key {
            NodeKey::Dir(rel) => {
                let listing = self.archive_listing(rel)?;
                let page = listing.entries.iter().skip(skip).take(max).map(|e| {
                    let kind = match e {
                        ArchiveEntry::Dir { .. }
                        | ArchiveEntry::Dataset { .. }
                        | ArchiveEntry::Collection { .. }
                        | ArchiveEntry::Ncml { .. }
                        | ArchiveEntry::Derived { .. } => Kind::Dir,
                        ArchiveEntry::Item { .. }
                        | ArchiveEntry::Thumbnail { .. }
                        | ArchiveEntry::Catalog { .. } => Kind::File,
                    };
                    Child { name: e.name().clone(), kind, key: entry_key(rel, e) }
                });
                Ok((page.collect(), None))
            }
            NodeKey::Dataset { source, inner } => {
                if inner.is_empty() && skip == 0 {
                    if let Some(ahead) = self.walk_ahead.get() {
                        ahead.listed(self, source);
                    }
                }
                // a collection's members are all checked for a directory's first page
                let ds = self.dataset_checked(source, skip == 0)?;
                let children = ds.view.list_page(inner, skip, max).ok_or(VfsError::NotDir)?;
                let page = children.into_iter().map(|c| Child {
                    key: store_child(source, inner, &c.name),
                    kind: if c.is_dir { Kind::Dir } else { Kind::File },
                    name: c.name.into(),
                });
                Ok((page.collect(), Some(ds)))
            }
            NodeKey::Derived { name, inner } => {
                Ok((self.derived_list(name, inner, skip, max)?, None))
            }
            NodeKey::Catalog(_) | NodeKey::Item { .. } | NodeKey::Thumbnail { .. } => {
                Err(VfsError::NotDir)
            }
        }
    }

    /// At most `max` entries of directory `key` from the `start`-th on, as [`Vfs::list`], each
    /// with its attributes.
    pub fn list_attrs(
        &self,
        key: &NodeKey,
        start: usize,
        max: usize,
    ) -> Result<Vec<Listed>, VfsError> {
        // the dataset of a store's directory is resolved once per page, not once per entry,
        // and a source file once per page for its store and its item
        let (children, ds) = self.children(key, start, max)?;
        let mut stats: HashMap<PathBuf, Option<SourceStat>> = HashMap::new();
        let mut stat = |source: &Path| {
            stats
                .entry(source.to_path_buf())
                .or_insert_with(|| self.source_stat(source).ok())
                .ok_or(VfsError::NotFound)
        };
        let mut out = Vec::with_capacity(children.len());
        for child in children {
            let listed = match (&child.key, &ds) {
                (NodeKey::Dataset { inner, .. }, Some(ds)) => {
                    self.inner_attr(ds, inner).map(|a| (a, false))
                }
                (NodeKey::Dataset { source, inner }, None) if inner.is_empty() => {
                    stat(source).map(|s| (Attr::of_source(&s, Kind::Dir, 0), false))
                }
                (NodeKey::Item { source, .. }, _) => {
                    stat(source).map(|s| self.listed_sized(&self.item_sizes, source, &s))
                }
                (NodeKey::Thumbnail { source, .. }, _) => {
                    stat(source).map(|s| self.listed_sized(&self.thumb_sizes, source, &s))
                }
                (key, _) => self.attr(key).map(|a| (a, false)),
            };
            out.push(match listed {
                Ok((attr, provisional)) => Listed { child, attr: Some(attr), provisional },
                Err(_) => Listed { child, attr: None, provisional: false },
            });
        }
        Ok(out)
    }

    /// An item's (or thumbnail's) attributes without generating it: the size recorded in
    /// `sizes` when it was last generated from this very source (`stat`), else a
    /// provisional 0.
    fn listed_sized(&self, sizes: &ItemSizes, source: &Path, stat: &SourceStat) -> (Attr, bool) {
        let known = sizes.get(source, &stat.identity);
        (Attr::of_source(stat, Kind::File, known.unwrap_or(0)), known.is_none())
    }

    /// The adapter no longer holds node `key` (the kernel forgot it): what was kept for it
    /// (an item's size) goes with it.
    pub fn released(&self, key: &NodeKey) {
        match key {
            NodeKey::Item { source, .. } => self.item_sizes.remove(source),
            NodeKey::Thumbnail { source, .. } => self.thumb_sizes.remove(source),
            _ => {}
        }
    }
}
