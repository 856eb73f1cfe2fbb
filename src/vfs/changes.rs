//! What goes stale when a file of the archive changes (written, replaced, created, deleted,
//! renamed): the nodes generated from it (store, chunks, item), the names it had or now has
//! in its directory, that directory and its catalog. Computed here by key, without a kernel;
//! an adapter turns it into what its clients must forget (FUSE: inodes and entries).

use super::key::NodeKey;
use super::listing::Listing;
use super::naming::ArchiveEntry;
use super::Vfs;
use crate::source::sniff_path;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a change of one source file makes stale.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stale {
    /// The source (archive-relative): every node generated from it is stale.
    pub source: PathBuf,
    /// Its directory (archive-relative): the directory's node and its catalog are stale.
    pub dir: PathBuf,
    /// Names in `dir` that appeared, vanished or are the source's (positive or negative
    /// entries a client may hold).
    pub names: Vec<OsString>,
    /// The collections (their store's key, archive-relative) the source is or was a member
    /// of, and the derived stores computed from it or them: every node generated from them is
    /// stale too.
    pub collections: Vec<PathBuf>,
    /// Other directories whose listing the change made stale (`--union-parent`: a parent of
    /// variable trees), each with the names in it a client may hold stale.
    pub parents: Vec<(PathBuf, Vec<OsString>)>,
}

impl Stale {
    /// Whether node `key` is made stale by the change.
    pub fn covers(&self, key: &NodeKey) -> bool {
        match key {
            NodeKey::Dir(rel) | NodeKey::Catalog(rel) => {
                rel.as_os_str() == self.dir.as_os_str()
                    || self.parents.iter().any(|(p, _)| p.as_os_str() == rel.as_os_str())
            }
            NodeKey::Dataset { source, .. }
            | NodeKey::Item { source, .. }
            | NodeKey::Thumbnail { source, .. }
            | NodeKey::Derived { name: source, .. } => {
                source.as_os_str() == self.source.as_os_str()
                    || self.collections.iter().any(|c| c.as_os_str() == source.as_os_str())
            }
        }
    }
}

/// The stores of the collections in `listing` that `rel` (archive-relative) is a member of.
fn collections_of(listing: &Listing, rel: &Path) -> Vec<OsString> {
    let member = |m: &[PathBuf]| m.iter().any(|f| f.as_os_str() == rel.as_os_str());
    let of = |e: &ArchiveEntry| match e {
        ArchiveEntry::Collection { name, members, .. } if member(members) => Some(name.clone()),
        // an NcML file is its store's source
        ArchiveEntry::Ncml { name, file } if rel.file_name() == Some(file.as_os_str()) => {
            Some(name.clone())
        }
        _ => None,
    };
    listing.entries.iter().filter_map(of).collect()
}

/// Names that `file` (archive name) gives in `listing`: its store and item, or a directory,
/// and the store and item of each collection it is a member of.
fn names_of(listing: &Listing, rel: &Path, out: &mut BTreeSet<OsString>) {
    let Some(file) = rel.file_name() else { return };
    let stores = collections_of(listing, rel);
    let ours = |f: &OsString| f == file || stores.contains(f);
    for e in &listing.entries {
        let hit = match e {
            ArchiveEntry::Dataset { file: f, .. }
            | ArchiveEntry::Item { file: f, .. }
            | ArchiveEntry::Thumbnail { file: f, .. } => ours(f),
            ArchiveEntry::Collection { name, .. } | ArchiveEntry::Ncml { name, .. } => {
                stores.contains(name)
            }
            ArchiveEntry::Dir { name } => name == file,
            ArchiveEntry::Catalog { .. } | ArchiveEntry::Derived { .. } => false,
        };
        if hit {
            out.insert(e.name().clone());
        }
    }
}

fn all_names(listing: &Option<Arc<Listing>>) -> BTreeSet<OsString> {
    listing.iter().flat_map(|l| l.entries.iter().map(|e| e.name().clone())).collect()
}

impl Vfs {
    /// `rel` (archive-relative) changed: forget its dataset and say what is stale (`None`:
    /// `rel` names no file).
    /// `renamed`: entries of its directory were created, deleted or renamed; otherwise only
    /// content changed, and the directory is listed again only if that changed whether the
    /// file is shown (a new file whose magic bytes just arrived; one truncated to nothing), so
    /// a busy log file beside 10,000 datasets costs one sniff per change, not a listing.
    pub fn source_changed(&self, rel: &Path, renamed: bool) -> Option<Stale> {
        let dir = rel.parent().unwrap_or(Path::new("")).to_path_buf();
        rel.file_name()?;
        self.datasets.forget(&self.root.join(rel));
        // --union-parent: the parents of variable trees this change is in (vfs/union_parent.rs)
        let union_parents = self.union_parents_changed(rel);
        let mut parents = Vec::new();
        let before = self.listings.cached(&dir);
        let shown = before.as_ref().map(|l| {
            let mut names = BTreeSet::new();
            names_of(l, rel, &mut names);
            !names.is_empty()
        });
        let is_data = || matches!(sniff_path(&self.root.join(rel)), Ok(Some(_)));
        if renamed || shown.is_none_or(|shown| shown != is_data()) {
            self.listings.forget(&dir);
        }
        let after = self.listings.get(&dir).ok();
        // the file's own names, and every name that appeared or vanished (a new x.h5 renames
        // x.zarr to x.nc.zarr)
        let mut names: BTreeSet<OsString> =
            all_names(&before).symmetric_difference(&all_names(&after)).cloned().collect();
        for listing in before.iter().chain(after.iter()) {
            names_of(listing, rel, &mut names);
        }
        let names = names.into_iter().collect();
        let mut collections: Vec<PathBuf> = Vec::new();
        for listing in before.iter().chain(after.iter()) {
            for store in collections_of(listing, rel) {
                let key = dir.join(store);
                if !collections.contains(&key) {
                    self.datasets.forget(&self.root.join(&key));
                    collections.push(key);
                }
            }
        }
        // declared collections find their members anywhere: listed again, joined again
        for d in self.declared.iter().filter(|d| d.claims(rel)) {
            if let Some(parent) = d.name.parent() {
                self.listings.forget(parent);
            }
            self.datasets.forget(&self.root.join(&d.name));
            if !collections.contains(&d.name) {
                collections.push(d.name.clone());
            }
        }
        // NcML aggregations: the file itself, a member, a file where a scan looks
        for store in self.ncml_changed(rel) {
            if !collections.contains(&store) {
                collections.push(store);
            }
        }
        for p in union_parents {
            for s in p.stores {
                if !collections.contains(&s) {
                    collections.push(s);
                }
            }
            parents.push((p.dir, p.names));
        }
        // derived stores computed from the source or one of its collections
        if !self.derived.is_empty() {
            let mut from: Vec<&Path> = collections.iter().map(PathBuf::as_path).collect();
            from.push(rel);
            for name in self.derived_from(&from) {
                if !collections.contains(&name) {
                    collections.push(name);
                }
            }
        }
        Some(Stale { source: rel.to_path_buf(), dir, names, collections, parents })
    }

    /// Have `hook` called with each archive directory (relative path) when it is listed anew.
    pub fn on_directory_listed(&self, hook: Box<dyn Fn(&Path) + Send + Sync>) {
        self.listings.on_listed(hook);
    }

    /// The archive root (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }
}
