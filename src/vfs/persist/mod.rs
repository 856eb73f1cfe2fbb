//! Persisted indexes: a remount costs a `stat` per dataset instead of re-indexing.
//!
//! One file per source file in the index directory, named by a hash of the source path:
//! magic, format version, then (postcard) the source's identity and the options the index
//! depends on, a checksum (FNV-1a 64) of the index bytes, then the index. A file whose header does not match — another version, another
//! source identity, other options, or corrupt bytes — is ignored and rebuilt, never trusted.
//! The daemon writes them from a background thread ([`writer`]).

use super::identity::Identity;
use crate::index::DatasetIndex;
use crate::source::IndexOptions;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::UNIX_EPOCH;
use tracing::{debug, warn};
use writer::Writer;

mod writer;

const MAGIC: &[u8; 8] = b"CLDFYIDX";
/// Bump when `DatasetIndex` changes shape, or when indexing gives another index for the same
/// file (4: Blosc/zstd/bzip2/LZ4 arrays were left out, N-bit types served unconverted;
/// 5: single-precision float attributes kept as such, `AttrValue::Float32`;
/// 6: `ArrayNode::compound`, compound variables served as their members;
/// 7: single integer attributes of 1, 2 or 4 bytes keep their width, `AttrValue::Narrow`;
/// 8: vlen sequences, opaque, bitfield and object-reference data served, `StorageKind::Ragged`,
/// `ElementKind::Opaque`;
/// 9: region references, null-dataspace vlen data and vlen pairs whose names are taken served,
/// the pure-HDF5 view's phony dimensions numbered as netCDF-C numbers them;
/// 10: szip decoded in Rust, `SourceFilter::Szip`).
const VERSION: u32 = 10;

#[derive(Serialize, Deserialize, PartialEq, Eq, Debug)]
struct Header {
    path: String,
    ino: u64,
    size: u64,
    mtime_ns: u128,
    contiguous_chunk_target: u64,
}

/// The index directory.
#[derive(Clone, Debug)]
pub struct IndexStore {
    dir: PathBuf,
    writer: Arc<OnceLock<Writer>>,
}

/// FNV-1a: a stable name for a path (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

fn header(path: &Path, id: Identity, options: &IndexOptions) -> Header {
    Header {
        path: path.to_string_lossy().into_owned(),
        ino: id.ino,
        size: id.size,
        mtime_ns: id.mtime.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0),
        contiguous_chunk_target: options.contiguous_chunk_target,
    }
}

impl IndexStore {
    /// A store in `dir` (created on first save).
    pub fn new(dir: PathBuf) -> Self {
        IndexStore { dir, writer: Arc::default() }
    }

    /// `$XDG_CACHE_HOME/cloudify-mount/index`, or `~/.cache/cloudify-mount/index`.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("cloudify-mount").join("index"))
    }

    fn file(&self, path: &Path) -> PathBuf {
        self.dir.join(format!("{:016x}.idx", fnv1a(path.as_os_str().as_encoded_bytes())))
    }

    /// The persisted index of `path`, if one exists for exactly this identity and options.
    pub fn load(&self, path: &Path, id: Identity, options: &IndexOptions) -> Option<DatasetIndex> {
        let bytes = std::fs::read(self.file(path)).ok()?;
        let rest = bytes.strip_prefix(MAGIC.as_slice())?;
        let (version, rest) = rest.split_first_chunk::<4>()?;
        if u32::from_le_bytes(*version) != VERSION {
            return None;
        }
        let (stored, rest): (Header, &[u8]) = postcard::take_from_bytes(rest).ok()?;
        if stored != header(path, id, options) {
            debug!(file = %path.display(), "persisted index is for another version of the file");
            return None;
        }
        let (sum, rest) = rest.split_first_chunk::<8>()?;
        if u64::from_le_bytes(*sum) != fnv1a(rest) {
            warn!(file = %path.display(), "persisted index corrupt (checksum), rebuilding");
            return None;
        }
        match postcard::from_bytes(rest) {
            Ok(index) => Some(index),
            Err(e) => {
                warn!(file = %path.display(), "persisted index unreadable, rebuilding: {e}");
                None
            }
        }
    }

    /// Persist `index` now (atomically: a temporary file renamed into place). Failures are
    /// logged.
    pub fn save(&self, path: &Path, id: Identity, options: &IndexOptions, index: &DatasetIndex) {
        if let Some(bytes) = self.encode(path, id, options, index) {
            write(&self.dir, &self.file(path), &bytes);
        }
    }

    /// Persist `index` from a background thread: a file system's metadata operations (create,
    /// rename: ~0.2 ms each on some disks) stay off the first access to a dataset. The bytes
    /// are encoded now; when the queue is full the write happens here. [`IndexStore::flush`]
    /// waits for the queued writes.
    pub fn save_later(
        &self,
        path: &Path,
        id: Identity,
        options: &IndexOptions,
        index: &DatasetIndex,
    ) {
        let Some(bytes) = self.encode(path, id, options, index) else { return };
        let target = self.file(path);
        let writer = self.writer.get_or_init(|| Writer::start(self.dir.clone()));
        if let Some((target, bytes)) = writer.queue(target, bytes) {
            write(&self.dir, &target, &bytes);
        }
    }

    /// Wait until every queued index is written (at unmount).
    pub fn flush(&self) {
        if let Some(writer) = self.writer.get() {
            writer.finish();
        }
    }

    fn encode(
        &self,
        path: &Path,
        id: Identity,
        options: &IndexOptions,
        index: &DatasetIndex,
    ) -> Option<Vec<u8>> {
        let result = (|| -> Result<Vec<u8>, postcard::Error> {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&VERSION.to_le_bytes());
            bytes.extend(postcard::to_allocvec(&header(path, id, options))?);
            let body = postcard::to_allocvec(index)?;
            bytes.extend_from_slice(&fnv1a(&body).to_le_bytes());
            bytes.extend(body);
            Ok(bytes)
        })();
        result.map_err(|e| warn!(file = %path.display(), "cannot encode index: {e}")).ok()
    }
}

/// Write `bytes` to `target` in `dir` atomically (a temporary file renamed into place).
fn write(dir: &Path, target: &Path, bytes: &[u8]) {
    let result = (|| -> Result<(), std::io::Error> {
        // indexes describe files some users may not read: root's (the owner's) eyes only
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let tmp = target.with_extension(format!("tmp{}", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        std::fs::rename(&tmp, target)
    })();
    if let Err(e) = result {
        warn!(dir = %dir.display(), "cannot persist index: {e}");
    }
}
