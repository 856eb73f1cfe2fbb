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
use std::sync::Arc;
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
    cache: Cache<PathBuf, Arc<Listing>>,
}

impl Listings {
    /// Listings below the canonical archive `root`, at most `capacity` directories kept.
    pub fn new(root: PathBuf, capacity: u64, options: ListOptions) -> Self {
        let confinement = Confinement::new(root.clone(), options.follow_symlinks);
        Listings { root, options, confinement, cache: Cache::new(capacity) }
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
        Ok(listing)
    }
}
