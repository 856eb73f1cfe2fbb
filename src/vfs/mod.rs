//! The virtual tree, adapter-neutral and addressed by path: a [`NodeKey`] names a node
//! ([`Vfs::resolve`] turns an archive-relative path into one), and attributes, listings
//! ([`Vfs::list`]) and reads return plain structs. Nothing here knows inode numbers or
//! errnos: the FUSE adapter (`crate::fuse`) numbers the nodes the kernel holds, an HTTP
//! adapter or a test calls the tree directly.

mod changes;
mod collection;
mod confine;
mod dataset;
mod error;
mod generated;
mod identity;
mod key;
mod listing;
mod load;
pub mod naming;
mod ncml;
mod node;
mod open_files;
mod options;
mod page;
mod persist;
mod read;
mod shard_chunks;
mod source_file;
mod stac_files;
mod union_parent;
mod walk_ahead;

pub use changes::Stale;
use collection::stat_collection;
pub use dataset::{DatasetError, Loaded, MemberFile};
pub use error::VfsError;
pub use generated::{GenerateError, GeneratedStore, Generator};
use identity::SourceStat;
pub use identity::{stat_source, Identity};
pub use key::NodeKey;
pub use node::{Attr, Kind};
pub use options::VfsOptions;
pub use page::{Child, Listed};
pub use persist::IndexStore;

use crate::collection::declared::Declared;
use crate::collection::Recipe;
use crate::stac::StacOptions;
use crate::zarr::chunk::cache::ChunkCache;
use crate::zarr::chunk::within;
pub use crate::zarr::chunk::Bytes;
use crate::zarr::Entry;
use confine::Confinement;
use dataset::Datasets;
use key::{entry_key, store_child};
use listing::{Listing, Listings};
use naming::{ArchiveEntry, ListOptions};
use node::{archive_dir_perm, perm};
use page::ItemSizes;
use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// A collection's members (archive-relative, in name order) and what to make of them.
type Members = (Arc<[PathBuf]>, Recipe);

/// The virtual tree over one archive directory.
pub struct Vfs {
    root: PathBuf,
    listings: Listings,
    datasets: Datasets,
    cache: ChunkCache,
    stac: StacOptions,
    /// Sources and directories are served only while their real path is inside the archive.
    confinement: Confinement,
    /// Declared collections (`--collections`).
    declared: Arc<Vec<Declared>>,
    /// Sizes of the STAC items generated so far, for directory listings with attributes.
    item_sizes: ItemSizes,
    /// What the NcML files read so far make of their members.
    ncml_plans: ncml::Plans,
    /// Thumbnails beside items (`--thumbnails`).
    thumbnails: bool,
    /// Sizes of the thumbnails drawn so far, as for items.
    thumb_sizes: ItemSizes,
    /// Derived stores declared in the `--collections` file.
    derived: Arc<Vec<crate::collection::declared_derived::DeclaredDerived>>,
    /// What draws thumbnails and computes derived stores (set once, by the binary).
    generator: std::sync::OnceLock<Arc<dyn Generator>>,
    /// Datasets loaded ahead of a walk ([`Vfs::walk_ahead`]; none unless started).
    walk_ahead: std::sync::OnceLock<walk_ahead::WalkAhead>,
}

impl Vfs {
    /// A tree over `archive` (must be an existing directory).
    pub fn new(archive: &Path, options: VfsOptions) -> std::io::Result<Vfs> {
        let root = archive.canonicalize()?;
        if !root.is_dir() {
            return Err(std::io::Error::other(format!("{} is not a directory", root.display())));
        }
        let declared = Arc::new(options.collections);
        let mut datasets = Datasets::new(
            options.index,
            (options.max_datasets, options.index_bytes),
            // a cache cannot keep chunks larger than a fraction of itself
            (
                options.chunk_mode,
                options.decoded_chunk_target.min(options.cache_bytes / 8),
                options.structured_arrays,
            ),
            options.index_dir.map(IndexStore::new),
            options.isolation,
            options.skip_bad_members,
        );
        datasets.format = options.zarr_format;
        let thumbnails = options.thumbnails && options.stac.enabled;
        let derived = Arc::new(options.derived);
        Ok(Vfs {
            listings: Listings::new(
                root.clone(),
                // entries of archive directories kept (a few hundred bytes each)
                500_000,
                ListOptions {
                    stac: options.stac.enabled,
                    follow_symlinks: options.follow_symlinks,
                    hide_members: options.hide_members,
                    union_parent: options.union_parent,
                },
                declared.clone(),
            )
            .show_generated(thumbnails, derived.clone()),
            declared,
            confinement: Confinement::new(root.clone(), options.follow_symlinks),
            root,
            datasets,
            cache: ChunkCache::new(options.cache_bytes)
                .releasing_served(options.readers_keep_served),
            stac: options.stac,
            item_sizes: ItemSizes::default(),
            ncml_plans: ncml::plans(),
            thumbnails,
            thumb_sizes: ItemSizes::default(),
            derived,
            generator: std::sync::OnceLock::new(),
            walk_ahead: std::sync::OnceLock::new(),
        })
    }

