//! The tree counts the references the kernel holds to its nodes (FUSE lookup counts): a
//! lookup and a listed entry are one each, a failed lookup and an entry the reply could not
//! take are none, and a node whose references are all forgotten leaves the inode table.

use cloudify_mount::fuse::{InodeVfs, ROOT_INO};
use cloudify_mount::vfs::{Vfs, VfsError, VfsOptions};
use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;

fn inode_vfs(archive: &Path) -> InodeVfs {
    InodeVfs::new(Arc::new(Vfs::new(archive, VfsOptions::default()).expect("vfs")))
}

#[test]
fn references_are_counted_as_the_kernel_counts_them() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let vfs = inode_vfs(&fixtures);
    assert_eq!(vfs.nodes(), 1);
    let store = vfs.lookup(ROOT_INO, OsStr::new("tas_day.zarr")).expect("store").ino;
    assert_eq!(vfs.nodes(), 2);
    assert!(vfs.lookup(store, OsStr::new("no-such-array")).is_err());
    assert_eq!(vfs.nodes(), 2, "a failed lookup holds nothing");

    let page = vfs.readdirplus_page(store, 0, usize::MAX).expect("page");
    assert!(page.len() > 4, "{page:?}");
    assert_eq!(vfs.nodes(), 2 + page.len() - 2, "every entry but . and ..");
    // the reply took ".", ".." and one entry: the others are given back
    vfs.unsent(&page[3..]);
    assert_eq!(vfs.nodes(), 3);

    let kept = &page[2].entry;
    assert_eq!(vfs.lookup(store, &kept.name).expect("lookup").ino, kept.ino);
    vfs.forget([(kept.ino, 1)]);
    assert!(vfs.getattr(kept.ino).is_ok(), "one reference left");
    vfs.forget([(kept.ino, 1), (store, 1)]);
    assert_eq!(vfs.nodes(), 1);
    assert!(matches!(vfs.getattr(kept.ino), Err(VfsError::NotFound)));
    assert!(matches!(vfs.getattr(store), Err(VfsError::NotFound)));

    // looked up again, the store serves what it served before
    let again = vfs.lookup(ROOT_INO, OsStr::new("tas_day.zarr")).expect("store").ino;
    let zattrs = vfs.lookup(again, OsStr::new(".zattrs")).expect(".zattrs");
    let bytes = vfs.read(zattrs.ino, 0, u32::MAX).expect("read");
    assert_eq!(bytes.len() as u64, zattrs.attr.size);
    assert!(vfs.getattr(ROOT_INO).is_ok(), "the root is never forgotten");
}

/// A STAC item's size, known once the item was generated, is listed while the kernel holds the
/// item's node, and forgotten with it (listed as provisional again).
#[test]
fn an_item_size_lives_as_long_as_its_node() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let vfs = inode_vfs(&fixtures);
    let item = OsStr::new("tas_day.stac.json");
    let listed = |vfs: &InodeVfs| {
        let page = vfs.readdirplus_page(ROOT_INO, 0, usize::MAX).expect("page");
        let e = page.iter().find(|e| e.entry.name == item).expect("item listed").clone();
        vfs.unsent(&page); // given back whole: the listing leaves no reference
        (e.entry.ino, e.provisional, e.attr.expect("attr").size)
    };
    let (_, provisional, _) = listed(&vfs);
    assert!(provisional, "not generated yet");
    let looked_up = vfs.lookup(ROOT_INO, item).expect("item");
    assert!(looked_up.attr.size > 0);
    let (ino, provisional, size) = listed(&vfs);
    assert_eq!((ino, provisional, size), (looked_up.ino, false, looked_up.attr.size));
    vfs.forget([(ino, 1)]);
    assert_eq!(vfs.nodes(), 1, "only the root is left");
    let (_, provisional, size) = listed(&vfs);
    assert!(provisional && size == 0, "forgotten with its node");
}

/// Names answered missing with a timeout (negative entries) are remembered under their
/// directory: a change of the source behind that directory names them for the kernel to drop
/// (a variable added to a file appears in its store at once), and a forgotten directory takes
/// its negative entries with it.
#[test]
fn negative_entries_are_dropped_with_their_source_change() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let archive = std::env::temp_dir().join(format!("cloudify-negative-{}", std::process::id()));
    std::fs::create_dir_all(&archive).unwrap();
    std::fs::copy(fixtures.join("tas_day.nc"), archive.join("tas_day.nc")).unwrap();
    let vfs = inode_vfs(&archive);
    let ttl = std::time::Duration::from_secs(60);
    let store = vfs.lookup(ROOT_INO, OsStr::new("tas_day.zarr")).expect("store").ino;
    let u = OsStr::new("u");
    assert!(matches!(vfs.lookup(store, u), Err(VfsError::NotFound)));
    assert!(vfs.missing(store, u, ttl), "cached as missing");
    assert!(!vfs.missing(store, OsStr::new("v"), std::time::Duration::ZERO), "no timeout");
    let changed = vfs.source_changed(Path::new("tas_day.nc"), false);
    assert!(changed.entries.contains(&(store, u.to_os_string())), "{changed:?}");
    let again = vfs.source_changed(Path::new("tas_day.nc"), false);
    assert!(!again.entries.contains(&(store, u.to_os_string())), "named once");

    assert!(vfs.missing(store, u, ttl));
    vfs.forget([(store, 1)]);
    let store = vfs.lookup(ROOT_INO, OsStr::new("tas_day.zarr")).expect("store").ino;
    let changed = vfs.source_changed(Path::new("tas_day.nc"), false);
    assert!(!changed.entries.iter().any(|(_, n)| n == u), "went with its directory: {changed:?}");
    vfs.forget([(store, 1)]);
    std::fs::remove_dir_all(&archive).unwrap();
}
