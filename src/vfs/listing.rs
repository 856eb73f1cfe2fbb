//! Cached listings of archive directories. Listing a directory sniffs every file in it, so
//! `find` over 10,000 datasets must not list the directory again for every lookup: a listing
//! is kept until the directory's mtime changes (entries added, removed or renamed).

use super::naming::{self, ArchiveEntry};
use moka::sync::Cache;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
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
    stac: bool,
    cache: Cache<PathBuf, Arc<Listing>>,
}

impl Listings {
    /// Listings below the canonical archive `root`, at most `capacity` directories kept;
    /// `stac`: with the STAC files.
    pub fn new(root: PathBuf, capacity: u64, stac: bool) -> Self {
        Listings { root, stac, cache: Cache::new(capacity) }
    }

    /// The listing of archive directory `rel` (relative to the root).
    pub fn get(&self, rel: &Path) -> io::Result<Arc<Listing>> {
        let dir = self.root.join(rel);
        let mtime = std::fs::metadata(&dir)?.modified()?;
        if let Some(hit) = self.cache.get(rel) {
            if hit.mtime == mtime {
                return Ok(hit);
            }
        }
        let entries = naming::list_dir(&self.root, &dir, self.stac)?;
        let by_name = entries.iter().enumerate().map(|(i, e)| (e.name().clone(), i)).collect();
        let listing = Arc::new(Listing { mtime, entries, by_name });
        self.cache.insert(rel.to_path_buf(), listing.clone());
        Ok(listing)
    }
}
