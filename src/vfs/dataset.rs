//! Loaded datasets: the Zarr view of a source file plus the file its chunks are read from
//! (opened on the first chunk read when the index was read back from the index directory).
//! Indexed lazily on first access, kept in a bounded cache, re-indexed when the source's
//! identity (inode, size, mtime) changes. A file that fails to index is remembered as failed
//! (one log line) until it changes.

pub use super::collection::MemberFile;
use super::identity::{stat_source, Identity, SourceStat};
use super::open_files::OpenFiles;
use super::persist::IndexStore;
use super::source_file::SourceFile;
use crate::collection::Refusal;
use crate::index::DatasetIndex;
use crate::source::IndexOptions;
use crate::stac::{self, ArrayReader, Facts};
use crate::worker::{IndexError, Isolation};
use crate::zarr::chunk::LibraryChunks;
use crate::zarr::mode::{self, ChunkMode};
use crate::zarr::{structured, DatasetView, ZarrFormat};
use moka::sync::Cache;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tracing::{debug, error, info};

/// A dataset ready to serve.
pub struct Loaded {
    pub view: DatasetView,
    /// The source file (of a collection: its first member in time).
    pub file: SourceFile,
    pub stat: SourceStat,
    /// Distinguishes versions of a file in the generated-chunk cache.
    pub generation: u64,
    /// Reader for chunks only libhdf5 can decode, when the dataset has any.
    pub library: Option<Box<dyn LibraryChunks>>,
    /// What the STAC item says, read from the coordinates on first use.
    pub(super) facts: OnceLock<Facts>,
    /// A collection's members, numbered as its chunk references name them (empty for a
    /// single file).
    pub members: Vec<MemberFile>,
}

impl Loaded {
    /// The STAC facts of this dataset version (computed once; `source` names it in logs).
    pub fn facts(&self, source: &Path) -> &Facts {
        self.facts.get_or_init(|| {
            let reader = ArrayReader { file: &self.file, library: self.library.as_deref() };
            stac::facts(&self.view, &reader, &source.display().to_string())
        })
    }
}

/// Why a dataset cannot be presented. Kept with the dataset (until its source changes), so
/// cheap to clone.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DatasetError {
    /// The source could not be stat'ed or opened.
    #[error("{}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// Indexing failed (in a worker or by the reader); the error names the file.
    #[error("{0}")]
    Index(#[source] Arc<IndexError>),
    /// A collection's member could not be presented.
    #[error("collection {}: member {member}: {source}", store.display())]
    Member {
        store: PathBuf,
        member: String,
        #[source]
        source: Box<DatasetError>,
    },
    /// A collection's members are not joined.
    #[error("collection {}: not joined: {source}", store.display())]
    Refused {
        store: PathBuf,
        #[source]
        source: Arc<Refusal>,
    },
    /// A member of a collection changed since it was joined (the next request joins again).
    #[error("collection member {} changed", path.display())]
    MemberChanged { path: PathBuf },
    /// The source opened for a first chunk read is not the version indexed (replaced since
    /// its last `stat`; the next request indexes it again).
    #[error("{} changed as it was opened", path.display())]
    Changed { path: PathBuf },
}

impl DatasetError {
    pub(super) fn open(path: &Path) -> impl FnOnce(std::io::Error) -> DatasetError + '_ {
        move |e| DatasetError::Open { path: path.to_path_buf(), source: Arc::new(e) }
    }
}

pub(super) type LoadResult = Result<Arc<Loaded>, DatasetError>;

/// What a cached dataset was made from: a file's identity, or a collection's members (in
/// name order) with theirs.
#[derive(Clone, Debug)]
pub(super) enum Stamp {
    File(Identity),
    /// The members' identities, and the listing's member list they were taken for (the same
    /// list is known fresh without comparing).
    Members(Vec<(OsString, Identity)>, Arc<[PathBuf]>),
}

/// The bounded cache of loaded datasets: at most `max_datasets` (each may hold an open file), and
/// their indexes within a byte budget. A dataset weighs what its index holds (chunk references
/// and metadata, in KiB), and never less than `budget / max_datasets` (so the count holds) nor
/// more than the budget (so one larger than the budget is still taken, alone). LRU: a dataset just
/// loaded is kept (moka's default admission would turn a heavy one away in favour of light
/// popular ones, and each request would index it again).
pub struct Datasets {
    /// Keyed by the path's bytes (hashing a `Path` walks its components).
    pub(super) cache: Cache<OsString, Arc<(Stamp, LoadResult)>, foldhash::fast::RandomState>,
    pub(super) options: IndexOptions,
    pub(super) mode: ChunkMode,
    pub(super) merge_target: u64,
    /// Compound variables also served as structured arrays (`--structured-arrays`).
    pub(super) structured: bool,
    /// The Zarr version the stores are spelled in.
    pub(super) format: ZarrFormat,
    store: Option<IndexStore>,
    pub(super) isolation: Isolation,
    pub(super) next_generation: AtomicU64,
    /// A collection leaves out a member that cannot be read instead of failing.
    pub(super) skip_bad_members: bool,
    /// The source files kept open (bounded by the process's open-files limit).
    pub(super) files: Arc<OpenFiles>,
}

