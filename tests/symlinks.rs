//! The symlink policy of the virtual tree (by path), without a kernel: links leaving the
//! archive are not shown unless `follow_symlinks`, links looping back are never shown, names
//! and paths cannot climb out of the archive, and a link replaced after it was listed is
//! refused at access time.

use cloudify_mount::vfs::{Kind, NodeKey, Vfs, VfsError, VfsOptions};
use std::ffi::OsStr;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// `<tmp>/archive` (one dataset, a sub-directory, links of every kind) and `<tmp>/outside`
/// (a dataset and a directory holding one).
fn layout(tag: &str) -> (PathBuf, PathBuf) {
    let tmp = std::env::temp_dir().join(format!("cloudify-links-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let (archive, outside) = (tmp.join("archive"), tmp.join("outside"));
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/packed.nc");
    for d in [archive.join("sub"), outside.join("dir")] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    for f in [archive.join("in.nc"), outside.join("out.nc"), outside.join("dir/deep.nc")] {
        std::fs::copy(&data, f).expect("copy");
    }
    symlink(archive.join("in.nc"), archive.join("inlink.nc")).expect("link");
    symlink("../outside/out.nc", archive.join("outlink.nc")).expect("link");
    symlink(outside.join("dir"), archive.join("outdir")).expect("link");
    symlink("..", archive.join("sub/up")).expect("link"); // the archive root: a cycle
    symlink("/", archive.join("slash")).expect("link"); // above the archive: a cycle
    symlink(archive.join("missing.nc"), archive.join("dangling.nc")).expect("link");
    (archive, tmp)
}

fn names(vfs: &Vfs, path: &str) -> Vec<String> {
    let key = vfs.resolve(Path::new(path)).expect("resolve");
    let entries = vfs.list(&key, 0, usize::MAX).expect("list");
    let mut out: Vec<String> =
        entries.into_iter().map(|e| e.name.to_string_lossy().into_owned()).collect();
    out.sort();
    out
}

fn vfs(archive: &Path, follow_symlinks: bool) -> Vfs {
    let mut options = VfsOptions { follow_symlinks, ..VfsOptions::default() };
    options.stac.enabled = false;
    Vfs::new(archive, options).expect("vfs")
}

#[test]
fn links_leaving_the_archive_only_with_follow_symlinks() {
    let (archive, tmp) = layout("policy");
    let strict = vfs(&archive, false);
    assert_eq!(names(&strict, ""), ["in.zarr", "inlink.zarr", "sub"]);
    assert!(names(&strict, "sub").is_empty(), "sub/up loops back to the root");
    for hidden in ["outlink.zarr", "outdir", "slash", "dangling.zarr", "outdir/deep.zarr"] {
        assert!(matches!(strict.resolve(Path::new(hidden)), Err(VfsError::NotFound)));
    }

    let follow = vfs(&archive, true);
    assert_eq!(names(&follow, ""), ["in.zarr", "inlink.zarr", "outdir", "outlink.zarr", "sub"]);
    assert_eq!(names(&follow, "outdir"), ["deep.zarr"]);
    let zgroup = follow.resolve(Path::new("outlink.zarr/.zgroup")).expect(".zgroup");
    assert_eq!(follow.attr(&zgroup).expect("attr").kind, Kind::File);
    assert!(!follow.read(&zgroup, 0, 4096).expect("read").is_empty());
    // loops stay hidden even when following links
    assert!(names(&follow, "sub").is_empty());
    std::fs::remove_dir_all(tmp).expect("clean up");
}

#[test]
fn names_cannot_climb_out() {
    let (archive, tmp) = layout("names");
    let strict = vfs(&archive, false);
    let root = NodeKey::root();
    let found = |key: Result<NodeKey, VfsError>| key.and_then(|k| strict.attr(&k).map(|_| ()));
    for name in ["..", ".", "../outside", "/etc", "sub/..", "sub/up", "", "../outside/out.zarr"] {
        let child = strict.child(&root, OsStr::new(name));
        assert!(matches!(found(child), Err(VfsError::NotFound)), "{name:?}");
    }
    let store = strict.resolve(Path::new("in.zarr")).expect("store");
    for name in ["..", "../..", "../../outside", "/etc/passwd"] {
        assert!(found(strict.child(&store, OsStr::new(name))).is_err(), "{name:?} in a store");
    }
    // paths: ".." is refused wherever it stands, a leading "/" is the mount's root
    for path in ["..", "../outside", "sub/..", "sub/up", "in.zarr/..", "in.zarr/../../outside"] {
        assert!(matches!(strict.resolve(Path::new(path)), Err(VfsError::NotFound)), "{path:?}");
    }
    assert_eq!(strict.resolve(Path::new("/")).expect("root"), root);
    assert_eq!(strict.resolve(Path::new("/in.zarr")).expect("store"), store);
    assert!(matches!(found(strict.resolve(Path::new("/etc/passwd"))), Err(VfsError::NotFound)));
    std::fs::remove_dir_all(tmp).expect("clean up");
}

#[test]
fn a_link_replaced_after_listing_is_refused() {
    let (archive, tmp) = layout("swap");
    let strict = vfs(&archive, false);
    let store = strict.resolve(Path::new("inlink.zarr")).expect("store");
    let zgroup = strict.resolve(Path::new("inlink.zarr/.zgroup")).expect(".zgroup");
    assert!(strict.read(&zgroup, 0, 4096).is_ok());
    // the same name now leads outside; the keys are still held (as the kernel's inodes would be)
    std::fs::remove_file(archive.join("inlink.nc")).expect("rm");
    symlink(tmp.join("outside/out.nc"), archive.join("inlink.nc")).expect("link");
    assert!(matches!(strict.read(&zgroup, 0, 4096), Err(VfsError::Outside)));
    assert!(matches!(strict.attr(&store), Err(VfsError::Outside)));
    assert!(matches!(strict.resolve(Path::new("inlink.zarr")), Err(VfsError::NotFound)));
    std::fs::remove_dir_all(tmp).expect("clean up");
}
