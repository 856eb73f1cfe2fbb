//! Watches the archive with inotify and tells the kernel what to forget when a source file
//! changes, through fuser's notifier: with `FOPEN_KEEP_CACHE` and long attribute timeouts the
//! kernel would otherwise serve a rewritten file's old pages until `--attr-timeout` runs out.
//! Directories are watched as they are listed (never the whole archive up front). What to
//! forget is decided by the kernel-free core ([`InodeVfs::source_changed`]); the local copies
//! of the changed files (`--passthrough-cache`) are dropped too.
//!
//! inotify sees changes made on this machine only; on a network file system changed
//! elsewhere, the per-request identity check and `--attr-timeout` remain the bound.

use super::passthrough::open::FuseCopies;
use super::InodeVfs;
use fuser::{INodeNo, Notifier};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tracing::{debug, warn};

const MASK: u32 = libc::IN_CLOSE_WRITE
    | libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_ONLYDIR;

/// The inotify watches of one mount.
pub struct Watcher {
    fd: OwnedFd,
    root: PathBuf,
    /// Watch descriptor → archive-relative directory, and the directories watched.
    dirs: Mutex<(HashMap<i32, PathBuf>, HashSet<PathBuf>)>,
    full: std::sync::atomic::AtomicBool,
}

impl Watcher {
    /// Watch `vfs`'s archive and send invalidations through `notifier` from a thread of its own.
    /// The local copies in `copies` of a changed source's files are dropped.
    pub fn start(
        vfs: Arc<InodeVfs>,
        notifier: Notifier,
        copies: Option<Arc<FuseCopies>>,
    ) -> std::io::Result<Arc<Watcher>> {
        // SAFETY: a plain syscall; the descriptor is owned right away.
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let watcher = Arc::new(Watcher {
            // SAFETY: fd is a fresh descriptor nobody else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            root: vfs.vfs().root().to_path_buf(),
            dirs: Mutex::new((HashMap::new(), HashSet::new())),
            full: false.into(),
        });
        let weak = Arc::downgrade(&watcher);
        vfs.vfs().on_directory_listed(Box::new(move |rel| {
            if let Some(w) = weak.upgrade() {
                w.watch(rel);
            }
        }));
        watcher.watch(Path::new(""));
        let w = watcher.clone();
        std::thread::Builder::new()
            .name("inotify".into())
            .spawn(move || w.run(&vfs, &notifier, copies.as_deref()))?;
        Ok(watcher)
    }

    /// Watch archive directory `rel` (once).
    fn watch(&self, rel: &Path) {
        let mut dirs = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
        if !dirs.1.insert(rel.to_path_buf()) {
            return;
        }
        let Ok(path) = CString::new(self.root.join(rel).as_os_str().as_bytes()) else { return };
        // SAFETY: a NUL-terminated path and our own descriptor.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), path.as_ptr(), MASK) };
        if wd >= 0 {
            dirs.0.insert(wd, rel.to_path_buf());
        } else if !self.full.swap(true, std::sync::atomic::Ordering::Relaxed) {
            warn!(dir = %rel.display(), "cannot watch for changes ({}); changed files are seen \
                after --attr-timeout (raise fs.inotify.max_user_watches)",
                std::io::Error::last_os_error());
        }
    }

    fn run(&self, vfs: &InodeVfs, notifier: &Notifier, copies: Option<&FuseCopies>) {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            // SAFETY: reading into our own buffer from our own descriptor.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                warn!("inotify: {}", std::io::Error::last_os_error());
                return;
            }
            let changed = self.changed_paths(&buf[..n as usize]);
            for (rel, renamed) in changed {
                let inv = vfs.source_changed(&rel, renamed);
                debug!(path = %rel.display(), inodes = inv.inodes.len(), "source changed");
                if let Some(copies) = copies {
                    copies.source_changed(&inv.sources);
                }
                for ino in inv.inodes {
                    // ENOENT: the kernel had forgotten it already
                    let _ = notifier.inval_inode(INodeNo(ino), 0, 0);
                }
                for (parent, name) in inv.entries {
                    let _ = notifier.inval_entry(INodeNo(parent), &name);
                }
            }
        }
    }

    /// The archive-relative paths named by a batch of events (each once), and whether an
    /// entry was created, deleted or renamed (not only written).
    fn changed_paths(&self, mut events: &[u8]) -> BTreeMap<PathBuf, bool> {
        const HEADER: usize = std::mem::size_of::<libc::inotify_event>();
        const RENAMED: u32 =
            libc::IN_CREATE | libc::IN_DELETE | libc::IN_MOVED_FROM | libc::IN_MOVED_TO;
        let mut out = BTreeMap::new();
        let mut dirs = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
        while events.len() >= HEADER {
            // SAFETY: the kernel writes whole events; read_unaligned copes with the alignment.
            let ev: libc::inotify_event =
                unsafe { std::ptr::read_unaligned(events.as_ptr().cast()) };
            let end = (HEADER + ev.len as usize).min(events.len());
            let name = &events[HEADER..end];
            let name = &name[..name.iter().position(|b| *b == 0).unwrap_or(name.len())];
            events = &events[end..];
            if ev.mask & libc::IN_Q_OVERFLOW != 0 {
                warn!("inotify queue overflowed: some changes are seen after --attr-timeout only");
                continue;
            }
            if ev.mask & libc::IN_IGNORED != 0 {
                if let Some(rel) = dirs.0.remove(&ev.wd) {
                    dirs.1.remove(&rel);
                }
                continue;
            }
            if let (Some(dir), false) = (dirs.0.get(&ev.wd), name.is_empty()) {
                let renamed = out.entry(dir.join(OsStr::from_bytes(name))).or_insert(false);
                *renamed |= ev.mask & RENAMED != 0;
            }
        }
        out
    }
}
