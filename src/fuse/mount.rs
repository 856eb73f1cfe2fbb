//! The life of a mount: checks before mounting (with one-line reasons), the FUSE session, the
//! readiness report to a waiting parent (and to systemd, [`super::notify`]), a clean unmount on
//! SIGINT/SIGTERM, and the log summary ([`stats`]) at start, on SIGUSR1 and at the end.

use super::config::MountConfig;
use super::passthrough::open::{start_fillers, FuseCopies};
use super::{FuseAdapter, InodeVfs};
use crate::telemetry::notify;
use crate::telemetry::stats;
use crate::vfs::{Vfs, VfsOptions};
use fuser::{Config, MountOption, Session, SessionACL};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use tracing::info;

/// Why a mount could not be made or kept.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("archive {0}: {1}")]
    Archive(String, String),
    #[error("mountpoint {0}: {1}")]
    Mountpoint(String, String),
    #[error("/dev/fuse is missing: load the fuse module or install fuse3")]
    NoFuse,
    #[error("mount failed: {0}")]
    Mount(String),
    #[error("{0}")]
    Signals(String),
    #[error("--passthrough-dir: {0}")]
    PassthroughDir(String),
}

fn is_mounted(mountpoint: &Path) -> bool {
    let Ok(canon) = mountpoint.canonicalize() else {
        return false;
    };
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    // field 5 is the mount point, with spaces etc. octal-escaped
    let want = canon.to_string_lossy().replace(' ', "\\040");
    info.lines().any(|l| l.split(' ').nth(4) == Some(want.as_str()))
}

/// A daemon killed without unmounting leaves "transport endpoint is not connected" behind: detach
/// that dead mount (as `fusermount3 -uz` would) so that a restart recovers by itself. Only a
/// FUSE mount whose daemon is gone answers ENOTCONN, so a live mount is never touched. Asked
/// by listing it: a `stat` may be answered from the attributes the kernel still caches for the
/// dead mount's root (the daemon stats its own mount for the readahead), a listing never is.
fn clear_stale_mount(mountpoint: &Path) {
    let stale =
        matches!(std::fs::read_dir(mountpoint), Err(e) if e.raw_os_error() == Some(libc::ENOTCONN));
    if !stale {
        return;
    }
    let Ok(c) = std::ffi::CString::new(mountpoint.as_os_str().as_encoded_bytes()) else { return };
    // SAFETY: a plain syscall on a NUL-terminated path.
    let rc = unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    let ok = rc == 0
        || std::process::Command::new("fusermount3")
            .arg("-uz")
            .arg(mountpoint)
            .status()
            .is_ok_and(|s| s.success());
    if ok {
        tracing::warn!(mountpoint = %mountpoint.display(), "cleared a stale FUSE mount left by a dead daemon");
    }
}

/// Check what can be checked before mounting.
pub fn preflight(cfg: &MountConfig) -> Result<(), MountError> {
    let a = cfg.archive.display().to_string();
    match std::fs::metadata(&cfg.archive) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(MountError::Archive(a, "not a directory".into())),
        Err(e) => return Err(MountError::Archive(a, e.to_string())),
    }
    std::fs::read_dir(&cfg.archive).map_err(|e| MountError::Archive(a, e.to_string()))?;
    let m = cfg.mountpoint.display().to_string();
    clear_stale_mount(&cfg.mountpoint);
    match std::fs::metadata(&cfg.mountpoint) {
        Ok(md) if md.is_dir() => {}
        Ok(_) => return Err(MountError::Mountpoint(m, "not a directory".into())),
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
            return Err(MountError::Mountpoint(
                m.clone(),
                format!(
                    "stale FUSE mount (transport endpoint not connected): run 'fusermount3 -u {m}'"
                ),
            ))
        }
        Err(e) => return Err(MountError::Mountpoint(m, e.to_string())),
    }
    if is_mounted(&cfg.mountpoint) {
        return Err(MountError::Mountpoint(m, "busy: something is already mounted there".into()));
    }
    if !Path::new("/dev/fuse").exists() {
        return Err(MountError::NoFuse);
    }
    if let Some(p) = &cfg.passthrough {
        // an unnamed file made and dropped: the directory can hold the copies
        super::passthrough::unnamed_file(&p.dir)
            .map_err(|e| MountError::PassthroughDir(e.to_string()))?;
    }
    Ok(())
}

