//! The virtual tree, adapter-neutral: inode numbers and lookup/getattr/readdir/open/read
//! returning plain structs. No fuser type appears here; the FUSE adapter maps these calls
//! one-to-one and turns [`VfsError`] into an errno.

mod changes;
mod confine;
mod dataset;
mod error;
mod inode;
mod listing;
pub mod naming;
mod node;
mod options;
mod persist;
mod plus;
mod stac_files;

pub use changes::Invalidation;
use dataset::SourceStat;
pub use dataset::{stat_source, Identity, Loaded};
pub use error::VfsError;
pub use inode::{NodeKey, ROOT_INO};
pub use node::{Attr, DirEntry, Kind, DIR_END};
pub use options::VfsOptions;
pub use persist::IndexStore;
pub use plus::EntryPlus;

use crate::stac::StacOptions;
use crate::telemetry::log_limit;
use crate::telemetry::stats::STATS;
use crate::zarr::chunk::cache::ChunkCache;
pub use crate::zarr::chunk::Bytes;
use crate::zarr::chunk::{read_chunk, within, ChunkSource};
use crate::zarr::Entry;
use confine::Confinement;
use dataset::Datasets;
use inode::InodeTable;
use listing::{Listing, Listings};
use naming::{ArchiveEntry, ListOptions};
use node::{archive_dir_perm, perm};
use plus::ItemSizes;
use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::warn;

/// The virtual tree over one archive directory.
pub struct Vfs {
    root: PathBuf,
    inodes: InodeTable,
    listings: Listings,
    datasets: Datasets,
    cache: ChunkCache,
    stac: StacOptions,
    /// Sources and directories are served only while their real path is inside the archive.
    confinement: Confinement,
    /// Sizes of the STAC items generated so far, for directory listings with attributes.
    item_sizes: ItemSizes,
}

impl Vfs {
    /// A tree over `archive` (must be an existing directory).
    pub fn new(archive: &Path, options: VfsOptions) -> std::io::Result<Vfs> {
        let root = archive.canonicalize()?;
        if !root.is_dir() {
            return Err(std::io::Error::other(format!("{} is not a directory", root.display())));
        }
        Ok(Vfs {
            listings: Listings::new(
                root.clone(),
                // entries of archive directories kept (a few hundred bytes each)
                500_000,
                ListOptions {
                    stac: options.stac.enabled,
                    follow_symlinks: options.follow_symlinks,
                },
            ),
            confinement: Confinement::new(root.clone(), options.follow_symlinks),
            root,
            inodes: InodeTable::default(),
            datasets: Datasets::new(
                options.index,
                (options.max_datasets, options.index_bytes),
                // a cache cannot keep chunks larger than a fraction of itself
                (options.chunk_mode, options.decoded_chunk_target.min(options.cache_bytes / 8)),
                options.index_dir.map(IndexStore::new),
                options.isolation,
            ),
            cache: ChunkCache::new(options.cache_bytes),
            stac: options.stac,
            item_sizes: ItemSizes::default(),
        })
    }

    /// Wait until the indexes made so far are in the index directory (at unmount).
    pub fn flush_indexes(&self) {
        self.datasets.flush();
    }

    fn key(&self, ino: u64) -> Result<Arc<NodeKey>, VfsError> {
        self.inodes.key(ino).ok_or(VfsError::NotFound)
    }

    fn dataset(&self, source: &Path) -> Result<Arc<Loaded>, VfsError> {
        self.absolute(source, |path| {
            let ds = self.datasets.get(path).map_err(VfsError::Dataset)?;
            self.confinement.check(path, ds.stat.identity.ino, ds.stat.identity.mtime)?;
            Ok(ds)
        })
    }

