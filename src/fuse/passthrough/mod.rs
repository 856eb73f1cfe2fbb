//! Local copies of re-read files, served by FUSE passthrough (`--passthrough-cache SIZE`), as
//! rclone's `--vfs-cache-mode full` or mountpoint-s3's `--cache` keep one: the kernel reads a
//! passthrough file from its backing file as from any local file, without the FUSE page-cache read
//! path (which costs ~1.45× ext4's CPU per byte) and without asking the daemon.
//!
//! What this module owns is the bookkeeping, kernel-free ([`Copies`], driven by its tests through
//! the [`CopySource`] trait; `open.rs` is the fuser side, `copy.rs` makes one copy):
//!
//! - **Admission on a re-read.** The bytes FUSE reads served of files inside a store are counted
//!   per node and version ([`Version`]: the source's inode, size and mtime, and the file's size);
//!   files of at least [`MIN_SIZE`] bytes are copied (measured: below it passthrough's per-open
//!   cost outweighs what it saves) once they have been read in full: the opens until then are
//!   served by FUSE reads as without the cache; the first open after that makes an unnamed
//!   `O_TMPFILE` file, registers it with the kernel and is itself served by FUSE reads, while one
//!   of [`FILLERS`] threads writes the file's bytes once into the copy (through the tree's read
//!   path, in large pieces; up to [`MAX_PENDING`] copies wait for them); the opens after the
//!   copy is filled, once no handle reads the file through FUSE, answer passthrough. A one-pass
//!   `rsync` of the mount copies nothing, nor does a reader that opens a file several times for a
//!   few of its bytes (zarr opens a shard for its index, then for each chunk it wants): a shard
//!   is copied only once all of it has been read.
//! - **Bounded.** The copies' bytes on disk never exceed SIZE: a copy is admitted only when copies
//!   nobody has open, least recently opened first, can be dropped to make room; bytes are counted
//!   from its admission (a copy being filled holds its room) until the last reference to it goes
//!   (an open file included).
//! - **A source change** makes a copy unused: at the next open (another version) or when the
//!   watcher reports it ([`Copies::source_changed`]), it is dropped; a copy being filled then is
//!   not used.
//! - **The kernel's rules** (fs/fuse/iomode.c, kernel 6.9+): an inode is open in one mode at a
//!   time. A passthrough open while the inode is open for FUSE reads fails (ETXTBSY), a FUSE-read
//!   open while it is open in passthrough fails (EINVAL), and every passthrough open of an inode
//!   open in passthrough must name the same backing file (EBUSY); the user sees EIO (checked on
//!   6.18 with a probe file system: a passthrough open while the file is open for FUSE reads, and a
//!   FUSE-read open while it is open in passthrough, both EIO; and `FOPEN_KEEP_CACHE` with
//!   passthrough is refused too). The kernel drops the inode's mode before it sends the RELEASE of
//!   its last handle, so once the daemon has seen every RELEASE the other mode is allowed. So an
//!   open answers the mode and the copy the handles still open use: an open of a file open for
//!   FUSE reads is served by FUSE reads (counted as a fallback when a copy is ready; the open that
//!   would use it first waits up to [`RELEASE_WAIT`], once per version, for the RELEASE the kernel
//!   sent before it: `cat f; cat f` may otherwise find the first `cat`'s RELEASE still in another
//!   thread), and while a file is open on a copy of an older version, new opens get that copy too
//!   (as readers of a replaced file that keep it open), logged. No open waits for a copy: one
//!   being filled is not used yet.
//! - **Dropping a copy never breaks a file open on it.** `FUSE_DEV_IOC_BACKING_CLOSE` only removes
//!   the id from the connection's table and drops that reference: each open file holds its own
//!   reference to the backing file (and the inode one more while it is open in passthrough), so
//!   reads go on until it is closed, and the unnamed file's blocks are freed with the last
//!   reference (checked on 6.18: a file open on a backing id that the daemon then closed, its own
//!   descriptor closed and the backing file unlinked, read all its 16 MiB correctly, from any
//!   offset). The id itself is kept until the daemon sees the RELEASE of every handle answered with
//!   it (the kernel looks the id up when it processes the open reply, after the daemon sent it).
//!
//! Anything that fails (no passthrough in the kernel, not root: the registration needs
//! CAP_SYS_ADMIN, a full disk, a read error while copying) is one log line and the file is served
//! as without the cache; an open never fails because of it.

mod copy;
pub mod open;
mod state;
#[cfg(test)]
mod tests;

use copy::fill;
pub use copy::{unnamed_file, CopySource, PassthroughError};
use state::{Handles, State};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::telemetry::log_limit;
use crate::telemetry::stats::STATS;
use crate::vfs::{Identity, NodeKey};

