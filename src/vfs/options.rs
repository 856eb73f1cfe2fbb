//! Settings of the virtual tree (what the command line decides).

use crate::collection::declared::Declared;
use crate::collection::declared_derived::DeclaredDerived;
use crate::source::IndexOptions;
use crate::stac::StacOptions;
use crate::worker::Isolation;
use crate::zarr::mode::ChunkMode;
use crate::zarr::ZarrFormat;
use std::path::PathBuf;

/// Settings of the virtual tree.
#[derive(Clone, Debug)]
pub struct VfsOptions {
    pub index: IndexOptions,
    /// Bytes of generated chunks kept in memory.
    pub cache_bytes: u64,
    /// The readers keep what they are sent (a FUSE mount: the kernel's page cache), so a
    /// generated chunk read to its end leaves the chunk cache (`ChunkCache::releasing_served`).
    pub readers_keep_served: bool,
    /// Datasets kept indexed (each holds an open file).
    pub max_datasets: u64,
    /// Bytes the indexes of the datasets kept may hold (chunk references, metadata).
    pub index_bytes: u64,
    /// Raw (stored compressed chunks) or decoded chunks.
    pub chunk_mode: ChunkMode,
    /// Decoded mode: source chunks are stacked up to this many bytes per Zarr chunk.
    pub decoded_chunk_target: u64,
    /// Compound variables also served as structured arrays (beside their members).
    pub structured_arrays: bool,
    /// Zarr v2, or v3 (sharded or not).
    pub zarr_format: ZarrFormat,
    /// Where indexes are persisted (`None`: not persisted).
    pub index_dir: Option<PathBuf>,
    /// STAC files: shown or not, their configuration.
    pub stac: StacOptions,
    /// Where netcdf-c and libhdf5 run: in worker processes in a mount.
    pub isolation: Isolation,
    /// Follow symbolic links that lead outside the archive (never by default).
    pub follow_symlinks: bool,
    /// Files shown in a collection are not shown as stores of their own.
    pub hide_members: bool,
    /// A collection leaves out a member that cannot be read (logged), instead of failing.
    pub skip_bad_members: bool,
    /// Declared collections (`--collections`).
    pub collections: Vec<Declared>,
    /// Directories of CMIP/CORDEX-style variable trees also show the union of the variables.
    pub union_parent: bool,
    /// A quick-look image beside every STAC item (`<stem>.thumbnail.png`; drawn by the
    /// hook set with `Vfs::set_generator`).
    pub thumbnails: bool,
    /// Derived stores declared in the `--collections` file (computed by the same hook).
    pub derived: Vec<DeclaredDerived>,
}

impl Default for VfsOptions {
    fn default() -> Self {
        VfsOptions {
            index: IndexOptions::default(),
            cache_bytes: 256 << 20,
            readers_keep_served: false,
            max_datasets: 256,
            index_bytes: 256 << 20,
            chunk_mode: ChunkMode::Raw,
            decoded_chunk_target: 16 << 20,
            structured_arrays: false,
            zarr_format: ZarrFormat::V2,
            index_dir: None,
            stac: StacOptions { enabled: true, ..StacOptions::default() },
            isolation: Isolation::InProcess,
            follow_symlinks: false,
            hide_members: false,
            skip_bad_members: false,
            collections: Vec::new(),
            union_parent: false,
            thumbnails: false,
            derived: Vec::new(),
        }
    }
}