fn fuser_config(cfg: &MountConfig) -> Config {
    let f = &cfg.flags;
    let mut opts = vec![
        MountOption::RO,
        MountOption::FSName(f.fsname.clone().unwrap_or_else(|| "cloudify".into())),
        MountOption::Subtype("cloudify".into()),
    ];
    if f.default_permissions {
        opts.push(MountOption::DefaultPermissions);
    }
    if f.auto_unmount {
        opts.push(MountOption::AutoUnmount);
    }
    for k in &f.kernel {
        opts.push(match k.as_str() {
            "nodev" => MountOption::NoDev,
            "nosuid" => MountOption::NoSuid,
            "noexec" => MountOption::NoExec,
            "noatime" => MountOption::NoAtime,
            "dev" => MountOption::Dev,
            "suid" => MountOption::Suid,
            "exec" => MountOption::Exec,
            _ => MountOption::Atime,
        });
    }
    let acl = if f.allow_other {
        SessionACL::All
    } else if f.allow_root {
        SessionACL::RootAndOwner
    } else {
        SessionACL::Owner
    };
    let mut c = Config::default();
    c.mount_options = opts;
    c.acl = acl;
    c.n_threads = Some(cfg.threads.max(1));
    c.clone_fd = true;
    c
}

/// Source chunks are 0.1–4 MB: serve them from the heap rather than a fresh mmap each (a page
/// fault per 4 KiB on every decode was ~10% of decode time); larger buffers (merged decoded
/// chunks) stay mmapped, and two arenas keep freed memory from piling up per thread.
fn tune_allocator() {
    // SAFETY: mallopt only adjusts allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 8 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Block the signals we wait for in every thread started from here on.
fn block_signals() -> Result<libc::sigset_t, MountError> {
    // SAFETY: plain libc signal-set manipulation on a local set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2] {
            libc::sigaddset(&mut set, s);
        }
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return Err(MountError::Signals("cannot block signals".into()));
        }
        Ok(set)
    }
}

