//! The tree counts the references the kernel holds to its nodes (FUSE lookup counts): a
//! lookup and a listed entry are one each, a failed lookup and an entry the reply could not
//! take are none, and a node whose references are all forgotten leaves the inode table.

use cloudify_mount::vfs::{Vfs, VfsError, VfsOptions, ROOT_INO};
use std::ffi::OsStr;
use std::path::Path;

#[test]
fn references_are_counted_as_the_kernel_counts_them() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let vfs = Vfs::new(&fixtures, VfsOptions::default()).expect("vfs");
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
    assert_eq!(bytes.len() as u64, zattrs.size);
    assert!(vfs.getattr(ROOT_INO).is_ok(), "the root is never forgotten");
}
