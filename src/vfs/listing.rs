//! Cached listings of archive directories. Listing a directory sniffs every file in it, so
//! `find` over 10,000 datasets must not list the directory again for every lookup: a listing
//! is kept until the directory's mtime changes (entries added, removed or renamed).

use super::confine::Confinement;
use super::naming::{self, ArchiveEntry, ListOptions};
use super::VfsError;
use moka::sync::Cache;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

/// The visible entries of one directory, with a by-name index.
pub struct Listing {
    pub mtime: SystemTime,
    pub entries: Vec<ArchiveEntry>,
    by_name: HashMap<OsString, usize>,
}

impl Listing {
    /// The entry shown as `name`.
    pub fn find(&self, name: &OsStr) -> Option<&ArchiveEntry> {
        self.by_name.get(name).map(|i| &self.entries[*i])
    }
}

/// Listings of the archive's directories.
pub struct Listings {
    root: PathBuf,
    options: ListOptions,
    confinement: Confinement,
    cache: Cache<PathBuf, Arc<Listing>, foldhash::fast::RandomState>,
    /// Called with a directory's relative path whenever it is listed anew (the watcher).
    on_listed: OnceLock<ListedHook>,
}

/// See [`Listings::on_listed`].
pub type ListedHook = Box<dyn Fn(&Path) + Send + Sync>;

impl Listings {
    /// Listings below the canonical archive `root`, at most `capacity` directories kept.
    pub fn new(root: PathBuf, capacity: u64, options: ListOptions) -> Self {
        let confinement = Confinement::new(root.clone(), options.follow_symlinks);
        Listings {
            root,
            options,
            confinement,
            cache: Cache::builder()
                .max_capacity(capacity)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            on_listed: OnceLock::new(),
        }
    }

    /// Have `hook` called with every directory listed from now on (once per new listing).
    pub fn on_listed(&self, hook: ListedHook) {
        let _ = self.on_listed.set(hook);
    }

    /// Drop the listing of `rel`: the next use lists the directory again, whatever its mtime
    /// says (coarse timestamps can hide a change).
    pub fn forget(&self, rel: &Path) {
        self.cache.invalidate(rel);
    }

    /// The listing of `rel` as cached, without looking at the directory.
    pub fn cached(&self, rel: &Path) -> Option<Arc<Listing>> {
        self.cache.get(rel)
    }

    /// The listing of archive directory `rel` (relative to the root); refused when its real
    /// path has left the archive since it was shown (a link replaced).
    pub fn get(&self, rel: &Path) -> Result<Arc<Listing>, VfsError> {
        let dir = self.root.join(rel);
        let meta = std::fs::metadata(&dir)?;
        let mtime = meta.modified()?;
        self.confinement.check(&dir, meta.ino(), mtime)?;
        if let Some(hit) = self.cache.get(rel) {
            if hit.mtime == mtime {
                return Ok(hit);
            }
        }
        let entries = naming::list_dir(&self.root, &dir, self.options)?;
        let by_name = entries.iter().enumerate().map(|(i, e)| (e.name().clone(), i)).collect();
        let listing = Arc::new(Listing { mtime, entries, by_name });
        self.cache.insert(rel.to_path_buf(), listing.clone());
        if let Some(hook) = self.on_listed.get() {
            hook(rel);
        }
        Ok(listing)
    }
}
