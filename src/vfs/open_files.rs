//! The source files the tree keeps open, bounded. A dataset's chunks are read from its open
//! source file, and a collection's from each member's: kept open with every cached dataset,
//! 256 datasets of 1,000-member collections would hold 256,000 descriptors, more than most
//! systems allow a process (HPC nodes often give 4,096), and every `open` after that fails,
//! for any dataset. Here a file stays open while it is used and as long as the least
//! recently used others leave room; a reader holds its file for the read (a file evicted
//! meanwhile is closed when its last reader is done), and a file opened again is checked to
//! be the version indexed ([`DatasetError::Changed`] otherwise, so the dataset is indexed
//! again rather than read at the wrong offsets).

use super::dataset::DatasetError;
use super::identity::Identity;
use moka::sync::Cache;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Open source files, at most a given number.
pub struct OpenFiles {
    files: Cache<PathBuf, (Identity, Arc<File>), foldhash::fast::RandomState>,
}

impl OpenFiles {
    /// At most `max` files kept open (at least one).
    pub fn new(max: u64) -> Self {
        let files = Cache::builder()
            // LRU: a file just opened is always kept (moka's default admission could turn it
            // away, and every read of it would open it again)
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .max_capacity(max.max(1))
            .build_with_hasher(foldhash::fast::RandomState::default());
        OpenFiles { files }
    }

    /// Bounded by this process's soft open-files limit now (raised to the hard one at start
    /// by the binaries; systemd's default soft limit when it cannot be read).
    pub fn for_this_process() -> Self {
        let limit = crate::telemetry::limits::open_files().map_or(1024, |(soft, _)| soft);
        OpenFiles::new(OpenFiles::share_of(limit))
    }

    /// The number of files kept open for a process whose open-files limit is `limit`: a
    /// quarter of it (the server has up to three trees; descriptors are also needed for
    /// index files, the FUSE channel, sockets and pipes to workers), 16 to 65,536.
    pub fn share_of(limit: u64) -> u64 {
        (limit / 4).clamp(16, 65_536)
    }

    /// Keep `file`, the version `identity` of `path`, open (a file just opened for indexing;
    /// not kept if it is another version: the cache is shared by every dataset of the path).
    pub fn keep(&self, path: &Path, identity: Identity, file: File) {
        if file_identity(&file).ok() == Some(identity) {
            self.insert(path, identity, Arc::new(file));
        }
    }

    /// Insert, and close what is over the bound now: moka evicts lazily, and a join that
    /// opens its members one after the other must not hold more than the bound meanwhile.
    fn insert(&self, path: &Path, identity: Identity, file: Arc<File>) {
        self.files.insert(path.to_path_buf(), (identity, file));
        self.files.run_pending_tasks();
    }

    /// Whether `path` is open now.
    pub fn is_open(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }

    /// The open file of version `identity` of `path`: kept, or opened now and checked to be
    /// that version.
    pub fn get(&self, path: &Path, identity: Identity) -> Result<Arc<File>, DatasetError> {
        if let Some((id, file)) = self.files.get(path) {
            if id == identity {
                return Ok(file);
            }
        }
        let file = File::open(path).map_err(DatasetError::open(path))?;
        if file_identity(&file).map_err(DatasetError::open(path))? != identity {
            return Err(DatasetError::Changed { path: path.to_path_buf() });
        }
        let file = Arc::new(file);
        self.insert(path, identity, file.clone());
        Ok(file)
    }

    /// Files kept open now (after pending evictions).
    #[cfg(test)]
    pub fn count(&self) -> u64 {
        self.files.run_pending_tasks();
        self.files.entry_count()
    }
}

/// The version of an open file.
fn file_identity(file: &File) -> std::io::Result<Identity> {
    let m = file.metadata()?;
    Ok(Identity { ino: m.ino(), size: m.len(), mtime: m.modified()? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::stat_source;

    #[test]
    fn at_most_the_bound_is_kept_open_and_a_closed_file_is_opened_again() {
        let tmp = std::env::temp_dir().join(format!("cloudify-open-files-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).expect("tmp");
        let paths: Vec<PathBuf> = (0..5).map(|i| tmp.join(format!("f{i}"))).collect();
        for (i, p) in paths.iter().enumerate() {
            std::fs::write(p, vec![i as u8; 8]).expect("write");
        }
        let id = |p: &Path| stat_source(p).expect("stat").identity;
        let open = OpenFiles::new(2);
        let held = open.get(&paths[0], id(&paths[0])).expect("open");
        for p in &paths[1..] {
            open.get(p, id(p)).expect("open");
        }
        assert_eq!(open.count(), 2);
        // a file evicted while a reader holds it stays readable for that reader
        let mut b = [0u8; 1];
        std::os::unix::fs::FileExt::read_exact_at(&*held, &mut b, 3).expect("read");
        assert_eq!(b, [0]);
        // opened again when needed, and checked to be the version indexed
        let first = id(&paths[0]);
        assert!(open.get(&paths[0], first).is_ok());
        std::fs::write(&paths[0], b"another version").expect("rewrite");
        open.files.invalidate(paths[0].as_path());
        assert!(matches!(open.get(&paths[0], first), Err(DatasetError::Changed { .. })));
        std::fs::remove_dir_all(&tmp).expect("cleanup");
    }
}
