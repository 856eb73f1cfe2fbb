//! Walking ahead of a walk. `find`, `rsync` and `rclone` list the stores of a directory one
//! after the other, and each store's first listing waits for its dataset: its index read
//! back from the index directory, or made from the file. Such a walk is sequential (one
//! request at a time), so it leaves the other cores idle. When a store's root is listed,
//! the datasets of the next [`WINDOW`] stores of its directory are loaded on background
//! threads; the walk then finds them ready. Only the listing of a store's root starts it (an
//! `ls` of the directory, a `stat` or a read loads nothing more), and only the stores listed
//! after it in the directory, so a walk that stops costs at most [`WINDOW`] datasets loaded
//! for nothing. A load that fails does so as it would for the walk (logged, kept as failed).

use super::key::{entry_key, NodeKey};
use super::Vfs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, Weak};

/// How many stores after the one listed are loaded ahead.
pub const WINDOW: usize = 8;

/// The queue of datasets to load ahead, and how far each directory has been queued.
pub(super) struct WalkAhead {
    queue: SyncSender<PathBuf>,
    /// The directory walked last and the position in its listing up to which its stores
    /// were queued: a walk lists the stores in order, so each listing queues one more.
    queued: Mutex<(PathBuf, usize)>,
}

impl WalkAhead {
    /// Start `threads` background threads loading datasets of `vfs` (they end when the tree
    /// is dropped).
    pub(super) fn start(vfs: Weak<Vfs>, threads: usize) -> WalkAhead {
        let (queue, rx) = sync_channel::<PathBuf>(4 * WINDOW);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let (vfs, rx) = (vfs.clone(), rx.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("walk-ahead-{i}"))
                .spawn(move || load_queued(&vfs, &rx));
            if let Err(e) = spawned {
                tracing::warn!("cannot start a walk-ahead thread: {e}");
            }
        }
        WalkAhead { queue, queued: Mutex::new((PathBuf::new(), 0)) }
    }

    /// The root of store `source` (archive-relative) is being listed: queue the datasets of
    /// the stores after it in its directory's listing (if that listing is kept).
    pub(super) fn listed(&self, vfs: &Vfs, source: &Path) {
        let (Some(dir), Some(name)) = (source.parent(), source.file_name()) else {
            return;
        };
        let Some(listing) = vfs.listings.cached(dir) else {
            return;
        };
        let Some(pos) = listing.position_of_source(name) else {
            return;
        };
        let end = (pos + 1 + WINDOW).min(listing.entries.len());
        let start = {
            let mut queued = self.queued.lock().unwrap_or_else(|e| e.into_inner());
            let start = if queued.0 == dir { queued.1.max(pos + 1) } else { pos + 1 };
            // refilled when half of the window is left, not on every store: each refill
            // wakes a thread (a system call on the walk's path)
            let ahead = queued.0 == dir && queued.1 > pos + 1 + WINDOW / 2;
            if ahead || start >= end {
                return;
            }
            *queued = (dir.to_path_buf(), end);
            start
        };
        for entry in &listing.entries[start..end] {
            if let NodeKey::Dataset { source, .. } = entry_key(dir, entry) {
                match self.queue.try_send(source) {
                    Ok(()) => {}
                    // the threads are behind: the walk will load it itself
                    Err(TrySendError::Full(_)) => return,
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
        }
    }
}

/// Load the datasets queued until the tree is gone.
fn load_queued(vfs: &Weak<Vfs>, rx: &Mutex<Receiver<PathBuf>>) {
    loop {
        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(source) = next else { return };
        let Some(vfs) = vfs.upgrade() else { return };
        // an error is the walk's to report when it gets there (the dataset keeps it)
        let _ = vfs.dataset_checked(&source, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::VfsOptions;
    use std::time::{Duration, Instant};

    /// `vfs.datasets_kept().0` once it stops growing (the background loads done).
    fn kept_settled(vfs: &Vfs) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = (vfs.datasets_kept().0, Instant::now());
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            let now = vfs.datasets_kept().0;
            if now != last.0 {
                last = (now, Instant::now());
            } else if last.1.elapsed() > Duration::from_millis(500) {
                break;
            }
        }
        last.0
    }

    #[test]
    fn a_store_listed_loads_the_next_stores_of_its_directory_and_no_more() {
        let tmp = std::env::temp_dir().join(format!("cloudify-walk-ahead-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).expect("tmp");
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/netcdf3_single_record.nc");
        for i in 0..20 {
            std::fs::copy(&fixture, tmp.join(format!("f{i:02}.nc"))).expect("copy");
        }
        let options = VfsOptions { stac: Default::default(), ..VfsOptions::default() };
        let vfs = Arc::new(Vfs::new(&tmp, options).expect("vfs"));
        vfs.walk_ahead(1);
        let store = |i: usize| NodeKey::Dataset {
            source: format!("f{i:02}.nc").into(),
            inner: String::new(),
        };
        // listing the directory loads nothing
        assert_eq!(vfs.list(&NodeKey::root(), 0, usize::MAX).expect("root").len(), 20);
        assert_eq!(kept_settled(&vfs), 0);
        // the first store listed: it and the next WINDOW
        vfs.list(&store(0), 0, usize::MAX).expect("store 0");
        assert_eq!(kept_settled(&vfs), 1 + WINDOW as u64);
        // the walk goes on: the window is refilled once half of it is left
        for i in 1..WINDOW / 2 {
            vfs.list(&store(i), 0, usize::MAX).expect("store");
        }
        assert_eq!(kept_settled(&vfs), 1 + WINDOW as u64);
        vfs.list(&store(WINDOW / 2), 0, usize::MAX).expect("store");
        let walked = (WINDOW / 2 + 1 + WINDOW) as u64; // stores 0 to WINDOW * 3/2
        assert_eq!(kept_settled(&vfs), walked);
        // a jump near the end: store 17 and the two after it, not the ones jumped over
        vfs.list(&store(17), 0, usize::MAX).expect("store 17");
        assert_eq!(kept_settled(&vfs), walked + 3);
        drop(vfs);
        std::fs::remove_dir_all(&tmp).expect("cleanup");
    }
}