    /// `f` of the absolute path of archive-relative `source`, made in a buffer this thread
    /// keeps: a read request allocates nothing for it.
    fn absolute<R>(&self, source: &Path, f: impl FnOnce(&Path) -> R) -> R {
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

    /// Attributes of node `key`, numbered `ino`.
    fn attr_of(&self, ino: u64, key: &NodeKey) -> Result<Attr, VfsError> {
        match key {
            NodeKey::Dir(rel) => {
                let path = self.root.join(rel);
                let m = std::fs::metadata(&path)?;
                if !m.is_dir() {
                    return Err(VfsError::NotFound);
                }
                self.confinement.check(&path, m.ino(), m.modified()?)?;
                Ok(Attr {
                    ino,
                    kind: Kind::Dir,
                    size: 0,
                    mtime: m.modified()?,
                    perm: archive_dir_perm(m.mode()),
                    uid: m.uid(),
                    gid: m.gid(),
                })
            }
            NodeKey::Dataset { source, inner } if inner.is_empty() => {
                Ok(Attr::of_source(ino, &self.source_stat(source)?, Kind::Dir, 0))
            }
            NodeKey::Dataset { source, inner } => {
                self.inner_attr(ino, &*self.dataset(source)?, inner)
            }
            NodeKey::Catalog(rel) => Ok(self.catalog_file(ino, rel)?.0),
            NodeKey::Item { source, store } => Ok(self.item_file(ino, source, store)?.0),
        }
    }

    /// Attributes of the node at `inner` (not the root) of the store of `ds`.
    fn inner_attr(&self, ino: u64, ds: &Loaded, inner: &str) -> Result<Attr, VfsError> {
        let (kind, size) = match ds.view.resolve(inner).ok_or(VfsError::NotFound)? {
            Entry::Dir => (Kind::Dir, 0),
            Entry::Meta(bytes) => (Kind::File, bytes.len() as u64),
            Entry::Chunk { chunk, .. } => (Kind::File, chunk.size()),
        };
        Ok(Attr::of_source(ino, &ds.stat, kind, size))
    }

    /// `stat` of the archive-relative `source`, refused when it leads outside the archive.
    fn source_stat(&self, source: &Path) -> Result<SourceStat, VfsError> {
        self.absolute(source, |path| {
            let s = stat_source(path)?;
            self.confinement.check(path, s.identity.ino, s.identity.mtime)?;
            Ok(s)
        })
    }

    fn archive_listing(&self, rel: &Path) -> Result<Arc<Listing>, VfsError> {
        self.listings.get(rel)
    }

    fn child_key(&self, parent: &NodeKey, name: &OsStr) -> Result<NodeKey, VfsError> {
        match parent {
            NodeKey::Dir(rel) => {
                let listing = self.archive_listing(rel)?;
                Ok(entry_key(rel, listing.find(name).ok_or(VfsError::NotFound)?))
            }
            NodeKey::Catalog(_) | NodeKey::Item { .. } => Err(VfsError::NotDir),
            NodeKey::Dataset { source, inner } => {
                Ok(store_child(source, inner, name.to_str().ok_or(VfsError::NotFound)?))
            }
        }
    }

    /// Look up `name` in directory `parent`. The node found is one more reference the kernel
    /// holds, until it says [`Vfs::forget`].
    pub fn lookup(&self, parent: u64, name: &OsStr) -> Result<Attr, VfsError> {
        let parent = self.key(parent)?;
        let key = self.child_key(&parent, name)?;
        // numbered (and counted) only once found: a name that is not there costs the inode
        // table nothing; the number does not go into anything the attributes are made of
        let attr = self.attr_of(0, &key)?;
        Ok(Attr { ino: self.inodes.lookup(key), ..attr })
    }

    /// Attributes of `ino`.
    pub fn getattr(&self, ino: u64) -> Result<Attr, VfsError> {
        self.attr_of(ino, &*self.key(ino)?)
    }

    /// The kernel dropped `n` references to each `(ino, n)` (FUSE FORGET): nodes it no longer
    /// holds leave the inode table, and a later lookup numbers them anew.
    pub fn forget(&self, refs: impl IntoIterator<Item = (u64, u64)>) {
        for (_, key) in self.inodes.forget(refs) {
            if let NodeKey::Item { source, .. } = &*key {
                self.item_sizes.remove(source);
            }
        }
    }

    /// How many nodes have an inode number now (the kernel's references and the root).
    pub fn nodes(&self) -> usize {
        self.inodes.count()
    }

    /// How many datasets are kept indexed now, and the bytes their indexes hold.
    pub fn datasets_kept(&self) -> (u64, u64) {
        self.datasets.kept()
    }

    /// Entries of directory `ino` (with "." and "..").
    pub fn readdir(&self, ino: u64) -> Result<Vec<DirEntry>, VfsError> {
        self.readdir_page(ino, 0, usize::MAX)
    }

    /// At most `max` entries of directory `ino` from the `start`-th on ("." is 0, ".." 1):
    /// the kernel reads big directories a page at a time, and a page must not cost the whole
    /// directory (inodes are only given to the entries returned).
    pub fn readdir_page(
        &self,
        ino: u64,
        start: usize,
        max: usize,
    ) -> Result<Vec<DirEntry>, VfsError> {
        Ok(self.page(ino, start, max, false)?.0)
    }

    /// [`Vfs::readdir_page`], and the dataset when `ino` is inside a store. `counted`: every
    /// entry but "." and ".." is a reference handed to the kernel (READDIRPLUS).
    fn page(
        &self,
        ino: u64,
        start: usize,
        max: usize,
        counted: bool,
    ) -> Result<(Vec<DirEntry>, Option<Arc<Loaded>>), VfsError> {
        if start as u64 >= DIR_END {
            return Ok((Vec::new(), None));
        }
        let number = |key: NodeKey| match counted {
            true => self.inodes.lookup(key),
            false => self.inodes.ino_owned(key),
        };
        let key = self.key(ino)?;
        let parent_ino = self.inodes.ino_owned(parent_of(&key));
        let dots = [
            DirEntry { ino, kind: Kind::Dir, name: ".".into(), offset: 0 },
            DirEntry { ino: parent_ino, kind: Kind::Dir, name: "..".into(), offset: 0 },
        ];
        let mut out: Vec<DirEntry> = dots.into_iter().skip(start).take(max).collect();
        let (skip, room) = (start.saturating_sub(2), max - out.len());
        let ds = self.page_children(&key, &mut out, skip, room, number)?;
        // fewer than asked for: the page holds the directory's last entry
        let ended = out.len() < max;
        for (i, e) in out.iter_mut().enumerate() {
            e.offset = (start + i + 1) as u64;
        }
        if let Some(last) = out.last_mut().filter(|_| ended) {
            last.offset = DIR_END;
        }
        Ok((out, ds))
    }

    /// The entries of directory `key` from the `skip`-th on ("." and ".." aside), at most
    /// `max`, appended to `out`; and the dataset when `key` is inside a store.
    fn page_children(
        &self,
        key: &NodeKey,
        out: &mut Vec<DirEntry>,
        skip: usize,
        max: usize,
        number: impl Fn(NodeKey) -> u64,
    ) -> Result<Option<Arc<Loaded>>, VfsError> {
        match key {
            NodeKey::Dir(rel) => {
                let listing = self.archive_listing(rel)?;
                for e in listing.entries.iter().skip(skip).take(max) {
                    let child = entry_key(rel, e);
                    let kind = match e {
                        ArchiveEntry::Dir { .. } | ArchiveEntry::Dataset { .. } => Kind::Dir,
                        ArchiveEntry::Item { .. } | ArchiveEntry::Catalog { .. } => Kind::File,
                    };
                    let name = e.name().clone();
                    out.push(DirEntry { ino: number(child), kind, name, offset: 0 });
                }
                Ok(None)
            }
            NodeKey::Dataset { source, inner } => {
                let ds = self.dataset(source)?;
                let children = ds.view.list_page(inner, skip, max).ok_or(VfsError::NotDir)?;
                for c in children {
                    let child = store_child(source, inner, &c.name);
                    let kind = if c.is_dir { Kind::Dir } else { Kind::File };
                    let name = c.name.into();
                    out.push(DirEntry { ino: number(child), kind, name, offset: 0 });
                }
                Ok(Some(ds))
            }
            NodeKey::Catalog(_) | NodeKey::Item { .. } => Err(VfsError::NotDir),
        }
    }

    /// Check that `ino` may be opened for reading; writing is refused.
    pub fn open(&self, ino: u64, write: bool) -> Result<Attr, VfsError> {
        if write {
            return Err(VfsError::ReadOnly);
        }
        let attr = self.getattr(ino)?;
        if attr.kind == Kind::Dir {
            return Err(VfsError::IsDir);
        }
        Ok(attr)
    }

    /// Read up to `size` bytes at `offset` of file `ino` (counted in [`crate::telemetry::stats`]).
    /// A generated chunk's bytes are a window on the cached chunk, not a copy.
    pub fn read(&self, ino: u64, offset: u64, size: u32) -> Result<Bytes, VfsError> {
        let r = self.read_node(ino, offset, size);
        match &r {
            Ok(bytes) => STATS.served(bytes.len()),
            Err(VfsError::Io(_) | VfsError::Dataset(_)) => STATS.read_failed(),
            Err(_) => {}
        }
        r
    }

    fn read_node(&self, ino: u64, offset: u64, size: u32) -> Result<Bytes, VfsError> {
        let key = self.key(ino)?;
        let (source, inner) = match &*key {
            NodeKey::Dataset { source, inner } => (source, inner),
            NodeKey::Catalog(rel) => {
                return Ok(Bytes::Owned(slice(&self.catalog_file(ino, rel)?.1, offset, size)))
            }
            NodeKey::Item { source, store } => {
                return Ok(Bytes::Owned(slice(
                    &self.item_file(ino, source, store)?.1,
                    offset,
                    size,
                )));
            }
            NodeKey::Dir(_) => return Err(VfsError::IsDir),
        };
        let ds = self.dataset(source)?;
        match ds.view.resolve(inner).ok_or(VfsError::NotFound)? {
            Entry::Dir => Err(VfsError::IsDir),
            Entry::Meta(bytes) => Ok(Bytes::Owned(slice(bytes, offset, size))),
            Entry::Chunk { array, pos, chunk } => {
                let src = ChunkSource {
                    file: &ds.file,
                    cache: &self.cache,
                    key: (ds.generation, array, pos),
                    library: ds.library.as_deref(),
                };
                read_chunk(&src, &ds.view.arrays[array].node, chunk, offset, size as usize).map_err(
                    |e| {
                        // a bad chunk fails on every read: one line per file and cause a while
                        if let Some(suppressed) = log_limit::allow(source, e.cause()) {
                            warn!(file = %source.display(), chunk = %inner, suppressed,
                                "read failed: {e}");
                        }
                        VfsError::Io(e.to_string())
                    },
                )
            }
        }
    }
}

/// `size` bytes of `bytes` at `offset`.
fn slice(bytes: &[u8], offset: u64, size: u32) -> Vec<u8> {
    bytes[within(bytes.len(), offset, size as usize)].to_vec()
}

/// The node `name` in directory `inner` of the store of `source`.
fn store_child(source: &Path, inner: &str, name: &str) -> NodeKey {
    let inner = if inner.is_empty() { name.to_string() } else { format!("{inner}/{name}") };
    NodeKey::Dataset { source: source.to_path_buf(), inner }
}

/// The node of an entry of archive directory `rel`.
fn entry_key(rel: &Path, entry: &ArchiveEntry) -> NodeKey {
    match entry {
        ArchiveEntry::Dir { name } => NodeKey::Dir(rel.join(name)),
        ArchiveEntry::Dataset { file, .. } => {
            NodeKey::Dataset { source: rel.join(file), inner: String::new() }
        }
        ArchiveEntry::Item { file, store, .. } => {
            NodeKey::Item { source: rel.join(file), store: store.clone() }
        }
        ArchiveEntry::Catalog { .. } => NodeKey::Catalog(rel.to_path_buf()),
    }
}

fn parent_of(key: &NodeKey) -> NodeKey {
    match key {
        NodeKey::Dir(rel) => NodeKey::Dir(rel.parent().map(Path::to_path_buf).unwrap_or_default()),
        NodeKey::Catalog(rel) => NodeKey::Dir(rel.clone()),
        NodeKey::Item { source, .. } => {
            NodeKey::Dir(source.parent().map(Path::to_path_buf).unwrap_or_default())
        }
        NodeKey::Dataset { source, inner } if inner.is_empty() => {
            NodeKey::Dir(source.parent().map(Path::to_path_buf).unwrap_or_default())
        }
        NodeKey::Dataset { source, inner } => NodeKey::Dataset {
            source: source.clone(),
            inner: inner.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default(),
        },
    }
}