/// Files smaller than this are never copied: their reads are few and the copy's open, write
/// and registration cost about what passthrough saves (measured in docs/BENCHMARKS.md).
pub const MIN_SIZE: u64 = 1 << 20;
/// Files remembered (opened once, or holding a copy); past it the least recently opened
/// that no handle uses are forgotten. ~100 bytes each.
const MAX_FILES: usize = 65_536;
/// Copies admitted and not yet filled (each an unnamed file, a descriptor and a kernel
/// registration); an open that would admit one more is served by FUSE reads and copies at a
/// later open. Enough for a store's re-read to admit all its files ≥ 1 MiB while the fillers
/// work (at 16, a re-read of 32 chunk files of 16 MiB left half of them to the read after,
/// which then ran beside their fills).
const MAX_PENDING: usize = 64;
/// Threads filling copies (each holds a piece of [`copy::PIECE`] bytes).
pub const FILLERS: usize = 2;

/// How long the open that would use a copy waits for the RELEASE of its file's last FUSE-read
/// handle (see [`Copies::open`]).
const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_millis(10);

/// The version of a file a copy holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    /// The source's identity (see [`crate::vfs::Vfs::open_versioned`]).
    pub source: Identity,
    /// The file's size.
    pub size: u64,
}

/// The cache's settings.
#[derive(Clone, Debug)]
pub struct CacheOptions {
    /// Bytes the copies may hold on disk.
    pub bytes: u64,
    /// Where the unnamed copies are made.
    pub dir: PathBuf,
    /// Smaller files are never copied.
    pub min_size: u64,
}

/// A copy registered with the kernel. Its bytes count against the budget until the last
/// reference (the cache's, an open handle's) is dropped.
pub struct Copy<B> {
    /// The kernel's reference to the copy: the daemon's own descriptor is closed once the
    /// copy is filled (a cache of many copies must not hold a descriptor each: it would
    /// exhaust the open-files limit every dataset needs), the kernel keeps the file.
    backing: B,
    version: Version,
    held: Arc<AtomicU64>,
}

impl<B> Copy<B> {
    /// What the kernel knows the copy by.
    pub fn backing(&self) -> &B {
        &self.backing
    }
}

impl<B> Drop for Copy<B> {
    fn drop(&mut self) {
        self.held.fetch_sub(self.version.size, Relaxed);
    }
}

/// How to answer an open.
pub enum Opened<B> {
    /// By FUSE reads, with this handle.
    Cached(u64),
    /// By passthrough to this copy, with this handle.
    Passthrough(u64, Arc<Copy<B>>),
}

/// A copy admitted by an open, registered and still empty: [`Copies::fill`] fills it.
pub struct Job<B> {
    key: Arc<NodeKey>,
    file: File,
    copy: Copy<B>,
}

impl<B> Job<B> {
    /// The file to copy.
    pub fn key(&self) -> &Arc<NodeKey> {
        &self.key
    }
}

/// The handle of opens the cache does not follow (files outside stores: STAC files,
/// thumbnails, derived stores).
pub const UNTRACKED: u64 = 0;

/// The copies of one mount, and the open handles of the files they may serve.
pub struct Copies<B> {
    options: CacheOptions,
    state: Mutex<State<B>>,
    /// Signalled when a file's last handle is released (the open that would use a copy
    /// waits for it, briefly).
    changed: Condvar,
    /// Signalled when a copy is queued.
    work: Condvar,
    /// Bytes of the copies alive and being written.
    held: Arc<AtomicU64>,
    /// The kernel refused a registration for good (no CAP_SYS_ADMIN, no passthrough).
    off: AtomicBool,
}

