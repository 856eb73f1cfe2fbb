//! `--union-parent` in the tree: a directory whose sub-directories are CMIP/CORDEX-style
//! variable trees (`collection::cmip_tree`) also shows one store per grid label merging the
//! variables' aggregates (and its item). Recognised when the directory is listed, from
//! listings of its sub-trees alone; every directory looked at is watched, and a change in any
//! of them (a new version, a new variable, a member written) lists the parent again and makes
//! its stores join again.

use super::listing::Listing;
use super::naming::{item_name, ArchiveEntry};
use super::Vfs;
use crate::collection::cmip_tree::{combine, recognise};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use tracing::warn;

/// Add the union stores of archive directory `rel` (and their items, with `stac`) to its
/// `entries`; the directories looked at to find them are returned.
pub(super) fn add_stores(
    root: &Path,
    rel: &Path,
    entries: &mut Vec<ArchiveEntry>,
    stac: bool,
) -> Vec<PathBuf> {
    let subdirs: Vec<OsString> = entries
        .iter()
        .filter_map(|e| match e {
            ArchiveEntry::Dir { name } => Some(name.clone()),
            _ => None,
        })
        .collect();
    let found = recognise(root, rel, &subdirs);
    for store in found.stores {
        let name = store.name.clone();
        let item = OsString::from_vec(item_name(name.as_bytes()));
        if entries.iter().any(|e| *e.name() == name || (stac && *e.name() == item)) {
            warn!(dir = %rel.display(), store = ?name, "union store not shown: its name is taken");
            continue;
        }
        if stac {
            entries.push(ArchiveEntry::Item {
                name: item,
                file: name.clone(),
                store: name.clone(),
            });
        }
        let members = store.members().into();
        entries.push(ArchiveEntry::Collection { name, members, how: combine() });
    }
    entries.sort_by(|a, b| a.name().cmp(b.name()));
    found.looked_at
}

/// The union stores of `listing`.
fn union_stores(listing: &Listing) -> impl Iterator<Item = &OsString> {
    listing.entries.iter().filter_map(|e| match e {
        ArchiveEntry::Collection { name, how, .. } if *how == combine() => Some(name),
        _ => None,
    })
}

/// A union parent whose stores a change made stale: the directory, and the names in it that
/// a client may hold stale (its stores and items, and names that appeared or vanished).
pub struct StaleParent {
    pub dir: PathBuf,
    pub names: Vec<OsString>,
    pub stores: Vec<PathBuf>,
}

impl Vfs {
    /// The union parents above `rel` (archive-relative, changed) that looked at its directory
    /// to find their stores, or its directory itself when it has union stores (a variable
    /// added or removed): listed again (and so watched anew), their stores joined again.
    /// Called before the change's own directory is listed again.
    pub(super) fn union_parents_changed(&self, rel: &Path) -> Vec<StaleParent> {
        let Some(dir) = rel.parent() else { return Vec::new() };
        let mut out = Vec::new();
        // a variable tree is at most four levels below its parent (V/grid/version/file)
        for parent in rel.ancestors().skip(1).take(5) {
            let Some(before) = self.listings.cached(parent) else { continue };
            let own = parent == dir && union_stores(&before).next().is_some();
            if !own && !before.looked_at.iter().any(|d| d == dir) {
                continue;
            }
            self.listings.forget(parent);
            let after = self.listings.get(parent).ok();
            let mut names: Vec<OsString> = Vec::new();
            let mut stores: Vec<PathBuf> = Vec::new();
            for listing in std::iter::once(&before).chain(after.as_ref()) {
                for store in union_stores(listing) {
                    self.datasets.forget(&self.root.join(parent).join(store));
                    let key = parent.join(store);
                    if !stores.contains(&key) {
                        stores.push(key);
                        names.push(store.clone());
                        names.push(OsString::from_vec(item_name(store.as_bytes())));
                    }
                }
            }
            let all = |l: &Listing| -> Vec<OsString> {
                l.entries.iter().map(|e| e.name().clone()).collect()
            };
            let old = all(&before);
            let new = after.as_deref().map(all).unwrap_or_default();
            names.extend(old.iter().filter(|n| !new.contains(n)).cloned());
            names.extend(new.iter().filter(|n| !old.contains(n)).cloned());
            names.sort();
            names.dedup();
            out.push(StaleParent { dir: parent.to_path_buf(), names, stores });
        }
        out
    }
}
