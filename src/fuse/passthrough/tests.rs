//! The cache's bookkeeping driven directly: a fake file (bytes in memory, a version that can
//! change, a registration that can fail) and a fake backing id that counts its closes and, as
//! the kernel does, holds the copy.

use super::*;
use crate::vfs::{Bytes, VfsError};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::atomic::AtomicUsize;
use std::sync::mpsc;
use std::time::SystemTime;

const MIB: u64 = 1 << 20;

/// A registered copy: counts the ids closed, and holds the file as the kernel does (the
/// cache closes its own descriptor once the copy is filled).
struct Id(Arc<AtomicUsize>, File);

impl Drop for Id {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

/// (started, go): told when a read starts, then waited for.
type Gate = (Mutex<mpsc::Sender<()>>, Mutex<mpsc::Receiver<()>>);

struct Fake {
    bytes: Vec<u8>,
    version: Mutex<Version>,
    reads: AtomicUsize,
    fail_read: bool,
    register: Option<i32>,
    closed: Arc<AtomicUsize>,
    /// Holds a copy in the middle.
    gate: Option<Gate>,
}

fn version(ino: u64, size: u64) -> Version {
    Version { source: Identity { ino, size: 7, mtime: SystemTime::UNIX_EPOCH }, size }
}

fn fake(size: u64, ino: u64) -> Fake {
    Fake {
        bytes: (0..size).map(|i| (i * 31 % 251) as u8).collect(),
        version: Mutex::new(version(ino, size)),
        reads: AtomicUsize::new(0),
        fail_read: false,
        register: None,
        closed: Arc::new(AtomicUsize::new(0)),
        gate: None,
    }
}

impl Fake {
    fn v(&self) -> Version {
        *self.version.lock().unwrap()
    }
}

impl CopySource for Fake {
    fn read(&self, offset: u64, size: u32) -> Result<Bytes, VfsError> {
        self.reads.fetch_add(1, Relaxed);
        if let Some((started, go)) = &self.gate {
            started.lock().unwrap().send(()).unwrap();
            let go = go.lock().unwrap().recv_timeout(std::time::Duration::from_secs(10));
            go.expect("a read held for a go that did not come (a second copy?)");
        }
        if self.fail_read {
            return Err(VfsError::Io(std::io::Error::from_raw_os_error(libc::EIO)));
        }
        let start = (offset as usize).min(self.bytes.len());
        let end = (start + size as usize).min(self.bytes.len());
        Ok(Bytes::Owned(self.bytes[start..end].to_vec()))
    }
    fn version(&self) -> Result<Option<Version>, VfsError> {
        Ok(Some(self.v()))
    }
}

impl Fake {
    fn register(&self, copy: &File) -> std::io::Result<Id> {
        match self.register {
            Some(errno) => Err(std::io::Error::from_raw_os_error(errno)),
            None => Ok(Id(self.closed.clone(), copy.try_clone()?)),
        }
    }
}

fn cache(bytes: u64) -> Copies<Id> {
    Copies::new(CacheOptions { bytes, dir: std::env::temp_dir(), min_size: MIB })
}

fn key(name: &str) -> Arc<NodeKey> {
    Arc::new(NodeKey::Dataset { source: "a.nc".into(), inner: name.into() })
}

/// An open of `k` at `v`; a copy it admits is filled at once (as if its thread finished
/// before the next open).
fn open_at(c: &Copies<Id>, k: &Arc<NodeKey>, v: Version, f: &Fake) -> Opened<Id> {
    let opened = c.open(k, v, |copy| f.register(copy));
    if let Some(job) = c.next_job() {
        assert!(matches!(opened, Opened::Cached(_)), "the admitting open reads through FUSE");
        c.fill(job, f);
    }
    opened
}

/// An open of `k` by a reader that reads the whole file (by FUSE reads when not passthrough).
fn open(c: &Copies<Id>, k: &Arc<NodeKey>, f: &Fake) -> (u64, Option<Arc<Copy<Id>>>) {
    match open_at(c, k, f.v(), f) {
        Opened::Cached(fh) => {
            c.read(fh, f.v().size as usize);
            (fh, None)
        }
        Opened::Passthrough(fh, copy) => (fh, Some(copy)),
    }
}

/// [`open`] and release, expecting FUSE reads.
fn read_once(c: &Copies<Id>, k: &Arc<NodeKey>, f: &Fake) {
    let (fh, copy) = open(c, k, f);
    assert!(copy.is_none(), "served by FUSE reads");
    c.release(fh);
}

fn contents(copy: &Copy<Id>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut file = &copy.backing().1;
    std::io::Seek::rewind(&mut file).unwrap();
    file.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn the_open_after_a_full_read_starts_a_copy_and_later_opens_share_it() {
    let (c, k, f) = (cache(64 * MIB), key("v/c/0"), fake(3 * MIB + 5, 1));
    let (fh, copy) = open(&c, &k, &f);
    assert!(copy.is_none() && fh != UNTRACKED, "the first open reads through FUSE");
    c.release(fh);
    assert_eq!(f.reads.load(Relaxed), 0, "nothing copied after one open");
    let (fh, copy) = open(&c, &k, &f);
    assert!(copy.is_none(), "the open that admits the copy is not kept waiting for it");
    assert_eq!(f.reads.load(Relaxed), 1, "its copy filled, in one piece");
    c.release(fh);
    let (fh2, copy) = open(&c, &k, &f);
    let copy = copy.expect("the open after the copy was filled is passthrough");
    assert_eq!(contents(&copy), f.bytes);
    assert_eq!(c.held(), (1, 3 * MIB + 5));
    let (fh3, again) = open(&c, &k, &f);
    assert!(Arc::ptr_eq(&copy, &again.unwrap()), "one backing file per inode");
    assert_eq!(f.reads.load(Relaxed), 1, "copied once");
    for fh in [fh2, fh3] {
        c.release(fh);
    }
    let (_, third) = open(&c, &k, &f);
    assert!(third.is_some(), "the copy stays for later opens");
}

#[test]
fn a_file_read_in_parts_is_copied_once_all_of_it_was_read() {
    // zarr opens a shard for its index, then again for each chunk it wants
    let (c, k, f) = (cache(64 * MIB), key("v/c/0"), fake(4 * MIB, 1));
    let part = |f: &Fake| {
        let Opened::Cached(fh) = c.open(&k, f.v(), |copy| f.register(copy)) else {
            panic!("passthrough after a partial read")
        };
        assert!(c.next_job().is_none(), "copied a partial read");
        c.read(fh, MIB as usize);
        c.release(fh);
    };
    for _ in 0..3 {
        part(&f);
    }
    assert_eq!(f.reads.load(Relaxed), 0, "3 of 4 MiB read: nothing copied");
    part(&f);
    read_once(&c, &k, &f); // admits the copy
    let (fh, copy) = open(&c, &k, &f);
    assert_eq!(contents(&copy.expect("read in full: copied")), f.bytes);
    c.release(fh);
    // a new version starts counting again
    *f.version.lock().unwrap() = version(2, 4 * MIB);
    part(&f);
    part(&f);
}

#[test]
fn small_files_are_never_followed() {
    let (c, k, f) = (cache(64 * MIB), key("v/.zarray"), fake(MIB - 1, 1));
    for _ in 0..3 {
        read_once(&c, &k, &f);
    }
    assert_eq!(f.reads.load(Relaxed), 0);
    // open at a small version, then grown past the threshold: not passthrough while open
    let (small, _) = open(&c, &k, &f);
    let big = fake(2 * MIB, 2);
    let mut fhs = vec![small];
    for _ in 0..3 {
        let (fh, copy) = open(&c, &k, &big);
        assert!(copy.is_none(), "the inode is open for FUSE reads");
        fhs.push(fh);
    }
    for fh in fhs {
        c.release(fh);
    }
    assert!(open(&c, &k, &big).1.is_some(), "its large version copied, used once closed");
}

#[test]
fn a_file_open_for_fuse_reads_is_not_switched_to_passthrough() {
    let (c, k, f) = (cache(64 * MIB), key("v/c/0"), fake(2 * MIB, 1));
    let (first, _) = open(&c, &k, &f);
    let (second, copy) = open(&c, &k, &f);
    assert!(copy.is_none(), "the kernel refuses passthrough while cached opens exist");
    assert_eq!(f.reads.load(Relaxed), 1, "a copy admitted all the same");
    let (third, copy) = open(&c, &k, &f);
    assert!(copy.is_none(), "the copy is ready, but the file is open for FUSE reads");
    for fh in [first, second, third] {
        c.release(fh);
    }
    assert!(open(&c, &k, &f).1.is_some(), "once all are closed, passthrough");
    assert_eq!(f.reads.load(Relaxed), 1, "copied once");
}

#[test]
fn copies_stay_within_the_budget_least_recently_opened_dropped() {
    let c = cache(5 * MIB);
    let files: Vec<(Arc<NodeKey>, Fake)> =
        (0..3).map(|i| (key(&format!("v/c/{i}")), fake(2 * MIB, 1))).collect();
    for (k, f) in &files {
        for _ in 0..2 {
            read_once(&c, k, f);
        }
        assert!(c.held().1 <= 5 * MIB);
    }
    // the first file's copy went for the third's; the second's is kept
    assert_eq!(c.held(), (2, 4 * MIB));
    let (fh, copy) = open(&c, &files[1].0, &files[1].1);
    assert!(copy.is_some());
    assert_eq!(files[1].1.reads.load(Relaxed), 1, "kept, not copied again");
    // the second (open) and third (least recent) are there: the first copies again by
    // dropping the third, never the open one
    read_once(&c, &files[0].0, &files[0].1);
    assert_eq!(files[0].1.reads.load(Relaxed), 2, "copied again");
    assert_eq!(files[2].1.closed.load(Relaxed), 1, "the third's id closed");
    assert_eq!(files[1].1.closed.load(Relaxed), 0, "the open copy stays registered");
    let (fh0, first) = open(&c, &files[0].0, &files[0].1);
    assert!(first.is_some());
    // both remaining copies are open: no room for the third, served by FUSE reads
    let (fh2, none) = open(&c, &files[2].0, &files[2].1);
    assert!(none.is_none());
    assert_eq!(files[2].1.reads.load(Relaxed), 1, "not copied again");
    assert!(c.held().1 <= 5 * MIB);
    for fh in [fh, fh0, fh2] {
        c.release(fh);
    }
}

#[test]
fn a_dropped_copy_stays_registered_until_its_last_handle_is_released() {
    let c = cache(3 * MIB);
    let (k1, f1, k2, f2) = (key("v/c/0"), fake(2 * MIB, 1), key("v/c/1"), fake(2 * MIB, 1));
    read_once(&c, &k1, &f1);
    read_once(&c, &k1, &f1);
    let (held, copy) = open(&c, &k1, &f1);
    let copy = copy.unwrap();
    // a source change drops the copy from the cache; the open handle keeps it
    c.source_changed(&["a.nc".into()]);
    assert_eq!(c.held(), (0, 2 * MIB), "still on disk while open");
    assert_eq!(f1.closed.load(Relaxed), 0);
    let (again, same) = open(&c, &k1, &f1);
    assert!(Arc::ptr_eq(&copy, &same.unwrap()), "the kernel wants the same backing file");
    drop(copy);
    for fh in [held, again] {
        c.release(fh);
    }
    assert_eq!(f1.closed.load(Relaxed), 1, "closed with the last handle");
    assert_eq!(c.held(), (0, 0));
    // and the room is free again for another file
    read_once(&c, &k2, &f2);
    read_once(&c, &k2, &f2);
    assert!(open(&c, &k2, &f2).1.is_some());
}

#[test]
fn a_new_version_drops_the_copy_and_counts_again() {
    let (c, k, f) = (cache(64 * MIB), key("v/c/0"), fake(2 * MIB, 1));
    read_once(&c, &k, &f);
    read_once(&c, &k, &f);
    // open on the old copy while the source changes
    let (old_fh, old) = open(&c, &k, &f);
    *f.version.lock().unwrap() = version(2, 2 * MIB);
    let (fh, stale) = open(&c, &k, &f);
    assert!(Arc::ptr_eq(&old.unwrap(), &stale.unwrap()), "the inode is open on it");
    c.release(fh);
    c.release(old_fh);
    assert_eq!(f.closed.load(Relaxed), 1, "the old version's copy is gone");
    read_once(&c, &k, &f); // the new version's first open
    assert_eq!(f.reads.load(Relaxed), 1, "not copied before it was read in full");
    read_once(&c, &k, &f);
    let copy = open(&c, &k, &f).1.unwrap();
    assert_eq!(copy.version, version(2, 2 * MIB));
}

#[test]
fn failures_serve_fuse_reads_and_are_not_retried_for_the_version() {
    let c = cache(64 * MIB);
    let (k, mut f) = (key("v/c/0"), fake(2 * MIB, 1));
    f.fail_read = true;
    for _ in 0..4 {
        read_once(&c, &k, &f);
    }
    assert_eq!(f.reads.load(Relaxed), 1, "one attempt");
    assert_eq!(c.held(), (0, 0), "the room taken is given back");
    assert_eq!(f.closed.load(Relaxed), 1, "its registration closed");
    // the kernel refusing registrations turns the cache off
    let (k2, mut f2) = (key("v/c/1"), fake(2 * MIB, 1));
    f2.register = Some(libc::EPERM);
    let (k3, f3) = (key("v/c/2"), fake(2 * MIB, 1));
    for (k, f) in [(&k2, &f2), (&k3, &f3)] {
        for _ in 0..3 {
            read_once(&c, k, f);
        }
    }
    assert_eq!(f2.reads.load(Relaxed), 0, "registered before copying: nothing read");
    assert_eq!(f3.reads.load(Relaxed), 0, "nothing copied once the kernel refused");
    assert_eq!(c.held(), (0, 0));
}

#[test]
fn a_copy_that_changed_while_copied_is_not_used() {
    let c = cache(64 * MIB);
    let (k, f) = (key("v/c/0"), fake(2 * MIB, 1));
    let opened = f.v();
    read_once(&c, &k, &f);
    // admitted at the version it is opened at; the file reports another one after the copy
    *f.version.lock().unwrap() = version(9, 2 * MIB);
    let Opened::Cached(fh) = open_at(&c, &k, opened, &f) else { panic!("no copy yet") };
    c.release(fh);
    assert!(f.reads.load(Relaxed) > 0, "a copy was tried");
    assert_eq!(c.held(), (0, 0));
    assert!(matches!(open_at(&c, &k, opened, &f), Opened::Cached(_)), "and not used");
}

#[test]
fn opens_during_a_copy_are_served_by_fuse_reads_and_start_no_other() {
    let c = Arc::new(cache(64 * MIB));
    let (started_tx, started_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel();
    let mut f = fake(2 * MIB, 1);
    let k = key("v/c/0");
    read_once(&c, &k, &f);
    f.gate = Some((Mutex::new(started_tx), Mutex::new(go_rx)));
    let f = Arc::new(f);
    let Opened::Cached(admitting) = c.open(&k, f.v(), |copy| f.register(copy)) else {
        panic!("the open that admits a copy reads through FUSE")
    };
    let job = c.next_job().expect("the second open after a full read admits a copy");
    c.release(admitting);
    let filling = {
        let (c, f) = (c.clone(), f.clone());
        std::thread::spawn(move || c.fill(job, &*f))
    };
    started_rx.recv().unwrap();
    // while the copy is being filled, opens go on by FUSE reads (a second copy, the feature
    // broken, would wait for a go that does not come, and fail)
    for _ in 0..2 {
        let (during, copy) = open(&c, &k, &f);
        assert!(copy.is_none());
        c.release(during);
    }
    assert_eq!(c.filling(), 1);
    go_tx.send(()).unwrap();
    filling.join().unwrap();
    assert_eq!(c.filling(), 0);
    assert!(open(&c, &k, &f).1.is_some(), "passthrough once filled");
    assert_eq!(f.reads.load(Relaxed), 1, "one copy");
}

/// Read `k` in full, then open it again: a copy admitted, not filled; the second handle open.
fn admit(c: &Copies<Id>, k: &Arc<NodeKey>, f: &Fake) -> (u64, Job<Id>) {
    let Opened::Cached(fh) = c.open(k, f.v(), |copy| f.register(copy)) else { panic!() };
    c.read(fh, f.v().size as usize);
    c.release(fh);
    let Opened::Cached(fh) = c.open(k, f.v(), |copy| f.register(copy)) else { panic!() };
    (fh, c.next_job().expect("admitted"))
}

#[test]
fn a_fill_says_whether_the_file_is_read_from_its_copy_alone_now() {
    let (c, k, f) = (cache(64 * MIB), key("v/c/0"), fake(2 * MIB, 1));
    let (fh, job) = admit(&c, &k, &f);
    assert!(!c.fill(job, &f), "the admitting open still reads through FUSE");
    c.release(fh);
    let (k2, f2) = (key("v/c/1"), fake(2 * MIB, 1));
    let (fh, job) = admit(&c, &k2, &f2);
    c.release(fh);
    assert!(c.fill(job, &f2), "nothing open: its FUSE pages can go");
    // a closed cache admits nothing more
    c.close(std::time::Duration::ZERO);
    let (k3, f3) = (key("v/c/2"), fake(2 * MIB, 1));
    read_once(&c, &k3, &f3);
    read_once(&c, &k3, &f3);
    assert_eq!((c.filling(), f3.closed.load(Relaxed)), (0, 0), "nothing registered");
}

#[test]
fn a_copy_admitted_while_the_mount_ends_is_dropped() {
    let (c, k, f) = (cache(64 * MIB), key("v/c/0"), fake(2 * MIB, 1));
    read_once(&c, &k, &f);
    // the mount ends while the admitting open registers its copy
    let opened = c.open(&k, f.v(), |copy| {
        c.close(std::time::Duration::ZERO);
        f.register(copy)
    });
    assert!(matches!(opened, Opened::Cached(_)));
    assert!(c.next_job().is_none(), "nothing queued for fillers that stopped");
    assert_eq!((c.filling(), c.held()), (0, (0, 0)));
    assert_eq!(f.closed.load(Relaxed), 1, "its registration closed");
}

#[test]
fn copies_waiting_to_be_filled_are_bounded() {
    let c = cache(1 << 40);
    let files: Vec<(Arc<NodeKey>, Fake)> =
        (0..=MAX_PENDING).map(|i| (key(&format!("v/c/{i}")), fake(MIB, 1))).collect();
    // each file read in full, then opened again: its copy admitted, left unfilled
    let read_twice = |k: &Arc<NodeKey>, f: &Fake| {
        for _ in 0..2 {
            let Opened::Cached(fh) = c.open(k, f.v(), |copy| f.register(copy)) else { panic!() };
            c.read(fh, f.v().size as usize);
            c.release(fh);
        }
    };
    for (k, f) in &files[..MAX_PENDING] {
        read_twice(k, f);
    }
    assert_eq!(c.filling(), MAX_PENDING as u64);
    let (k, f) = &files[MAX_PENDING];
    read_twice(k, f);
    assert_eq!(c.filling(), MAX_PENDING as u64, "no more admitted");
    assert_eq!(f.closed.load(Relaxed), 0, "nothing registered for it");
    // the mount ends: the queued copies are dropped, their room and registrations given back
    c.close(std::time::Duration::ZERO);
    assert_eq!((c.filling(), c.held()), (0, (0, 0)));
    assert!(files[..MAX_PENDING].iter().all(|(_, f)| f.closed.load(Relaxed) == 1));
    assert!(c.wait_job().is_none(), "the fillers stop");
}

#[test]
fn a_copy_of_a_version_replaced_while_it_was_filled_is_not_used() {
    let (c, k, f) = (cache(64 * MIB), key("v/c/0"), fake(2 * MIB, 1));
    let (fh, job) = admit(&c, &k, &f);
    c.release(fh);
    let old = f.v();
    *f.version.lock().unwrap() = version(2, 2 * MIB);
    read_once(&c, &k, &f); // opened at the new version while the old one is filled
    *f.version.lock().unwrap() = old; // (the fill's own check passes)
    c.fill(job, &f);
    assert_eq!((c.filling(), c.held()), (0, (0, 0)));
    assert_eq!(f.closed.load(Relaxed), 1, "its registration closed");
    *f.version.lock().unwrap() = version(2, 2 * MIB);
    read_once(&c, &k, &f); // the new version, read in full before: admitted now
    assert!(open(&c, &k, &f).1.is_some_and(|copy| copy.version == version(2, 2 * MIB)));
}

#[test]
fn a_copy_whose_source_changed_while_it_was_filled_is_not_used() {
    let (c, k, f) = (cache(64 * MIB), key("v/c/0"), fake(2 * MIB, 1));
    let (fh, job) = admit(&c, &k, &f);
    c.release(fh);
    // the watcher reports a change the version check cannot see (same inode, size, mtime)
    c.source_changed(&["a.nc".into()]);
    c.fill(job, &f);
    assert_eq!((c.filling(), c.held()), (0, (0, 0)));
    let (fh, copy) = open(&c, &k, &f);
    assert!(copy.is_none(), "the copy was dropped, not served");
    c.release(fh);
}

#[test]
fn copies_are_unnamed_files() {
    let dir = tempdir();
    let f = unnamed_file(&dir).unwrap();
    f.write_all_at(b"x", 0).unwrap();
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing named in the directory");
    let missing = dir.join("missing");
    assert!(matches!(unnamed_file(&missing), Err(PassthroughError::Create { .. })));
    std::fs::remove_dir(&dir).unwrap();
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cloudify-pt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