impl Datasets {
    /// `(max_datasets, budget)`: how many datasets, and how many bytes of indexes, are kept.
    pub fn new(
        options: IndexOptions,
        (max_datasets, budget): (u64, u64),
        (mode, merge_target, structured): (ChunkMode, u64, bool),
        store: Option<IndexStore>,
        isolation: Isolation,
        skip_bad_members: bool,
    ) -> Self {
        let next_generation = AtomicU64::new(1);
        let capacity_kib = (budget / 1024).max(max_datasets.max(1));
        let max_kib = u32::try_from(capacity_kib).unwrap_or(u32::MAX);
        // rounded up: no more than `max_datasets` of the lightest fit
        let min_kib = u32::try_from(capacity_kib.div_ceil(max_datasets.max(1))).unwrap_or(max_kib);
        let cache = Cache::builder()
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .max_capacity(capacity_kib)
            .weigher(move |_, entry: &Arc<(Stamp, LoadResult)>| {
                let kib = entry.1.as_ref().map_or(0, |ds| ds.view.heap_bytes() / 1024);
                u32::try_from(kib).unwrap_or(u32::MAX).clamp(min_kib, max_kib)
            })
            .build_with_hasher(foldhash::fast::RandomState::default());
        Datasets {
            cache,
            options,
            mode,
            merge_target,
            structured,
            format: ZarrFormat::V2,
            store,
            isolation,
            next_generation,
            files: Arc::new(OpenFiles::for_this_process()),
            skip_bad_members,
        }
    }

    /// Wait until the indexes made so far are persisted.
    pub fn flush(&self) {
        if let Some(store) = &self.store {
            store.flush();
        }
    }

    /// How many datasets are kept now, and the bytes their indexes hold.
    pub fn kept(&self) -> (u64, u64) {
        self.cache.run_pending_tasks();
        self.cache.iter().fold((0, 0), |(n, bytes), (_, entry)| {
            (n + 1, bytes + entry.1.as_ref().map_or(0, |ds| ds.view.heap_bytes()))
        })
    }

    /// Forget the dataset of `path` (absolute): its next use indexes it again.
    pub fn forget(&self, path: &Path) {
        self.cache.invalidate(path.as_os_str());
    }

    /// The loaded dataset of `path` (absolute), indexing it if needed.
    pub fn get(&self, path: &Path) -> LoadResult {
        let stat = stat_source(path).map_err(DatasetError::open(path))?;
        // looked up by the borrowed path: a hit allocates nothing
        if let Some(hit) = self.cache.get(path.as_os_str()) {
            if matches!(hit.0, Stamp::File(id) if id == stat.identity) {
                return hit.1.clone();
            }
            info!(file = %path.display(), "source changed: re-indexing");
            self.cache.invalidate(path.as_os_str());
        }
        let key = path.as_os_str().to_owned();
        let load = || Arc::new((Stamp::File(stat.identity), self.load(path, stat)));
        let entry = self.cache.get_with(key, load);
        entry.1.clone()
    }

    /// The store of `index` as this tree serves it (chunk mode, Zarr version, structured
    /// arrays or not: never in v3, which has no structured type).
    pub(super) fn view(&self, index: DatasetIndex) -> DatasetView {
        let mut index = mode::apply(self.mode, index, self.merge_target);
        match self.format {
            ZarrFormat::V3 { .. } => structured::hide(&mut index, Some(structured::NO_V3_TYPE)),
            ZarrFormat::V2 if !self.structured => structured::hide(&mut index, None),
            ZarrFormat::V2 => {}
        }
        DatasetView::with_format(index, self.format)
    }