impl<B> Copies<B> {
    /// An empty cache.
    pub fn new(options: CacheOptions) -> Self {
        let state = State {
            files: HashMap::new(),
            lru: BTreeMap::new(),
            tick: 0,
            handles: HashMap::new(),
            next_fh: UNTRACKED + 1,
            copying: 0,
            closed: false,
            queue: VecDeque::new(),
        };
        Copies {
            options,
            state: Mutex::new(state),
            changed: Condvar::new(),
            work: Condvar::new(),
            held: Arc::new(AtomicU64::new(0)),
            off: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<B>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Copies the cache holds, and the bytes of copies on disk (dropped ones still open
    /// included).
    pub fn held(&self) -> (u64, u64) {
        let st = self.lock();
        let copies = st.files.values().filter(|e| e.copy.is_some()).count() as u64;
        (copies, self.held.load(Relaxed))
    }

    /// Copies admitted and not yet filled.
    pub fn filling(&self) -> u64 {
        self.lock().copying as u64
    }

    /// An open of file `key` at `version`: how to answer it. A copy it admits is registered
    /// (by `register`) and queued for a filler ([`Copies::wait_job`], [`Copies::fill`]). The
    /// handle returned is given back by [`Copies::release`]. No open waits for a copy: until
    /// one is filled its file is served by FUSE reads.
    pub fn open(
        &self,
        key: &Arc<NodeKey>,
        version: Version,
        register: impl FnOnce(&File) -> std::io::Result<B>,
    ) -> Opened<B> {
        // small files are never copied, but their handles are followed too: a file open for
        // FUSE reads at a small version must not be answered passthrough at a large one
        let mut st = self.lock();
        // the open that would use a copy finds the file open for FUSE reads: most often the
        // RELEASE of the reader that just closed it is being handled by another thread (the
        // kernel sent it first); wait for it, briefly and once per version
        let is_cached = |st: &State<B>| {
            st.files.get(key).is_some_and(|e| matches!(e.handles, Handles::Cached(_)))
        };
        // (an entry's copy is always of its version: a new version drops it)
        let ready =
            st.files.get(key).is_some_and(|e| e.version == version && e.copy.is_some() && !e.busy);
        if ready && is_cached(&st) {
            let (guard, wait) = self
                .changed
                .wait_timeout_while(st, RELEASE_WAIT, |st| is_cached(st))
                .unwrap_or_else(|e| e.into_inner());
            st = guard;
            if wait.timed_out() {
                st.entry(key).busy = true;
            }
        }
        let fh = st.next_fh;
        st.next_fh += 1;
        st.handles.insert(fh, key.clone());
        let closed = st.closed;
        let e = st.touch(key, version);
        match &mut e.handles {
            Handles::Passthrough(n, copy) => {
                *n += 1;
                if copy.version != version {
                    tracing::info!(file = ?key, "opened while open on a copy of its former \
                        version: served that copy until every handle on it is closed");
                }
                STATS.passthrough_opened();
                return Opened::Passthrough(fh, copy.clone());
            }
            Handles::Cached(n) => {
                *n += 1;
                if e.copy.is_some() {
                    STATS.passthrough_fell_back();
                    return Opened::Cached(fh);
                }
            }
            Handles::Idle => {
                if let Some(copy) = &e.copy {
                    e.handles = Handles::Passthrough(1, copy.clone());
                    STATS.passthrough_opened();
                    return Opened::Passthrough(fh, copy.clone());
                }
                e.handles = Handles::Cached(1);
            }
        }
        // served by FUSE reads; it admits a copy of a file read in full (whatever else has
        // it open: the copy is used once nothing reads the file through FUSE)
        if !e.read_in_full()
            || e.failed
            || e.copying
            || version.size < self.options.min_size
            || self.off.load(Relaxed)
            || closed
        {
            return Opened::Cached(fh);
        }
        if st.copying >= MAX_PENDING || !st.make_room(key, version.size, &self.options, &self.held)
        {
            STATS.passthrough_fell_back();
            return Opened::Cached(fh);
        }
        // the room is taken now; the file made and registered without the lock (a panic there,
        // a bug, must not leave the room taken and the file "copying" for ever)
        self.held.fetch_add(version.size, Relaxed);
        st.copying += 1;
        st.entry(key).copying = true;
        drop(st);
        let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            unnamed_file(&self.options.dir)
                .and_then(|file| Ok((register(&file).map_err(PassthroughError::Register)?, file)))
        }))
        .unwrap_or_else(|_| Err(PassthroughError::Panicked));
        match made {
            Ok((backing, file)) => {
                let copy = Copy { backing, version, held: self.held.clone() };
                let mut st = self.lock();
                if st.closed {
                    // the mount ended meanwhile: dropped (its room and registration with it)
                    st.copying -= 1;
                    st.entry(key).copying = false;
                    self.changed.notify_all();
                } else {
                    st.queue.push_back(Job { key: key.clone(), file, copy });
                    self.work.notify_one();
                }
            }
            Err(err) => {
                self.held.fetch_sub(version.size, Relaxed);
                let _ = self.done(key, version, Err(err));
            }
        }
        Opened::Cached(fh)
    }

    /// The next copy to fill, if one is queued (the tests fill copies on their own thread).
    #[cfg(test)]
    fn next_job(&self) -> Option<Job<B>> {
        self.lock().queue.pop_front()
    }

