//! Files of the tree that a layer above makes (`crate::derive`, wired by the binaries): the
//! quick-look image beside each item (`<stem>.thumbnail.png`, `--thumbnails`) and the derived
//! stores declared in the `--collections` file (`[[derived]]`). The tree knows them through
//! the [`Generator`] hook only: names are the tree's (listings stay as cheap as before), bytes
//! the hook's.
//!
//! A listing shows a thumbnail beside every item without reading the dataset (listings never
//! index), so a dataset with nothing to plot, or one that cannot be indexed, still has the
//! file: an empty image ([`NO_THUMBNAIL`], 1×1 transparent), and its item no `thumbnail`
//! asset; a log line says why. A walk (`find`, `rsync`, `rclone`) thus never meets a listed
//! name that is not there. Drawing that fails for a variable the item names is an error (EIO).
//!
//! Sizes are exact before any read: a thumbnail is drawn when it is first looked up (a
//! listing with attributes gives a provisional size until then, as for items), a derived
//! store is computed when it is first listed or a path inside it looked up. Both are cached
//! by the hook, keyed by the source's identity, so a changed source is drawn or computed anew.

use super::naming::{store_stem, ArchiveEntry};
use super::node::{Attr, Kind};
use super::page::Child;
use super::{NodeKey, Vfs, VfsError};
use crate::collection::declared_derived::DeclaredDerived;
use crate::stac::{Thumbnail, THUMBNAIL_SUFFIX};
use crate::telemetry::log_limit;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::sync::Arc;
use tracing::{info, warn};

/// The thumbnail of a dataset with nothing to plot: a 1×1 transparent PNG.
pub const NO_THUMBNAIL: [u8; 68] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0xe9, 0xfa, 0xdc, 0xd8, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

/// Why a generated file could not be made (the hook's error, kept as the cause).
pub type GenerateError = Box<dyn std::error::Error + Send + Sync>;

/// A derived store's files: `.zmetadata`, `tas/.zarray`, `tas/0.0`, … → bytes.
pub trait GeneratedStore: Send + Sync {
    fn files(&self) -> &BTreeMap<String, bytes::Bytes>;
}

/// What makes the generated files' bytes.
pub trait Generator: Send + Sync + std::fmt::Debug {
    /// The files of the derived store declared as `name` (its path in the tree).
    fn derived_store(&self, name: &Path) -> Result<Arc<dyn GeneratedStore>, GenerateError>;
    /// The PNG image `thumb` of the store at `store` (its path in the tree).
    fn thumbnail(&self, store: &Path, thumb: &Thumbnail) -> Result<Arc<Vec<u8>>, GenerateError>;
}

/// The thumbnail's name of store `store` (`x.zarr` → `x.thumbnail.png`).
pub(super) fn thumbnail_name(store: &[u8]) -> OsString {
    OsString::from_vec([store_stem(store), THUMBNAIL_SUFFIX.as_bytes()].concat())
}

/// Add to directory `rel`'s `entries` a thumbnail beside every item (`thumbnails`) and the
/// derived stores declared in it, unless their names are taken (logged).
pub(super) fn add_entries(
    entries: &mut Vec<ArchiveEntry>,
    rel: &Path,
    thumbnails: bool,
    derived: &[DeclaredDerived],
) {
    let mut added = Vec::new();
    if thumbnails {
        for e in entries.iter() {
            if let ArchiveEntry::Item { file, store, .. } = e {
                use std::os::unix::ffi::OsStrExt;
                let name = thumbnail_name(store.as_bytes());
                added.push(ArchiveEntry::Thumbnail {
                    name,
                    file: file.clone(),
                    store: store.clone(),
                });
            }
        }
    }
    for d in derived.iter().filter(|d| d.name.parent() == Some(rel)) {
        if let Some(name) = d.name.file_name() {
            added.push(ArchiveEntry::Derived { name: name.to_os_string() });
        }
    }
    for a in added {
        if entries.iter().any(|e| e.name() == a.name()) {
            warn!(dir = %rel.display(), name = ?a.name(), "not shown: the name is taken");
            continue;
        }
        entries.push(a);
    }
    entries.sort_by(|a, b| a.name().cmp(b.name()));
}

