//! The read path allocates nothing of its own (issue 4: "no per-request allocation on the hot
//! path"): once a dataset is loaded and its chunk generated, `read` and `getattr` of a chunk
//! file make no heap allocation, in both chunk modes, but for the caches' upkeep (moka
//! flushes its log of reads now and then, a few allocations per hundreds of reads; a
//! request that allocated would show at least one per read). Counted by this test binary's
//! allocator, per thread.

use cloudify_mount::fuse::{InodeVfs, ROOT_INO};
use cloudify_mount::vfs::{Vfs, VfsOptions};
use cloudify_mount::zarr::mode::ChunkMode;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counter is a const-initialised thread local
// (no allocation of its own).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CALLS: u64 = 2000;

/// Allocations made by `CALLS` calls of `f` on this thread.
fn allocations_of(f: impl Fn()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..CALLS {
        f();
    }
    ALLOCATIONS.with(Cell::get) - before
}

/// By inode number, as the FUSE adapter reads (the tree's read and the inode table's lookup).
#[test]
fn reading_a_chunk_allocates_nothing() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for mode in [ChunkMode::Raw, ChunkMode::Decoded] {
        let options = VfsOptions { chunk_mode: mode, ..VfsOptions::default() };
        let vfs = InodeVfs::new(Arc::new(Vfs::new(&fixtures, options).expect("vfs")));
        let store = vfs.lookup(ROOT_INO, OsStr::new("tas_day.zarr")).expect("store").ino;
        let array = vfs.lookup(store, OsStr::new("tas")).expect("array").ino;
        let chunk = vfs.lookup(array, OsStr::new("0.0.0")).expect("chunk");
        assert!(chunk.attr.size > 4096, "{mode:?}: {}", chunk.attr.size);
        // the first read loads what later ones reuse (a decoded chunk, this thread's buffer)
        let first = vfs.read(chunk.ino, 0, 4096).expect("read");
        let read = || {
            let bytes = vfs.read(chunk.ino, 1024, 4096).expect("read");
            assert_eq!(bytes.len(), 4096);
        };
        let reads = allocations_of(read);
        let getattrs = allocations_of(|| assert!(vfs.getattr(chunk.ino).is_ok()));
        eprintln!("{mode:?}: {reads} allocations in {CALLS} reads, {getattrs} in {CALLS} getattrs");
        assert!(reads < CALLS / 20 && getattrs < CALLS / 20, "{mode:?}: {reads}, {getattrs}");
        assert_eq!(vfs.read(chunk.ino, 0, 4096).expect("read")[..], first[..]);
    }
}

/// By key, as an adapter without inode numbers reads (the key resolved once).
#[test]
fn reading_a_chunk_by_key_allocates_nothing() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for mode in [ChunkMode::Raw, ChunkMode::Decoded] {
        let options = VfsOptions { chunk_mode: mode, ..VfsOptions::default() };
        let vfs = Vfs::new(&fixtures, options).expect("vfs");
        let chunk = vfs.resolve(Path::new("tas_day.zarr/tas/0.0.0")).expect("chunk");
        assert!(vfs.attr(&chunk).expect("attr").size > 4096, "{mode:?}");
        let first = vfs.read(&chunk, 0, 4096).expect("read");
        let read = || {
            let bytes = vfs.read(&chunk, 1024, 4096).expect("read");
            assert_eq!(bytes.len(), 4096);
        };
        let reads = allocations_of(read);
        let attrs = allocations_of(|| assert!(vfs.attr(&chunk).is_ok()));
        eprintln!("{mode:?}: {reads} allocations in {CALLS} reads, {attrs} in {CALLS} attrs");
        assert!(reads < CALLS / 20 && attrs < CALLS / 20, "{mode:?}: {reads}, {attrs}");
        assert_eq!(vfs.read(&chunk, 0, 4096).expect("read")[..], first[..]);
    }
}