/// Mount and serve until unmounted or signalled. `ready` is told "ok" (or the error) once the
/// mount is usable.
pub fn run(cfg: &MountConfig, mut ready: Option<std::fs::File>) -> Result<(), MountError> {
    let report = |ready: &mut Option<std::fs::File>, msg: &str| {
        if let Some(mut f) = ready.take() {
            let _ = writeln!(f, "{msg}");
        }
    };
    if let Err(e) = preflight(cfg) {
        report(&mut ready, &e.to_string());
        return Err(e);
    }
    let set = block_signals()?;
    tune_allocator();
    crate::telemetry::limits::raise_open_files();
    // the kernel's page cache keeps the chunk files read through the mount
    let options = VfsOptions { readers_keep_served: true, ..cfg.vfs.clone() };
    let vfs = Vfs::new(&cfg.archive, options)
        .map_err(|e| MountError::Archive(cfg.archive.display().to_string(), e.to_string()));
    let vfs = match vfs {
        Ok(v) => {
            if let Some(g) = &cfg.generator {
                v.set_generator(g.clone());
            }
            let v = Arc::new(v);
            if cfg.walk_ahead > 0 {
                v.walk_ahead(cfg.walk_ahead);
            }
            Arc::new(InodeVfs::new(v))
        }
        Err(e) => {
            report(&mut ready, &e.to_string());
            return Err(e);
        }
    };
    let copies = cfg.passthrough.clone().map(|o| Arc::new(FuseCopies::new(o)));
    let mut adapter = FuseAdapter::new(vfs.clone(), cfg.ttl);
    if let Some(c) = &copies {
        adapter = adapter.with_copies(c.clone());
    }
    let indexes = vfs.clone();
    let mut session = match Session::new(adapter, &cfg.mountpoint, &fuser_config(cfg)) {
        Ok(s) => s,
        Err(e) => {
            let e = MountError::Mount(describe_mount_error(&e));
            report(&mut ready, &e.to_string());
            return Err(e);
        }
    };
    if let Some(c) = &copies {
        if let Err(e) = start_fillers(c, &vfs, session.notifier()) {
            // no copy is ever admitted: none would be filled
            tracing::warn!("passthrough cache off: no thread to fill copies ({e})");
            c.close(std::time::Duration::ZERO);
        }
    }
    if let Err(e) = super::watch::Watcher::start(vfs, session.notifier(), copies.clone()) {
        tracing::warn!(
            "not watching the archive for changes ({e}): changed files are seen \
            after --attr-timeout"
        );
    }
    let mut unmounter = session.unmount_callable();
    let worker = std::thread::Builder::new()
        .name("fuse-session".into())
        .spawn(move || {
            let r = session.run();
            // Wake the signal loop: the session ended (e.g. external umount).
            // SAFETY: sending a signal to our own process.
            unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) };
            r
        })
        .map_err(|e| MountError::Mount(e.to_string()))?;
    info!(archive = %cfg.archive.display(), mountpoint = %cfg.mountpoint.display(),
        chunks = ?cfg.vfs.chunk_mode, allow_other = cfg.flags.allow_other,
        follow_symlinks = cfg.vfs.follow_symlinks, "mounted");
    // before readiness is reported: the first reader already streams in large requests
    super::readahead::set(&cfg.mountpoint, cfg.readahead_kib);
    let started = std::time::Instant::now();
    stats::log_summary("start", started.elapsed(), held(&indexes, copies.as_deref()));
    report(&mut ready, "ok");
    notify::notify(notify::READY);
    loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: waiting on a set of blocked signals.
        unsafe { libc::sigwait(&set, &mut sig) };
        if sig == libc::SIGUSR2 {
            break;
        }
        if sig == libc::SIGHUP {
            continue;
        }
        if sig == libc::SIGUSR1 {
            stats::log_summary("SIGUSR1", started.elapsed(), held(&indexes, copies.as_deref()));
            continue;
        }
        info!(signal = sig, "unmounting");
        notify::notify(notify::STOPPING);
        if let Err(e) = unmounter.unmount() {
            tracing::warn!("unmount failed: {e}");
        }
        break;
    }
    match worker.join() {
        Ok(Ok(())) | Err(_) => {}
        Ok(Err(e)) => tracing::warn!("session ended with: {e}"),
    }
    if let Some(c) = &copies {
        // no copy is filled (read from the tree) once the indexes are flushed
        c.close(std::time::Duration::from_secs(10));
    }
    indexes.vfs().flush_indexes();
    stats::log_summary("unmount", started.elapsed(), held(&indexes, copies.as_deref()));
    info!("unmounted");
    Ok(())
}

/// What `vfs` and `copies` hold now, for the summary.
fn held(vfs: &InodeVfs, copies: Option<&FuseCopies>) -> stats::Held {
    let (datasets, index_bytes) = vfs.vfs().datasets_kept();
    let (copies_filling, (copies, copy_bytes)) =
        copies.map_or((0, (0, 0)), |c| (c.filling(), c.held()));
    stats::Held { nodes: vfs.nodes(), datasets, index_bytes, copies, copy_bytes, copies_filling }
}

fn describe_mount_error(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => {
            format!("permission denied ({e}): mount as root or install fusermount3 (fuse3)")
        }
        Some(libc::ENOENT) => format!("{e}: is fusermount3 installed?"),
        _ => e.to_string(),
    }
}
