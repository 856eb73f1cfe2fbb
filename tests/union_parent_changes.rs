//! `--union-parent` without a kernel: the union store a directory of variable trees shows, and
//! what the kernel is told to forget when a new version or a new variable appears below it
//! (the members are copies of one fixture: the store is never joined here, only named).

use cloudify_mount::fuse::{InodeVfs, ROOT_INO};
use cloudify_mount::vfs::{Vfs, VfsOptions};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const STORE: &str = "day_M_historical_r1i1p1f1_gn.zarr";

fn put(root: &Path, rel: &str) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tas_day.nc");
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::copy(fixture, &path).expect("copy");
    path
}

#[test]
fn a_new_version_or_variable_makes_the_union_store_stale() {
    let root = std::env::temp_dir().join(format!("cloudify-union-parent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    put(&root, "day/tas/gn/v1/tas_day_M_historical_r1i1p1f1_gn_1850-1851.nc");
    put(&root, "day/pr/gn/v1/pr_day_M_historical_r1i1p1f1_gn_1850-1851.nc");
    let off = Vfs::new(&root, VfsOptions::default()).expect("vfs");
    assert!(off.resolve(&Path::new("day").join(STORE)).is_err(), "off by default");
    let options = VfsOptions { union_parent: true, ..VfsOptions::default() };
    let vfs = InodeVfs::new(Arc::new(Vfs::new(&root, options).expect("vfs")));
    let day = vfs.lookup(ROOT_INO, OsStr::new("day")).expect("day").ino;
    let store = vfs.lookup(day, OsStr::new(STORE)).expect("the union store").ino;

    // a new version below a grid directory (renamed into place)
    put(&root, "stage/tas_day_M_historical_r1i1p1f1_gn_1850-1851.nc");
    std::fs::rename(root.join("stage"), root.join("day/tas/gn/v2")).expect("rename");
    let inv = vfs.source_changed(Path::new("day/tas/gn/v2"), true);
    for ino in [store, day] {
        assert!(inv.inodes.contains(&ino), "inode {ino} not invalidated: {:?}", inv.inodes);
    }
    for name in [STORE, "day_M_historical_r1i1p1f1_gn.stac.json"] {
        assert!(inv.entries.contains(&(day, name.into())), "{name}: {:?}", inv.entries);
    }

    // a file written in the version taken
    let inv = vfs.source_changed(
        Path::new("day/tas/gn/v2/tas_day_M_historical_r1i1p1f1_gn_1850-1851.nc"),
        false,
    );
    assert!(inv.inodes.contains(&store), "{:?}", inv.inodes);
    // ... and in a version not taken: nothing of the store
    let inv = vfs.source_changed(
        Path::new("day/tas/gn/v1/tas_day_M_historical_r1i1p1f1_gn_1850-1851.nc"),
        false,
    );
    assert!(!inv.inodes.contains(&store), "{:?}", inv.inodes);

    // a new variable directory in the parent
    put(&root, "day/tasmax/gn/v1/tasmax_day_M_historical_r1i1p1f1_gn_1850-1851.nc");
    let inv = vfs.source_changed(Path::new("day/tasmax"), true);
    assert!(inv.inodes.contains(&store) && inv.inodes.contains(&day), "{:?}", inv.inodes);

    // another grid label: a second store appears, its name is invalidated in the parent
    put(&root, "day/pr/gr/v1/pr_day_M_historical_r1i1p1f1_gr_1850-1851.nc");
    let inv = vfs.source_changed(Path::new("day/pr/gr"), true);
    let gr = "day_M_historical_r1i1p1f1_gr.zarr";
    assert!(inv.entries.contains(&(day, gr.into())), "{:?}", inv.entries);
    assert!(vfs.lookup(day, OsStr::new(gr)).is_ok());
    let _ = std::fs::remove_dir_all(&root);
}