    fn load(&self, path: &Path, stat: SourceStat) -> LoadResult {
        let started = Instant::now();
        let (index, file) = self.index_of(path, stat)?;
        let file = SourceFile::new(path, stat.identity, file, self.files.clone());
        let view = self.view(index);
        let (arrays, us) = (view.arrays.len(), started.elapsed().as_micros() as u64);
        debug!(file = %path.display(), arrays, us, "dataset ready");
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let needs_library = view.arrays.iter().any(|a| a.node.library_path.is_some());
        let library = needs_library.then(|| self.isolation.library(path.to_path_buf()));
        let facts = OnceLock::new();
        Ok(Arc::new(Loaded { view, file, stat, generation, library, facts, members: vec![] }))
    }

    /// The index of the file at `path`: read back from the index directory (the file is not
    /// opened), or made (and persisted) from the file, opened for it and returned.
    pub(super) fn index_of(
        &self,
        path: &Path,
        stat: SourceStat,
    ) -> Result<(DatasetIndex, Option<File>), DatasetError> {
        let started = Instant::now();
        // time to the index alone (read back, or made from the source), for the log
        let t = Instant::now();
        let persisted =
            self.store.as_ref().and_then(|s| s.load(path, stat.identity, &self.options));
        let from_disk = persisted.is_some();
        let (index, file, native, index_took) = match persisted {
            Some(index) => (index, None, false, t.elapsed()),
            None => {
                let t = Instant::now();
                let file = File::open(path).map_err(DatasetError::open(path))?;
                let (index, native) =
                    self.isolation.index_telling(path, &file, &self.options).map_err(|e| {
                        error!(file = %path.display(), "dataset not available: {e}");
                        crate::telemetry::stats::STATS.index_failed();
                        DatasetError::Index(Arc::new(e))
                    })?;
                let took = t.elapsed();
                if let Some(store) = &self.store {
                    store.save_later(path, stat.identity, &self.options, &index);
                }
                (index, Some(file), native, took)
            }
        };
        let index_us = index_took.as_micros() as u64;
        let us = started.elapsed().as_micros() as u64;
        if from_disk {
            // routine on every walk of a large archive: one line a dataset only when asked for
            debug!(file = %path.display(), index_us, us, "index loaded from the index directory");
        } else {
            let arrays = index.root.arrays.len();
            info!(file = %path.display(), arrays, native, index_us, us, "indexed");
        }
        crate::telemetry::stats::STATS.dataset_loaded(from_disk);
        Ok((index, file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dataset_just_loaded_is_kept_whatever_was_popular_before() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let (a, b) = (fixtures.join("tas_day.nc"), fixtures.join("sparse.nc"));
        // one dataset fits (each weighs the whole budget)
        let datasets = Datasets::new(
            IndexOptions::default(),
            (1, 4096),
            (ChunkMode::Raw, 16 << 20, false),
            None,
            Isolation::InProcess,
            false,
        );
        for _ in 0..20 {
            datasets.get(&a).expect("a");
        }
        datasets.get(&b).expect("b");
        datasets.cache.run_pending_tasks();
        let kept = |p: &Path| datasets.cache.contains_key(p.as_os_str());
        assert!(kept(&b) && !kept(&a));
        assert_eq!(datasets.kept().0, 1);
    }

    #[test]
    fn a_dataset_read_back_opens_its_source_on_the_first_chunk_read() {
        let tmp = std::env::temp_dir().join(format!("cloudify-lazy-open-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).expect("tmp");
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let path = tmp.join("a.nc");
        std::fs::copy(fixtures.join("tas_day.nc"), &path).expect("copy");
        let datasets = || {
            let store = Some(IndexStore::new(tmp.join("index")));
            let mode = (ChunkMode::Raw, 16 << 20, false);
            Datasets::new(
                IndexOptions::default(),
                (8, 1 << 30),
                mode,
                store,
                Isolation::InProcess,
                false,
            )
        };
        let indexing = datasets();
        assert!(indexing.get(&path).expect("indexed").file.is_open(), "indexing opened it");
        indexing.flush();
        let ds = datasets().get(&path).expect("read back");
        assert!(!ds.file.is_open(), "an index read back opens nothing");
        ds.chunk_file(&ds.view.arrays[0].node, 0).expect("chunk file");
        assert!(ds.file.is_open(), "a chunk read opens the source");
        // the path leads to another file by the time the first chunk is read: refused
        let ds = datasets().get(&path).expect("read back");
        std::fs::copy(fixtures.join("sparse.nc"), tmp.join("b.nc")).expect("copy");
        std::fs::rename(tmp.join("b.nc"), &path).expect("replace");
        assert!(matches!(ds.file.get(), Err(DatasetError::Changed { .. })));
        std::fs::remove_dir_all(&tmp).expect("cleanup");
    }
}