    /// Load the datasets of the next stores of a directory on `threads` background threads
    /// whenever a store's root is listed (see `walk_ahead.rs`; once, later calls are ignored).
    pub fn walk_ahead(self: &Arc<Self>, threads: usize) {
        let _ = self
            .walk_ahead
            .get_or_init(|| walk_ahead::WalkAhead::start(Arc::downgrade(self), threads));
    }

    /// Have thumbnails drawn and derived stores computed by `generator` (once; later calls
    /// are ignored). Without one, their names are listed but cannot be read.
    pub fn set_generator(&self, generator: Arc<dyn Generator>) {
        let _ = self.generator.set(generator);
    }

    /// Wait until the indexes made so far are in the index directory (at unmount).
    pub fn flush_indexes(&self) {
        self.datasets.flush();
    }

    /// Attributes of node `key`.
    pub fn attr(&self, key: &NodeKey) -> Result<Attr, VfsError> {
        match key {
            NodeKey::Dir(rel) => {
                let path = self.root.join(rel);
                let m = std::fs::metadata(&path)?;
                if !m.is_dir() {
                    return Err(VfsError::NotFound);
                }
                self.confinement.check(&path, m.ino(), m.modified()?)?;
                Ok(Attr {
                    kind: Kind::Dir,
                    size: 0,
                    mtime: m.modified()?,
                    perm: archive_dir_perm(m.mode()),
                    uid: m.uid(),
                    gid: m.gid(),
                })
            }
            NodeKey::Dataset { source, inner } if inner.is_empty() => {
                Ok(Attr::of_source(&self.source_stat(source)?, Kind::Dir, 0))
            }
            NodeKey::Dataset { source, inner } => {
                self.inner_attr(&*self.store_dataset(source, inner)?, inner)
            }
            NodeKey::Catalog(rel) => Ok(self.catalog_file(rel)?.0),
            NodeKey::Item { source, store } => Ok(self.item_file(source, store)?.0),
            NodeKey::Thumbnail { source, store } => self.thumbnail_attr(source, store),
            NodeKey::Derived { name, inner } => self.derived_attr(name, inner),
        }
    }

    /// The dataset that serves `inner` (not the root) of store `source`: a collection's
    /// checked for what `inner` needs ([`Vfs::fresh_collection`]).
    fn store_dataset(&self, source: &Path, inner: &str) -> Result<Arc<Loaded>, VfsError> {
        let ds = self.dataset_checked(source, false)?;
        if ds.members.is_empty() {
            return Ok(ds);
        }
        self.fresh_collection(ds, source, inner, false)
    }

    /// Attributes of the node at `inner` (not the root) of the store of `ds`.
    fn inner_attr(&self, ds: &Loaded, inner: &str) -> Result<Attr, VfsError> {
        let (kind, size) = match ds.view.resolve(inner).ok_or(VfsError::NotFound)? {
            Entry::Dir => (Kind::Dir, 0),
            Entry::Meta(bytes) => (Kind::File, bytes.len() as u64),
            Entry::Chunk { chunk, .. } => (Kind::File, chunk.size()),
            Entry::Shard { array, shard } => {
                let shards = ds.view.arrays[array].shards.as_ref().ok_or(VfsError::NotFound)?;
                (Kind::File, shards.size(shard))
            }
        };
        Ok(Attr::of_source(&ds.stat, kind, size))
    }

