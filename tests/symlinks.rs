//! The symlink policy of the virtual tree, without a kernel: links leaving the archive are not
//! shown unless `follow_symlinks`, links looping back are never shown, names cannot climb out
//! of the archive, and a link replaced after it was listed is refused at access time.

use cloudify_mount::vfs::{Kind, Vfs, VfsError, VfsOptions, ROOT_INO};
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

fn names(vfs: &Vfs, ino: u64) -> Vec<String> {
    let entries = vfs.readdir(ino).expect("readdir");
    let mut out: Vec<String> = entries
        .into_iter()
        .map(|e| e.name.to_string_lossy().into_owned())
        .filter(|n| n != "." && n != "..")
        .collect();
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
    assert_eq!(names(&strict, ROOT_INO), ["in.zarr", "inlink.zarr", "sub"]);
    let sub = strict.lookup(ROOT_INO, OsStr::new("sub")).expect("sub");
    assert!(names(&strict, sub.ino).is_empty(), "sub/up loops back to the root");
    for hidden in ["outlink.zarr", "outdir", "slash", "dangling.zarr"] {
        assert!(matches!(strict.lookup(ROOT_INO, OsStr::new(hidden)), Err(VfsError::NotFound)));
    }

    let follow = vfs(&archive, true);
    assert_eq!(
        names(&follow, ROOT_INO),
        ["in.zarr", "inlink.zarr", "outdir", "outlink.zarr", "sub"]
    );
    let outdir = follow.lookup(ROOT_INO, OsStr::new("outdir")).expect("outdir");
    assert_eq!(names(&follow, outdir.ino), ["deep.zarr"]);
    let store = follow.lookup(ROOT_INO, OsStr::new("outlink.zarr")).expect("store");
    let zgroup = follow.lookup(store.ino, OsStr::new(".zgroup")).expect(".zgroup");
    assert_eq!(zgroup.kind, Kind::File);
    assert!(!follow.read(zgroup.ino, 0, 4096).expect("read").is_empty());
    // loops stay hidden even when following links
    let sub = follow.lookup(ROOT_INO, OsStr::new("sub")).expect("sub");
    assert!(names(&follow, sub.ino).is_empty());
    std::fs::remove_dir_all(tmp).expect("clean up");
}

#[test]
fn names_cannot_climb_out() {
    let (archive, tmp) = layout("names");
    let strict = vfs(&archive, false);
    for name in ["..", ".", "../outside", "/etc", "sub/..", "sub/up", "", "../outside/out.zarr"] {
        assert!(
            matches!(strict.lookup(ROOT_INO, OsStr::new(name)), Err(VfsError::NotFound)),
            "{name:?}"
        );
    }
    let store = strict.lookup(ROOT_INO, OsStr::new("in.zarr")).expect("store");
    for name in ["..", "../..", "../../outside", "/etc/passwd"] {
        assert!(strict.lookup(store.ino, OsStr::new(name)).is_err(), "{name:?} in a store");
    }
    std::fs::remove_dir_all(tmp).expect("clean up");
}

#[test]
fn a_link_replaced_after_listing_is_refused() {
    let (archive, tmp) = layout("swap");
    let strict = vfs(&archive, false);
    let store = strict.lookup(ROOT_INO, OsStr::new("inlink.zarr")).expect("store");
    let zgroup = strict.lookup(store.ino, OsStr::new(".zgroup")).expect(".zgroup");
    assert!(strict.read(zgroup.ino, 0, 4096).is_ok());
    // the same name now leads outside; the inodes are still known (as the kernel's would be)
    std::fs::remove_file(archive.join("inlink.nc")).expect("rm");
    symlink(tmp.join("outside/out.nc"), archive.join("inlink.nc")).expect("link");
    assert!(matches!(strict.read(zgroup.ino, 0, 4096), Err(VfsError::Outside)));
    assert!(matches!(strict.getattr(store.ino), Err(VfsError::Outside)));
    assert!(matches!(strict.lookup(ROOT_INO, OsStr::new("inlink.zarr")), Err(VfsError::NotFound)));
    std::fs::remove_dir_all(tmp).expect("clean up");
}
