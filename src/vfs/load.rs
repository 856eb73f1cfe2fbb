//! Datasets loaded on demand: a store's source (a file, a declared or detected collection)
//! indexed or taken from the kept datasets, checked against its files' identities, a joined
//! collection joined again when a member changed.

use super::naming::ArchiveEntry;
use super::{DatasetError, Loaded, Members, Vfs, VfsError};
use crate::collection::Recipe;
use crate::zarr::Entry;
use std::path::{Path, PathBuf};
use std::sync::Arc;

impl Vfs {
    /// The loaded dataset whose store is `source` (archive-relative; a file or a collection),
    /// every member of a collection checked: for exports that walk a store's index and chunk
    /// references (`crate::icechunk`).
    pub fn loaded(&self, source: &Path) -> Result<Arc<Loaded>, VfsError> {
        self.dataset_checked(source, true)
    }

    pub(super) fn dataset(&self, source: &Path) -> Result<Arc<Loaded>, VfsError> {
        self.dataset_checked(source, true)
    }

    /// The dataset of `source`: a file, or else the collection of that store name in its
    /// directory (`check_all`: stat every member; a chunk read checks its own).
    pub(super) fn dataset_checked(
        &self,
        source: &Path,
        check_all: bool,
    ) -> Result<Arc<Loaded>, VfsError> {
        self.absolute(source, |path| match self.datasets.get(path) {
            Err(DatasetError::Open { source: e, .. })
                if e.kind() == std::io::ErrorKind::NotFound =>
            {
                let (members, recipe) =
                    self.collection_of(source, check_all)?.ok_or(VfsError::NotFound)?;
                let got =
                    self.datasets.get_collection(path, &self.root, (&members, &recipe), check_all);
                got.map_err(VfsError::Dataset)
            }
            r => {
                let ds = r.map_err(VfsError::Dataset)?;
                self.confinement.check(path, ds.stat.identity.ino, ds.stat.identity.mtime)?;
                Ok(ds)
            }
        })
    }

    /// Collection `ds` (of store `source`) as it must serve `inner`: a chunk is read from a
    /// member whose identity is checked on the read, anything else needs every member checked;
    /// a member changed since the join makes it joined again. A shard being read (`reading`)
    /// is checked as its chunks are read (each chunk's member; [`Vfs::read_node`] joins again
    /// when one changed), not by a `stat` of every member on each read.
    pub(super) fn fresh_collection(
        &self,
        ds: Arc<Loaded>,
        source: &Path,
        inner: &str,
        reading: bool,
    ) -> Result<Arc<Loaded>, VfsError> {
        let (array, pos) = match ds.view.resolve(inner) {
            Some(Entry::Chunk { array, pos, .. }) => (array, pos),
            Some(Entry::Shard { .. }) if reading => return Ok(ds),
            _ => return self.dataset_checked(source, true),
        };
        match ds.chunk_file(&ds.view.arrays[array].node, pos) {
            Err(VfsError::Dataset(DatasetError::MemberChanged { .. })) => {
                self.dataset_checked(source, true)
            }
            _ => Ok(ds),
        }
    }

    /// The members (archive-relative) of the collection whose store is `source`
    /// (archive-relative), if it is one, and what to make of them. Members of the automatic
    /// rule were listed under the listing's symlink policy; declared ones are found without
    /// following links; an NcML file's are read from it (`check`: its plan checked fresh).
    pub(super) fn collection_of(
        &self,
        source: &Path,
        check: bool,
    ) -> Result<Option<Members>, VfsError> {
        Ok(match self.store_entry(source)? {
            Some(ArchiveEntry::Collection { members, how, .. }) => {
                Some((members, Recipe::from(how)))
            }
            Some(ArchiveEntry::Ncml { file, .. }) => {
                let dir = source.parent().unwrap_or(Path::new(""));
                Some(self.ncml_members(&dir.join(file), source, check)?)
            }
            _ => None,
        })
    }

    /// The entry of its directory's listing that shows store `source` (archive-relative).
    pub(super) fn store_entry(&self, source: &Path) -> Result<Option<ArchiveEntry>, VfsError> {
        let (Some(dir), Some(name)) = (source.parent(), source.file_name()) else {
            return Ok(None);
        };
        Ok(self.listings.get(dir)?.find(name).cloned())
    }

    /// `f` of the absolute path of archive-relative `source`, made in a buffer this thread
    /// keeps: a read request allocates nothing for it.
    pub(super) fn absolute<R>(&self, source: &Path, f: impl FnOnce(&Path) -> R) -> R {
        thread_local! {
            static SCRATCH: std::cell::Cell<PathBuf> = std::cell::Cell::new(PathBuf::new());
        }
        // taken out while in use: a nested call would make a buffer of its own
        let mut path = SCRATCH.take();
        path.as_mut_os_string().clear();
        path.push(&self.root);
        path.push(source);
        let r = f(&path);
        SCRATCH.set(path);
        r
    }
}
