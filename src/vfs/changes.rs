//! What the kernel must forget when a file of the archive changes (written, replaced, created,
//! deleted, renamed): the inodes generated from it (attributes and cached pages), the
//! directory entries whose names it had or now has, its directory and that directory's
//! catalog. Computed here without a kernel; sent by the watcher (`crate::watch`).

use super::inode::NodeKey;
use super::listing::Listing;
use super::naming::ArchiveEntry;
use super::Vfs;
use crate::source::sniff_path;
use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::Arc;

/// Kernel caches to drop.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Invalidation {
    /// Inodes whose attributes and cached pages are stale.
    pub inodes: Vec<u64>,
    /// Directory entries (parent inode, name) the kernel may hold, positive or negative.
    pub entries: Vec<(u64, OsString)>,
}

/// Names that `file` (archive name) gives in `listing`: its store and item, or a directory.
fn names_of(listing: &Listing, file: &OsStr, out: &mut BTreeSet<OsString>) {
    for e in &listing.entries {
        let hit = match e {
            ArchiveEntry::Dataset { file: f, .. } | ArchiveEntry::Item { file: f, .. } => f == file,
            ArchiveEntry::Dir { name } => name == file,
            ArchiveEntry::Catalog { .. } => false,
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
    /// `rel` (archive-relative) changed: forget its dataset and say what the kernel must drop.
    /// `renamed`: entries of its directory were created, deleted or renamed; otherwise only
    /// content changed, and the directory is listed again only if that changed whether the
    /// file is shown (a new file whose magic bytes just arrived; one truncated to nothing), so
    /// a busy log file beside 10,000 datasets costs one sniff per change, not a listing.
    pub fn source_changed(&self, rel: &Path, renamed: bool) -> Invalidation {
        let dir = rel.parent().unwrap_or(Path::new("")).to_path_buf();
        let Some(file) = rel.file_name() else { return Invalidation::default() };
        self.datasets.forget(&self.root.join(rel));
        let before = self.listings.cached(&dir);
        let shown = before.as_ref().map(|l| {
            let mut names = BTreeSet::new();
            names_of(l, file, &mut names);
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
            names_of(listing, file, &mut names);
        }
        let mut inodes = self.inodes.of_source(rel);
        let mut entries = Vec::new();
        if let Some(parent) = self.inodes.existing(&NodeKey::Dir(dir.clone())) {
            inodes.push(parent);
            entries = names.into_iter().map(|n| (parent, n)).collect();
        }
        inodes.extend(self.inodes.existing(&NodeKey::Catalog(dir)));
        Invalidation { inodes, entries }
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
