//! Offline STAC (cloudify's "standalone" mode): the item of a file without mounting, and the
//! STAC files of a whole archive written to a directory. The catalog export walks the same
//! kernel-free [`Vfs`] a mount serves, so its files are byte-identical to the mounted ones.

use crate::source::IndexOptions;
use crate::stac::{self, ArrayReader, ItemPlace, StacOptions};
use crate::vfs::naming::{short_name, store_stem, ITEM_SUFFIX, STORE_SUFFIX};
use crate::vfs::{stat_source, Kind, NodeKey, Vfs, VfsError, VfsOptions};
use crate::worker::Isolation;
use crate::zarr::{DatasetView, ZarrFormat};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// An offline run failed.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    /// Indexing failed; the reason names the file.
    #[error("{0}")]
    Index(crate::worker::IndexError),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: {1}")]
    Tree(String, VfsError),
}

/// A STAC file of the tree could not be read whole (the export goes on without it).
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("{0}")]
    Vfs(#[from] VfsError),
    #[error("STAC file larger than 4 GiB")]
    TooLarge,
}

/// The item of one file, its store named by the mount's naming rule, without links; the C
/// libraries run where `isolation` says (a worker, so that a malformed file is an error).
pub fn file_item(
    path: &Path,
    options: &StacOptions,
    isolation: &Isolation,
    zarr_format: ZarrFormat,
) -> Result<::stac::Item, OfflineError> {
    let name = path.display().to_string();
    let index = isolation.index(path, &IndexOptions::default()).map_err(OfflineError::Index)?;
    let stat = stat_source(path).map_err(|e| OfflineError::Io(name.clone(), e))?;
    let file = std::fs::File::open(path).map_err(|e| OfflineError::Io(name.clone(), e))?;
    let view = DatasetView::with_format(index, zarr_format);
    let library = isolation.library(path.to_path_buf());
    let reader = ArrayReader { file: &file, library: Some(library.as_ref()) };
    let facts = stac::facts(&view, &reader, &name);
    let file_name = path.file_name().unwrap_or(path.as_os_str());
    let store = String::from_utf8_lossy(&short_name(file_name.as_bytes())).into_owned();
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let place = ItemPlace {
        id: String::from_utf8_lossy(store_stem(store.as_bytes())).into_owned(),
        store: store.clone(),
        depth: None,
        source: absolute.display().to_string(),
        mtime: stat.identity.mtime,
        config: &options.config,
        public_url: options.public_url.as_deref(),
        zarr_format: zarr_format.number(),
        // no images offline (they are drawn by a mount or a server with --thumbnails)
        thumbnail: None,
    };
    Ok(stac::item::item(&facts, &place))
}

/// Write the STAC files a mount of `archive` shows into `out` (same tree). Returns the number
/// of files written; a dataset that cannot be indexed gets the mount's item saying why, a STAC
/// file that cannot be read at all (vanished, refused) is reported and skipped.
pub fn write_catalog(
    archive: &Path,
    out: &Path,
    options: VfsOptions,
) -> Result<usize, OfflineError> {
    let vfs = Vfs::new(archive, options)
        .map_err(|e| OfflineError::Io(archive.display().to_string(), e))?;
    let mut written = 0;
    // by key: a node's key is its path in the tree
    let mut dirs: Vec<(NodeKey, PathBuf)> = vec![(NodeKey::root(), PathBuf::new())];
    while let Some((key, rel)) = dirs.pop() {
        let here = out.join(&rel);
        std::fs::create_dir_all(&here)
            .map_err(|e| OfflineError::Io(here.display().to_string(), e))?;
        let entries = vfs
            .list(&key, 0, usize::MAX)
            .map_err(|e| OfflineError::Tree(rel.display().to_string(), e))?;
        for e in entries {
            let name = e.name.as_bytes();
            let is_stac =
                name.ends_with(ITEM_SUFFIX.as_bytes()) || e.name == OsStr::new(stac::CATALOG_FILE);
            match e.kind {
                Kind::Dir if !name.ends_with(STORE_SUFFIX.as_bytes()) => {
                    dirs.push((e.key, rel.join(&e.name)))
                }
                Kind::File if is_stac => {
                    let target = here.join(&e.name);
                    match read_whole(&vfs, &e.key) {
                        Ok(bytes) => {
                            std::fs::write(&target, bytes).map_err(|err| {
                                OfflineError::Io(target.display().to_string(), err)
                            })?;
                            written += 1;
                        }
                        Err(err) => eprintln!("cloudify: {}: {err}", rel.join(&e.name).display()),
                    }
                }
                _ => {}
            }
        }
    }
    Ok(written)
}

fn read_whole(vfs: &Vfs, key: &NodeKey) -> Result<Vec<u8>, ReadError> {
    let attr = vfs.attr(key)?;
    let size = u32::try_from(attr.size).map_err(|_| ReadError::TooLarge)?;
    Ok(vfs.read(key, 0, size)?.into_vec())
}