impl Vfs {
    fn generator(&self) -> Result<&Arc<dyn Generator>, VfsError> {
        self.generator.get().ok_or(VfsError::NotFound)
    }

    /// The store path in the tree of `store` shown beside archive-relative `source`.
    fn store_path(source: &Path, store: &std::ffi::OsStr) -> std::path::PathBuf {
        source.parent().unwrap_or(Path::new("")).join(store)
    }

    /// The attributes of the thumbnail of `source`: its size as drawn last from this very
    /// source (images are drawn alike from the same data), else drawn now. A second walk
    /// (`rsync` comparing sizes and times) draws nothing again, even once the image itself
    /// has left the cache.
    pub(super) fn thumbnail_attr(
        &self,
        source: &Path,
        store: &std::ffi::OsStr,
    ) -> Result<Attr, VfsError> {
        let stat = self.source_stat(source)?;
        match self.thumb_sizes.get(source, &stat.identity) {
            Some(size) => Ok(Attr::of_source(&stat, Kind::File, size)),
            None => Ok(self.thumbnail_file(source, store)?.0),
        }
    }

    /// The thumbnail of `source` (shown beside store `store`), drawn or cached, and its
    /// attributes. Nothing to plot, or a dataset that cannot be read: [`NO_THUMBNAIL`]
    /// (logged).
    pub(super) fn thumbnail_file(
        &self,
        source: &Path,
        store: &std::ffi::OsStr,
    ) -> Result<(Attr, Arc<Vec<u8>>), VfsError> {
        let empty = |stat: &super::identity::SourceStat, why: &str| {
            if log_limit::allow(source, "no thumbnail").is_some() {
                info!(file = %source.display(), "no thumbnail: {why}");
            }
            let attr = Attr::of_source(stat, Kind::File, NO_THUMBNAIL.len() as u64);
            self.thumb_sizes.record(source, stat.identity, attr.size);
            Ok((attr, Arc::new(NO_THUMBNAIL.to_vec())))
        };
        let ds = match self.dataset(source) {
            Ok(ds) => ds,
            Err(e @ VfsError::Dataset(super::DatasetError::MemberChanged { .. })) => return Err(e),
            Err(VfsError::Dataset(e)) => {
                let why = self.without_root(&format!("the dataset cannot be read: {e}"));
                return empty(&self.source_stat(source)?, &why);
            }
            Err(e) => return Err(e),
        };
        let Some(thumb) = crate::stac::thumbnail::choose(&ds.view) else {
            return empty(&ds.stat, "no variable to plot");
        };
        let at = Self::store_path(source, store);
        let image = self.generator()?.thumbnail(&at, &thumb).map_err(|e| {
            if log_limit::allow(source, "thumbnail failed").is_some() {
                warn!(file = %source.display(), var = %thumb.var, "thumbnail failed: {e}");
            }
            VfsError::Generated { what: format!("thumbnail of {}", at.display()), source: e }
        })?;
        let attr = Attr::of_source(&ds.stat, Kind::File, image.len() as u64);
        self.thumb_sizes.record(source, ds.stat.identity, attr.size);
        Ok((attr, image))
    }

    /// The thumbnail of the item of `source`, if thumbnails are shown: its file's name, and
    /// what it shows (`None` when nothing can be plotted).
    pub(super) fn item_thumbnail(
        &self,
        store: &std::ffi::OsStr,
        ds: &super::Loaded,
    ) -> Option<(String, Thumbnail)> {
        use std::os::unix::ffi::OsStrExt;
        if !self.thumbnails || self.generator.get().is_none() {
            return None;
        }
        let thumb = crate::stac::thumbnail::choose(&ds.view)?;
        Some((thumbnail_name(store.as_bytes()).to_string_lossy().into_owned(), thumb))
    }

    /// The declaration of derived store `name`.
    fn declared_derived(&self, name: &Path) -> Result<&DeclaredDerived, VfsError> {
        self.derived.iter().find(|d| d.name == name).ok_or(VfsError::NotFound)
    }

