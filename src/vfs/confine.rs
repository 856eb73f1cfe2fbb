//! The symlink policy at access time. Listings decide which links are shown (see
//! [`super::naming`]); but a path the kernel already knows is resolved again on every request,
//! so a link replaced after its directory was listed could lead outside the archive. Before a
//! directory is listed or a dataset served, its real path is checked to lie inside the archive
//! (unless `--follow-symlinks`). A path is checked once per version (inode and mtime): the
//! check is one cache lookup on the read path. A first check of a path that is not itself a
//! link, in the archive root or in a directory checked before (the same inode and mtime now),
//! is vouched for by that directory: one `lstat` (and a `stat` of the directory) instead of a
//! `readlink` per component of the path (a dozen in a CMIP-style tree).

use super::VfsError;
use moka::sync::Cache;
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tracing::warn;

/// What identifies the object a path led to when it was checked.
type Seen = (u64, SystemTime);

/// Checks that archive paths resolve inside the archive.
pub struct Confinement {
    root: PathBuf,
    follow_symlinks: bool,
    /// Keyed by the path's bytes (hashing a `Path` walks its components).
    verified: Cache<OsString, Seen, foldhash::fast::RandomState>,
}

impl Confinement {
    /// Paths below the canonical `root`; with `follow_symlinks` every path is allowed.
    pub fn new(root: PathBuf, follow_symlinks: bool) -> Self {
        let verified = Cache::builder()
            .max_capacity(100_000)
            .build_with_hasher(foldhash::fast::RandomState::default());
        Confinement { root, follow_symlinks, verified }
    }

    /// Allow `path` (absolute, below the root) whose target has inode `ino` and `mtime` now,
    /// or refuse it with [`VfsError::Outside`] and a (rate-limited) log line.
    pub fn check(&self, path: &Path, ino: u64, mtime: SystemTime) -> Result<(), VfsError> {
        if self.follow_symlinks || self.verified.get(path.as_os_str()) == Some((ino, mtime)) {
            return Ok(());
        }
        if self.vouched_by_parent(path, ino)? {
            self.verified.insert(path.as_os_str().to_owned(), (ino, mtime));
            return Ok(());
        }
        let real = path.canonicalize()?;
        if real.starts_with(&self.root) {
            self.verified.insert(path.as_os_str().to_owned(), (ino, mtime));
            return Ok(());
        }
        self.verified.invalidate(path.as_os_str());
        if crate::telemetry::log_limit::allow(path, "symlink leaves the archive").is_some() {
            warn!(path = %path.display(), target = %real.display(),
                "refused: a symbolic link now leads outside the archive (see --follow-symlinks)");
        }
        Err(VfsError::Outside)
    }

    /// True when `path` is no link (its inode is `ino`) and lies in the root or in a directory
    /// whose check still holds: its real path is then that directory's real path and its name.
    fn vouched_by_parent(&self, path: &Path, ino: u64) -> Result<bool, VfsError> {
        let meta = std::fs::symlink_metadata(path)?;
        if meta.file_type().is_symlink() || meta.ino() != ino {
            return Ok(false);
        }
        let Some(parent) = path.parent() else { return Ok(false) };
        if parent == self.root {
            return Ok(true);
        }
        let Some(seen) = self.verified.get(parent.as_os_str()) else { return Ok(false) };
        let dir = std::fs::metadata(parent)?;
        Ok(seen == (dir.ino(), dir.modified()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(p: &Path) -> Seen {
        let m = std::fs::metadata(p).unwrap();
        (m.ino(), m.modified().unwrap())
    }

    #[test]
    fn a_link_swapped_to_the_outside_is_refused() {
        let tmp = std::env::temp_dir().join(format!("cloudify-confine-{}", std::process::id()));
        let (archive, outside) = (tmp.join("archive"), tmp.join("outside"));
        std::fs::create_dir_all(archive.join("real")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let root = archive.canonicalize().unwrap();
        let link = root.join("link");
        std::os::unix::fs::symlink(root.join("real"), &link).unwrap();
        let strict = Confinement::new(root.clone(), false);
        let follow = Confinement::new(root.clone(), true);
        let s = seen(&link);
        assert!(strict.check(&link, s.0, s.1).is_ok());
        assert!(strict.check(&link, s.0, s.1).is_ok(), "second check from the cache");
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let s = seen(&link);
        assert!(matches!(strict.check(&link, s.0, s.1), Err(VfsError::Outside)));
        assert!(follow.check(&link, s.0, s.1).is_ok());
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn a_checked_directory_vouches_only_while_it_is_the_same() {
        let tmp = std::env::temp_dir().join(format!("cloudify-vouch-{}", std::process::id()));
        let (archive, outside) = (tmp.join("archive"), tmp.join("outside"));
        std::fs::create_dir_all(archive.join("d")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(archive.join("d/f.nc"), b"in").unwrap();
        std::fs::write(outside.join("f.nc"), b"out").unwrap();
        let root = archive.canonicalize().unwrap();
        let strict = Confinement::new(root.clone(), false);
        let (dir, file) = (root.join("d"), root.join("d/f.nc"));
        let d = seen(&dir);
        strict.check(&dir, d.0, d.1).unwrap();
        let f = seen(&file);
        assert!(strict.vouched_by_parent(&file, f.0).unwrap(), "the checked directory vouches");
        strict.check(&file, f.0, f.1).unwrap();
        // the directory swapped for a link to the outside: the same name, another directory
        std::fs::rename(&dir, tmp.join("moved")).unwrap();
        std::os::unix::fs::symlink(&outside, &dir).unwrap();
        let f = seen(&file);
        assert!(!strict.vouched_by_parent(&file, f.0).unwrap());
        assert!(matches!(strict.check(&file, f.0, f.1), Err(VfsError::Outside)));
        // a link in the root is never vouched for, even to a file inside
        let link = root.join("l.nc");
        std::os::unix::fs::symlink(tmp.join("moved/f.nc"), &link).unwrap();
        let l = seen(&link);
        assert!(!strict.vouched_by_parent(&link, l.0).unwrap());
        assert!(matches!(strict.check(&link, l.0, l.1), Err(VfsError::Outside)));
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
