//! What goes stale when a source changes (the tree, by key), and what the kernel is told to
//! forget (the inode layer), without a kernel.

use cloudify_mount::fuse::{InodeVfs, ROOT_INO};
use cloudify_mount::vfs::{NodeKey, Vfs, VfsOptions};
use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;

#[test]
fn a_changed_source_names_its_inodes_entries_directory_and_catalog() {
    let dir = std::env::temp_dir().join(format!("cloudify-changes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    std::fs::copy(fixtures.join("tas_day.nc"), dir.join("x.nc")).expect("copy");
    std::fs::copy(fixtures.join("groups.nc"), dir.join("other.nc")).expect("copy");
    let vfs = InodeVfs::new(Arc::new(Vfs::new(&dir, VfsOptions::default()).expect("vfs")));
    let store = vfs.lookup(ROOT_INO, OsStr::new("x.zarr")).expect("store").ino;
    let zattrs = vfs.lookup(store, OsStr::new(".zattrs")).expect(".zattrs").ino;
    let item = vfs.lookup(ROOT_INO, OsStr::new("x.stac.json")).expect("item").ino;
    let catalog = vfs.lookup(ROOT_INO, OsStr::new("catalog.json")).expect("catalog").ino;
    let other = vfs.lookup(ROOT_INO, OsStr::new("other.zarr")).expect("other").ino;

    // a new x.h5 beside x.nc: both take their full names
    std::fs::copy(fixtures.join("hdf5_libver18.h5"), dir.join("x.h5")).expect("copy");
    let inv = vfs.source_changed(Path::new("x.h5"), true);
    let names: Vec<&str> = inv.entries.iter().filter_map(|(_, n)| n.to_str()).collect();
    for n in ["x.zarr", "x.stac.json", "x.nc.zarr", "x.h5.zarr", "x.nc.stac.json"] {
        assert!(names.contains(&n), "{n} not invalidated: {names:?}");
    }
    assert!(inv.entries.iter().all(|(p, _)| *p == ROOT_INO));
    assert!(inv.inodes.contains(&ROOT_INO) && inv.inodes.contains(&catalog));

    // x.nc rewritten: every inode made from it, not the other dataset's
    let inv = vfs.source_changed(Path::new("x.nc"), false);
    for ino in [store, zattrs, item, catalog] {
        assert!(inv.inodes.contains(&ino), "inode {ino} not invalidated: {:?}", inv.inodes);
    }
    assert!(!inv.inodes.contains(&other));

    // created empty (not data: not shown), then written (content only): shown now
    std::fs::write(dir.join("late.nc"), b"").expect("create");
    vfs.source_changed(Path::new("late.nc"), true);
    assert!(vfs.lookup(ROOT_INO, OsStr::new("late.zarr")).is_err());
    std::fs::copy(fixtures.join("groups.nc"), dir.join("late.nc")).expect("write");
    let inv = vfs.source_changed(Path::new("late.nc"), false);
    assert!(inv.entries.iter().any(|(_, n)| n == "late.zarr"), "{:?}", inv.entries);
    assert!(vfs.lookup(ROOT_INO, OsStr::new("late.zarr")).is_ok());

    // the same change by key: every node of the source, its directory and catalog
    let tree = vfs.vfs();
    std::fs::copy(fixtures.join("tas_day.nc"), dir.join("late.nc")).expect("write");
    let stale = tree.source_changed(Path::new("late.nc"), false).expect("a file");
    assert_eq!(
        (stale.source.as_path(), stale.dir.as_path()),
        (Path::new("late.nc"), Path::new(""))
    );
    for path in ["late.zarr", "late.zarr/.zattrs", "late.stac.json", "catalog.json", ""] {
        let key = tree.resolve(Path::new(path)).expect(path);
        assert!(stale.covers(&key), "{path} not stale");
    }
    let other = tree.resolve(Path::new("other.zarr/.zgroup")).expect("other");
    assert!(!stale.covers(&other));
    assert!(stale.covers(&NodeKey::Catalog("".into())));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_member_changed_names_the_inodes_of_its_collection() {
    let dir = std::env::temp_dir().join(format!("cloudify-changes-coll-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for name in ["tas_1850.nc", "tas_1851.nc"] {
        std::fs::copy(fixtures.join("tas_day.nc"), dir.join(name)).expect("copy");
    }
    let vfs = InodeVfs::new(Arc::new(Vfs::new(&dir, VfsOptions::default()).expect("vfs")));
    let store = vfs.lookup(ROOT_INO, OsStr::new("tas.zarr")).expect("the collection").ino;
    // (the two copies overlap in time: the collection is refused, but its store is listed
    // and its nodes are still the kernel's to forget)
    let own = vfs.lookup(ROOT_INO, OsStr::new("tas_1850.zarr")).expect("a member's store").ino;
    // content changed, names unchanged: the collection's nodes go by inode, not by name
    std::fs::copy(fixtures.join("tas_day.nc"), dir.join("tas_1851.nc")).expect("rewrite");
    let inv = vfs.source_changed(Path::new("tas_1851.nc"), false);
    assert!(inv.inodes.contains(&store), "collection inode {store} not invalidated: {inv:?}");
    assert!(!inv.inodes.contains(&own), "the other member's store is not stale");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_where_an_ncml_scan_looks_names_the_inodes_of_its_store() {
    let dir = std::env::temp_dir().join(format!("cloudify-changes-ncml-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).expect("mkdir");
    std::fs::create_dir_all(dir.join("elsewhere")).expect("mkdir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    std::fs::copy(fixtures.join("tas_day.nc"), dir.join("data/a.nc")).expect("copy");
    let ncml = "<netcdf xmlns=\"http://www.unidata.ucar.edu/namespaces/netcdf/ncml-2.2\">\
        <aggregation type=\"joinExisting\" dimName=\"time\">\
        <scan location=\"data\" suffix=\".nc\"/></aggregation></netcdf>";
    std::fs::write(dir.join("agg.ncml"), ncml).expect("ncml");
    let vfs = InodeVfs::new(Arc::new(Vfs::new(&dir, VfsOptions::default()).expect("vfs")));
    let store = vfs.lookup(ROOT_INO, OsStr::new("agg.zarr")).expect("the NcML store").ino;
    // its plan is made when the store is used
    let _ = vfs.lookup(store, OsStr::new(".zmetadata"));
    std::fs::copy(fixtures.join("tas_day.nc"), dir.join("data/b.nc")).expect("copy");
    let inv = vfs.source_changed(Path::new("data/b.nc"), true);
    assert!(inv.inodes.contains(&store), "NcML store {store} not invalidated: {inv:?}");
    // elsewhere: not the store's business
    std::fs::copy(fixtures.join("tas_day.nc"), dir.join("elsewhere/c.nc")).expect("copy");
    let _ = vfs.lookup(store, OsStr::new(".zmetadata"));
    let inv = vfs.source_changed(Path::new("elsewhere/c.nc"), true);
    assert!(!inv.inodes.contains(&store), "{inv:?}");
    // the NcML file itself edited
    std::fs::write(dir.join("agg.ncml"), ncml.replace(".nc\"", ".nc4\"")).expect("edit");
    let inv = vfs.source_changed(Path::new("agg.ncml"), false);
    assert!(inv.inodes.contains(&store), "NcML store {store} not invalidated: {inv:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