    /// Attributes of the input store of derived store `name` (its root's: a derived store's
    /// files take the source's mtime, owner and read bits).
    fn derived_input_attr(&self, name: &Path) -> Result<Attr, VfsError> {
        let d = self.declared_derived(name)?;
        let input = self.resolve(&d.dataset)?;
        if !matches!(&input, NodeKey::Dataset { inner, .. } if inner.is_empty()) {
            return Err(VfsError::NotFound);
        }
        self.attr(&input)
    }

    /// The files of derived store `name`, computed or cached (failures logged).
    fn derived_files(&self, name: &Path) -> Result<Arc<dyn GeneratedStore>, VfsError> {
        self.declared_derived(name)?;
        self.generator()?.derived_store(name).map_err(|e| {
            if log_limit::allow(name, "derived store failed").is_some() {
                warn!(store = %name.display(), "derived store cannot be computed: {e}");
            }
            VfsError::Generated { what: format!("derived store {}", name.display()), source: e }
        })
    }

    /// Attributes of `inner` in derived store `name` (its root: without computing it).
    pub(super) fn derived_attr(&self, name: &Path, inner: &str) -> Result<Attr, VfsError> {
        let root = self.derived_input_attr(name)?;
        if inner.is_empty() {
            return Ok(root);
        }
        let store = self.derived_files(name)?;
        let (kind, size) = match store.files().get(inner) {
            Some(bytes) => (Kind::File, bytes.len() as u64),
            None if has_dir(store.files(), inner) => (Kind::Dir, 0),
            None => return Err(VfsError::NotFound),
        };
        let perm = match kind {
            Kind::Dir => root.perm,
            Kind::File => root.perm & 0o444,
        };
        Ok(Attr { kind, size, perm, ..root })
    }

    /// Up to `size` bytes at `offset` of file `inner` of derived store `name`.
    pub(super) fn derived_read(
        &self,
        name: &Path,
        inner: &str,
        offset: u64,
        size: u32,
    ) -> Result<Vec<u8>, VfsError> {
        let store = self.derived_files(name)?;
        match store.files().get(inner) {
            Some(bytes) => Ok(super::slice(bytes, offset, size)),
            None if has_dir(store.files(), inner) => Err(VfsError::IsDir),
            None => Err(VfsError::NotFound),
        }
    }

    /// The entries of directory `inner` of derived store `name`, from the `skip`-th on.
    pub(super) fn derived_list(
        &self,
        name: &Path,
        inner: &str,
        skip: usize,
        max: usize,
    ) -> Result<Vec<Child>, VfsError> {
        let store = self.derived_files(name)?;
        let prefix = if inner.is_empty() { String::new() } else { format!("{inner}/") };
        if !inner.is_empty() && !has_dir(store.files(), inner) {
            return Err(VfsError::NotDir);
        }
        let mut names: BTreeMap<&str, bool> = BTreeMap::new();
        for key in store.files().keys().filter_map(|k| k.strip_prefix(&prefix)) {
            match key.split_once('/') {
                Some((dir, _)) => names.insert(dir, true),
                None => names.insert(key, false),
            };
        }
        let page = names.into_iter().skip(skip).take(max).map(|(n, dir)| Child {
            name: n.into(),
            kind: if dir { Kind::Dir } else { Kind::File },
            key: NodeKey::Derived { name: name.to_path_buf(), inner: format!("{prefix}{n}") },
        });
        Ok(page.collect())
    }

    /// The derived stores computed from `store` (a store's path in the tree).
    pub(super) fn derived_from(&self, sources: &[&Path]) -> Vec<std::path::PathBuf> {
        let of = |d: &DeclaredDerived| match self.resolve(&d.dataset) {
            Ok(NodeKey::Dataset { source, .. }) => sources.contains(&source.as_path()),
            _ => false,
        };
        self.derived.iter().filter(|d| of(d)).map(|d| d.name.clone()).collect()
    }
}

/// Whether `inner` is a directory of a store of `files`.
fn has_dir(files: &BTreeMap<String, bytes::Bytes>, inner: &str) -> bool {
    let prefix = format!("{inner}/");
    files.range(prefix.clone()..).next().is_some_and(|(k, _)| k.starts_with(&prefix))
}
