//! Directories are read a page at a time: the pages put together are the whole listing, in
//! order, for archive directories and for array directories (chunk files).

use cloudify_mount::vfs::{Vfs, VfsOptions, ROOT_INO};
use std::ffi::OsStr;
use std::path::Path;

fn pages(vfs: &Vfs, ino: u64, size: usize) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let page = vfs.readdir_page(ino, out.len(), size).expect("page");
        assert!(page.len() <= size);
        if page.is_empty() {
            return out;
        }
        out.extend(page.into_iter().map(|e| e.name.to_string_lossy().into_owned()));
    }
}

#[test]
fn pages_put_together_are_the_listing() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let vfs = Vfs::new(&fixtures, VfsOptions::default()).expect("vfs");
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
}
