//! Cached listings of archive directories. Listing a directory sniffs every file in it, so
//! `find` over 10,000 datasets must not list the directory again for every lookup: a listing
//! is kept until the directory's mtime changes (entries added, removed or renamed), within a
//! bound on the entries kept (a listing weighs its entries), so that an archive of millions of
//! files costs the daemon no more than that.

use super::confine::Confinement;
use super::naming::{self, ArchiveEntry, ListOptions};
use super::VfsError;
use crate::collection::declared::Declared;
use crate::collection::declared_derived::DeclaredDerived;
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
    /// Directories below this one that were listed to make it (`--union-parent`): watched
    /// too, and a change in them lists this one again.
    pub looked_at: Vec<PathBuf>,
    /// Positions of the stores by the last name of their source (a data file's name, a
    /// collection's store name): made when first asked for (walking ahead).
    by_source: OnceLock<HashMap<OsString, usize>>,
}

impl Listing {
    /// The entry shown as `name`.
    pub fn find(&self, name: &OsStr) -> Option<&ArchiveEntry> {
        self.by_name.get(name).map(|i| &self.entries[*i])
    }

    /// The position of the store whose source (a file of this directory, or a collection's
    /// store name) is called `source`.
    pub fn position_of_source(&self, source: &OsStr) -> Option<usize> {
        let positions = self.by_source.get_or_init(|| {
            let sources = self.entries.iter().enumerate().filter_map(|(i, e)| match e {
                ArchiveEntry::Dataset { file, .. } => Some((file.clone(), i)),
                ArchiveEntry::Collection { name, .. } | ArchiveEntry::Ncml { name, .. } => {
                    Some((name.clone(), i))
                }
                _ => None,
            });
            sources.collect()
        });
        positions.get(source).copied()
    }
}

/// Listings of the archive's directories.
pub struct Listings {
    root: PathBuf,
    options: ListOptions,
    /// Declared collections: their stores in their directories, their members claimed.
    declared: Arc<Vec<Declared>>,
    confinement: Confinement,
    cache: Cache<PathBuf, Arc<Listing>, foldhash::fast::RandomState>,
    /// Called with a directory's relative path whenever it is listed anew (the watcher).
    on_listed: OnceLock<ListedHook>,
    /// Thumbnails beside items, and the declared derived stores (`generated.rs`).
    generated: (bool, Arc<Vec<DeclaredDerived>>),
}

/// See [`Listings::on_listed`].
pub type ListedHook = Box<dyn Fn(&Path) + Send + Sync>;

impl Listings {
    /// Listings below the canonical archive `root`, at most `capacity` entries kept (a
    /// directory counts one more than its entries; one larger than `capacity` is still taken,
    /// alone, until the next listing displaces it).
    pub fn new(
        root: PathBuf,
        capacity: u64,
        options: ListOptions,
        declared: Arc<Vec<Declared>>,
    ) -> Self {
        let max = u32::try_from(capacity.max(1)).unwrap_or(u32::MAX);
        let confinement = Confinement::new(root.clone(), options.follow_symlinks);
        Listings {
            root,
            options,
            declared,
            confinement,
            // LRU: a listing is always kept at first (moka's default admission would turn
            // away a big one in favour of small popular ones, and every page of a big
            // directory would list it again)
            cache: Cache::builder()
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .max_capacity(u64::from(max))
                .weigher(move |_, l: &Arc<Listing>| {
                    u32::try_from(l.entries.len() + 1).unwrap_or(u32::MAX).min(max)
                })
                .build_with_hasher(foldhash::fast::RandomState::default()),
            on_listed: OnceLock::new(),
            generated: (false, Arc::default()),
        }
    }

    /// Show a thumbnail beside every item (`thumbnails`) and the derived stores `derived`.
    pub fn show_generated(mut self, thumbnails: bool, derived: Arc<Vec<DeclaredDerived>>) -> Self {
        self.generated = (thumbnails, derived);
        self
    }

    /// Have `hook` called with every directory listed from now on (once per new listing).
    pub fn on_listed(&self, hook: ListedHook) {
        let _ = self.on_listed.set(hook);
    }

    /// Have `rel` watched like a listed directory (the hook of [`Listings::on_listed`]),
    /// without listing it: a directory an NcML scan reads.
    pub fn watch(&self, rel: &Path) {
        if let Some(hook) = self.on_listed.get() {
            hook(rel);
        }
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
        let mut entries = naming::list_dir(&self.root, &dir, self.options, &self.declared)?;
        let looked_at = match self.options.union_parent {
            true => {
                super::union_parent::add_stores(&self.root, rel, &mut entries, self.options.stac)
            }
            false => Vec::new(),
        };
        let (thumbnails, derived) = &self.generated;
        if *thumbnails || !derived.is_empty() {
            super::generated::add_entries(&mut entries, rel, *thumbnails, derived);
        }
        let by_name = entries.iter().enumerate().map(|(i, e)| (e.name().clone(), i)).collect();
        let by_source = OnceLock::new();
        let listing = Arc::new(Listing { mtime, entries, by_name, looked_at, by_source });
        self.cache.insert(rel.to_path_buf(), listing.clone());
        if let Some(hook) = self.on_listed.get() {
            hook(rel);
            listing.looked_at.iter().for_each(|d| hook(d));
        }
        Ok(listing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_kept_are_bounded_by_their_entries() {
        let root = std::env::temp_dir().join(format!("cloudify-listings-{}", std::process::id()));
        for d in 0..3 {
            for e in 0..50 {
                std::fs::create_dir_all(root.join(format!("d{d}/e{e}"))).expect("mkdir");
            }
        }
        let root = root.canonicalize().expect("root");
        let options = ListOptions::default();
        let listings = Listings::new(root.clone(), 120, options, Arc::default());
        for d in 0..3 {
            assert_eq!(listings.get(Path::new(&format!("d{d}"))).expect("list").entries.len(), 50);
        }
        listings.cache.run_pending_tasks();
        // 51 each: two fit in 120, not three
        assert_eq!((listings.cache.entry_count(), listings.cache.weighted_size()), (2, 102));
        // a directory larger than the bound is still taken, however often the listings it
        // displaces were used before
        let small = Listings::new(root.clone(), 60, options, Arc::default());
        for _ in 0..20 {
            small.get(Path::new("d1/e1")).expect("list");
            small.get(Path::new("d1/e2")).expect("list");
        }
        for d in ["d0", "d1"] {
            let big = small.get(Path::new(d)).expect("list");
            small.cache.run_pending_tasks();
            assert!(Arc::ptr_eq(&big, &small.cached(Path::new(d)).expect("kept")), "{d}");
        }
        std::fs::remove_dir_all(&root).expect("cleanup");
    }
}