    /// `stat` of the archive-relative `source`, refused when it leads outside the archive.
    fn source_stat(&self, source: &Path) -> Result<SourceStat, VfsError> {
        self.absolute(source, |path| match stat_source(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match self.store_entry(source)?.ok_or(VfsError::NotFound)? {
                    ArchiveEntry::Collection { members, .. } => {
                        Ok(stat_collection(&self.root, &members)?)
                    }
                    // an NcML store's root is the NcML file's (it is not read for a listing)
                    ArchiveEntry::Ncml { file, .. } => {
                        let dir = source.parent().unwrap_or(Path::new(""));
                        Ok(stat_source(&self.root.join(dir).join(file))?)
                    }
                    _ => Err(VfsError::NotFound),
                }
            }
            r => {
                let s = r?;
                self.confinement.check(path, s.identity.ino, s.identity.mtime)?;
                Ok(s)
            }
        })
    }

    fn archive_listing(&self, rel: &Path) -> Result<Arc<Listing>, VfsError> {
        self.listings.get(rel)
    }

    /// The node `name` in directory `parent` (one name, never a path). Inside a store the key
    /// is made without looking: [`Vfs::attr`] says whether something is there.
    pub fn child(&self, parent: &NodeKey, name: &OsStr) -> Result<NodeKey, VfsError> {
        match parent {
            NodeKey::Dir(rel) => {
                let listing = self.archive_listing(rel)?;
                Ok(entry_key(rel, listing.find(name).ok_or(VfsError::NotFound)?))
            }
            NodeKey::Catalog(_) | NodeKey::Item { .. } | NodeKey::Thumbnail { .. } => {
                Err(VfsError::NotDir)
            }
            NodeKey::Dataset { source, inner } => {
                Ok(store_child(source, inner, name.to_str().ok_or(VfsError::NotFound)?))
            }
            NodeKey::Derived { name: store, inner } => {
                let name = name.to_str().ok_or(VfsError::NotFound)?;
                let inner = if inner.is_empty() { name.into() } else { format!("{inner}/{name}") };
                Ok(NodeKey::Derived { name: store.clone(), inner })
            }
        }
    }

    /// The node at `path`, relative to the mount's root ("" or "/" is the root; a leading "/"
    /// is ignored, ".." is refused): each name looked up as [`Vfs::child`] does, so a path
    /// reaches exactly what a walk through the mount reaches.
    pub fn resolve(&self, path: &Path) -> Result<NodeKey, VfsError> {
        let mut key = NodeKey::root();
        for c in path.components() {
            match c {
                Component::Normal(name) => key = self.child(&key, name)?,
                Component::RootDir | Component::CurDir => {}
                Component::ParentDir | Component::Prefix(_) => return Err(VfsError::NotFound),
            }
        }
        Ok(key)
    }

    /// How many datasets are kept indexed now, and the bytes their indexes hold.
    pub fn datasets_kept(&self) -> (u64, u64) {
        self.datasets.kept()
    }

    /// Check that `key` may be opened for reading; writing is refused.
    pub fn open(&self, key: &NodeKey, write: bool) -> Result<Attr, VfsError> {
        if write {
            return Err(VfsError::ReadOnly);
        }
        let attr = self.attr(key)?;
        if attr.kind == Kind::Dir {
            return Err(VfsError::IsDir);
        }
        Ok(attr)
    }

    /// [`Vfs::open`] for reading, with the identity of the source version a file inside a
    /// dataset's store is made from (of a collection: its members' summary, see
    /// `collection_stat`); `None` for other files (STAC files, thumbnails, derived stores).
    /// What a local copy of the file's bytes stays valid for, with its size.
    pub fn open_versioned(&self, key: &NodeKey) -> Result<(Attr, Option<Identity>), VfsError> {
        let NodeKey::Dataset { source, inner } = key else {
            return Ok((self.open(key, false)?, None));
        };
        if inner.is_empty() {
            return Err(VfsError::IsDir);
        }
        let ds = self.store_dataset(source, inner)?;
        let attr = self.inner_attr(&ds, inner)?;
        if attr.kind == Kind::Dir {
            return Err(VfsError::IsDir);
        }
        Ok((attr, Some(ds.stat.identity)))
    }
}

/// `size` bytes of `bytes` at `offset`.
fn slice(bytes: &[u8], offset: u64, size: u32) -> Vec<u8> {
    bytes[within(bytes.len(), offset, size as usize)].to_vec()
}