    /// The next copy to fill, waited for; none once [`Copies::close`] was called.
    pub fn wait_job(&self) -> Option<Job<B>> {
        let mut st = self.lock();
        loop {
            if st.closed {
                return None;
            }
            if let Some(job) = st.queue.pop_front() {
                return Some(job);
            }
            st = self.work.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The mount ended: the copies queued are dropped, the fillers stop, and the copies being
    /// filled are waited for (up to `wait`), so that nothing reads the tree after this returns.
    pub fn close(&self, wait: std::time::Duration) {
        let mut st = self.lock();
        st.closed = true;
        let queued: Vec<Job<B>> = st.queue.drain(..).collect();
        st.copying -= queued.len();
        for job in &queued {
            if let Some(e) = st.files.get_mut(&job.key) {
                e.copying = false;
            }
        }
        self.work.notify_all();
        let (st, _) = self
            .changed
            .wait_timeout_while(st, wait, |st| st.copying > 0)
            .unwrap_or_else(|e| e.into_inner());
        drop(st);
        drop(queued);
    }

    /// Fill the copy `job` (queued by [`Copies::open`]) with the bytes of `src`; later opens of its
    /// file are answered by passthrough to it once no handle reads the file through FUSE. True
    /// when the copy is in use from now on and no handle reads the file through FUSE: its pages
    /// in the kernel's FUSE page cache are of no more use.
    pub fn fill<S: CopySource>(&self, job: Job<B>, src: &S) -> bool {
        let Job { key, file, copy } = job;
        // a panic while copying (a bug) must not leave the file "copying" for ever
        let filled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fill(&file, copy.version, src)
        }))
        .unwrap_or_else(|_| Err(PassthroughError::Panicked));
        // the kernel holds the file through the registration
        drop(file);
        let version = copy.version;
        self.done(&key, version, filled.map(|()| copy))
    }

    /// The end of a copy of `key` at `version`: the entry gets it (if still at that version),
    /// or is marked failed for that version. True when it got it and no handle is open.
    fn done(
        &self,
        key: &Arc<NodeKey>,
        version: Version,
        made: Result<Copy<B>, PassthroughError>,
    ) -> bool {
        let mut st = self.lock();
        st.copying -= 1;
        self.changed.notify_all(); // (close waits for the copies being filled)
        let Some(e) = st.files.get_mut(key) else { return false };
        e.copying = false;
        if std::mem::take(&mut e.outdated) || e.version != version {
            return false; // the source changed, or opened at another version since: of no use
        }
        match made {
            Ok(copy) => {
                e.copy = Some(Arc::new(copy));
                STATS.copy_made(version.size, self.held.load(Relaxed));
                matches!(e.handles, Handles::Idle)
            }
            Err(err) => {
                e.failed = true;
                drop(st);
                self.failed(key, &err);
                // the open that admitted it was meant for a copy
                STATS.passthrough_fell_back();
                false
            }
        }
    }

    /// One log line for a copy that failed; a refusal by the kernel turns the cache off.
    fn failed(&self, key: &NodeKey, err: &PassthroughError) {
        if err.kernel_refuses() {
            if !self.off.swap(true, Relaxed) {
                tracing::warn!("passthrough cache off: {err}; files are served by FUSE reads");
            }
            return;
        }
        let file = key.source().map_or(Path::new(""), PathBuf::as_path);
        if let Some(suppressed) = log_limit::allow(file, err.cause()) {
            tracing::warn!(file = ?key, suppressed, "no local copy, served by FUSE reads: {err}");
        }
    }

    /// `n` bytes were read through handle `fh` by FUSE reads (counted towards its file's
    /// admission).
    pub fn read(&self, fh: u64, n: usize) {
        if fh == UNTRACKED {
            return;
        }
        let mut st = self.lock();
        let st = &mut *st;
        if let Some(e) = st.handles.get(&fh).and_then(|key| st.files.get_mut(key)) {
            e.read = e.read.saturating_add(n as u64);
        }
    }

    /// Handle `fh` was closed (FUSE RELEASE).
    pub fn release(&self, fh: u64) {
        if fh == UNTRACKED {
            return;
        }
        let mut st = self.lock();
        let Some(key) = st.handles.remove(&fh) else { return };
        let Some(e) = st.files.get_mut(&key) else { return };
        e.handles = match std::mem::replace(&mut e.handles, Handles::Idle) {
            Handles::Cached(n) if n > 1 => Handles::Cached(n - 1),
            Handles::Passthrough(n, copy) if n > 1 => Handles::Passthrough(n - 1, copy),
            _ => {
                self.changed.notify_all();
                Handles::Idle
            }
        };
    }

    /// The sources (archive-relative; a collection's: its store) changed: their files' copies
    /// are dropped (files open on them keep reading them until closed).
    pub fn source_changed(&self, sources: &[PathBuf]) {
        if sources.is_empty() {
            return;
        }
        let mut st = self.lock();
        for (key, e) in &mut st.files {
            if key.source().is_some_and(|s| sources.contains(s)) {
                e.outdated = e.copying;
                if e.copy.take().is_some() {
                    e.read = 0;
                }
            }
        }
    }
}
