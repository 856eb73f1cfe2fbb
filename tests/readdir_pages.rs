//! Directories are read a page at a time: the pages put together are the whole listing, in
//! order, for archive directories and for array directories (chunk files), from the tree (by
//! path) and from the inode layer. There each entry carries the offset the kernel asks for
//! next; after a directory's last entry that is `DIR_END`, and the page there is empty
//! without looking at the directory.

use cloudify_mount::fuse::{InodeVfs, DIR_END, ROOT_INO};
use cloudify_mount::vfs::{Vfs, VfsOptions};
use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;

fn inode_vfs(archive: &Path) -> InodeVfs {
    InodeVfs::new(Arc::new(Vfs::new(archive, VfsOptions::default()).expect("vfs")))
}

/// The listing of `ino` read as the kernel reads it: each page from the offset of the last
/// entry of the page before.
fn pages(vfs: &InodeVfs, ino: u64, size: usize) -> Vec<String> {
    let (mut out, mut at) = (Vec::new(), 0u64);
    loop {
        let page = vfs.readdir_page(ino, at as usize, size).expect("page");
        assert!(page.len() <= size);
        let Some(last) = page.last() else { return out };
        for (i, e) in page.iter().enumerate() {
            let next = (out.len() + i + 1) as u64;
            let end = i + 1 == page.len() && page.len() < size;
            assert_eq!(e.offset, if end { DIR_END } else { next }, "{:?}", e.name);
        }
        at = last.offset;
        out.extend(page.into_iter().map(|e| e.name.to_string_lossy().into_owned()));
    }
}

#[test]
fn pages_put_together_are_the_listing() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let vfs = inode_vfs(&fixtures);
    let store = vfs.lookup(ROOT_INO, OsStr::new("tas_day.zarr")).expect("store").ino;
    let array = vfs.lookup(store, OsStr::new("tas")).expect("array").ino;
    for ino in [ROOT_INO, store, array] {
        let whole: Vec<String> = vfs
            .readdir(ino)
            .expect("readdir")
            .into_iter()
            .map(|e| e.name.to_string_lossy().into_owned())
            .collect();
        assert!(whole.len() > 5, "{whole:?}");
        for size in [1, 2, 3, 7, 1000] {
            assert_eq!(pages(&vfs, ino, size), whole, "inode {ino}, pages of {size}");
        }
    }
    // the tree's pages (by path, no "." or "..", no numbers) are the same entries
    let tree = vfs.vfs();
    for (path, ino) in [("", ROOT_INO), ("tas_day.zarr", store), ("tas_day.zarr/tas", array)] {
        let key = tree.resolve(Path::new(path)).expect(path);
        let whole = tree.list(&key, 0, usize::MAX).expect("list");
        assert!(whole.len() > 3, "{path}: {whole:?}");
        let mut numbered = vfs.readdir(ino).expect("readdir");
        numbered.drain(..2);
        assert_eq!(
            whole.iter().map(|c| &c.name).collect::<Vec<_>>(),
            numbered.iter().map(|e| &e.name).collect::<Vec<_>>(),
            "{path}"
        );
        for size in [1, 2, 3, 7] {
            let mut paged = Vec::new();
            while let Some(page) =
                Some(tree.list(&key, paged.len(), size).expect("page")).filter(|p| !p.is_empty())
            {
                paged.extend(page);
            }
            assert_eq!(paged, whole, "{path}, pages of {size}");
        }
        for c in &whole {
            let child = tree.resolve(&Path::new(path).join(&c.name)).expect("child");
            assert_eq!(child, c.key, "{path}: {:?}", c.name);
        }
    }
}

/// READDIRPLUS pages: the same entries as plain pages, each with what getattr answers, except
/// STAC items, which carry a provisional size until generated (a listing never indexes).
#[test]
fn pages_with_attributes_are_getattr_and_never_index() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let vfs = inode_vfs(&fixtures);
    let plain = vfs.readdir(ROOT_INO).expect("readdir");
    let listed = vfs.readdirplus_page(ROOT_INO, 0, usize::MAX).expect("plus");
    assert_eq!(listed.iter().map(|e| &e.entry).cloned().collect::<Vec<_>>(), plain);
    let mut items = 0;
    for e in listed.iter().skip(2) {
        let attr = e.attr.expect("every fixture can be stat'ed");
        if e.entry.name.to_string_lossy().ends_with(".stac.json") {
            items += 1;
            assert!(e.provisional && attr.size == 0, "{:?}: not generated yet", e.entry.name);
        } else {
            assert!(!e.provisional, "{:?}", e.entry.name);
        }
    }
    assert!(items > 10, "{items} items");
    // once an item is generated, listings carry its real size, cacheable
    for e in listed.iter().skip(2) {
        let real = vfs.getattr(e.entry.ino).expect("getattr");
        let again = vfs.readdirplus_page(ROOT_INO, 0, usize::MAX).expect("plus");
        let now = again.iter().find(|a| a.entry.ino == e.entry.ino).expect("still listed");
        assert_eq!((now.attr, now.provisional), (Some(real), false), "{:?}", e.entry.name);
    }
    // inside a store and an array directory: exactly getattr, page by page
    let store = vfs.lookup(ROOT_INO, OsStr::new("tas_day.zarr")).expect("store").ino;
    let array = vfs.lookup(store, OsStr::new("tas")).expect("array").ino;
    for ino in [store, array] {
        let mut start = 0;
        loop {
            let page = vfs.readdirplus_page(ino, start, 3).expect("page");
            if page.is_empty() {
                break;
            }
            for e in page.iter().filter(|e| e.entry.name != "." && e.entry.name != "..") {
                assert_eq!(e.attr, Some(vfs.getattr(e.entry.ino).expect("getattr")));
                assert!(!e.provisional);
            }
            start += page.len();
        }
        assert_eq!(start, vfs.readdir(ino).expect("readdir").len());
    }
}

/// The page after a directory's last entry is known to be empty: asking for it touches
/// nothing, not even a dataset whose source has gone (a page from the start does).
#[test]
fn the_page_after_the_end_is_empty_without_work() {
    let dir = std::env::temp_dir().join(format!("cloudify-dir-end-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    std::fs::copy(fixtures.join("tas_day.nc"), dir.join("x.nc")).expect("copy");
    let vfs = inode_vfs(&dir);
    let store = vfs.lookup(ROOT_INO, OsStr::new("x.zarr")).expect("store").ino;
    let listed = vfs.readdirplus_page(store, 0, 256).expect("page");
    let last = listed.last().expect("entries");
    assert_eq!(last.entry.offset, DIR_END);
    std::fs::remove_file(dir.join("x.nc")).expect("rm");
    assert!(vfs.readdirplus_page(store, DIR_END as usize, 256).expect("end").is_empty());
    assert!(vfs.readdir_page(store, DIR_END as usize, 256).expect("end").is_empty());
    assert!(vfs.readdirplus_page(store, 0, 256).is_err(), "the dataset is gone");
    std::fs::remove_dir_all(&dir).expect("clean up");
}
