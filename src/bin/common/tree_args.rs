//! The options of the tree that `cloudify-mount` and `cloudify serve` share (flattened into
//! each command line), and the [`VfsOptions`] they make. Shared by `#[path]` from both binaries.

use clap::Args;
use cloudify_mount::collection::declared;
use cloudify_mount::source::IndexOptions;
use cloudify_mount::stac::{StacConfig, StacOptions};
use cloudify_mount::vfs::{IndexStore, VfsOptions};
use cloudify_mount::worker::{Isolation, Pool};
use cloudify_mount::zarr::mode::ChunkMode;
use cloudify_mount::zarr::ZarrFormat;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct TreeArgs {
    /// Follow symbolic links that lead outside the archive (by default they are not shown;
    /// links to places inside the archive are always followed).
    #[arg(long, help_heading = "Archive")]
    pub follow_symlinks: bool,

    /// Files of a dataset of many files (`<stem>_<start>-<end>.nc` beside others of the same
    /// stem, shown together as `<stem>.zarr`): also shown as stores of their own, or hidden.
    #[arg(long, value_enum, default_value_t = Members::Show, help_heading = "Collections")]
    pub members: Members,
    /// A member of a collection that cannot be read is left out (logged; the gap shows in the
    /// time coordinate) instead of failing the collection.
    #[arg(long, help_heading = "Collections")]
    pub skip_bad_members: bool,
    /// Declared collections (TOML: `[[collection]]` with `name` (the store's path in the
    /// tree), `members` (archive-relative globs), `join = "time"` and/or `union = true`),
    /// and derived stores (`[[derived]]` with `name`, `dataset`, `variable`, `derive =
    /// "groupby"` and `by`, or `"reduce"` and `dims`, `action`); see the README.
    #[arg(long, value_name = "FILE", help_heading = "Collections")]
    pub collections: Option<PathBuf>,
    /// A directory whose sub-directories are CMIP/CORDEX-style variable trees
    /// (`<variable_id>/[<grid_label>/]<version>/` or `<variable_id>/` only) also shows one
    /// store per grid label merging the variables (latest version of each); see the README.
    #[arg(long, help_heading = "Collections")]
    pub union_parent: bool,

    /// raw: the stored compressed chunks, zero-copy (compact; for rsync/rclone export).
    /// decoded: every chunk uncompressed, decoded in the daemon (fastest for local readers).
    #[arg(long, value_enum, default_value_t = Chunks::Raw, help_heading = "Zarr view")]
    pub chunks: Chunks,
    /// Decoded mode: stack source chunks along the first dimension up to this size (bytes),
    /// so that readers handle fewer, larger chunks; 0 keeps the source's chunks.
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES", help_heading = "Zarr view")]
    pub decoded_chunk_size: u64,
    /// Decoded mode: serve CF-packed variables (scale_factor/add_offset) unpacked, as xarray's
    /// netcdf4 engine decodes them: float32 or float64 as it chooses, fill and missing values
    /// NaN, the packing attributes removed.
    #[arg(long, help_heading = "Zarr view")]
    pub unpack: bool,
    /// Zarr version of the stores: 2 (.zarray/.zattrs/.zmetadata, `3.0.1` chunk keys) or 3
    /// (zarr.json with consolidated metadata, `c/3/0/1` keys, chunks grouped in shards).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..=3),
          value_name = "2|3", help_heading = "Zarr view")]
    pub zarr_format: u8,
    /// v3: shards (sharding_indexed) of up to this many uncompressed bytes, their inner
    /// chunks the served chunks, read zero-copy; 0 serves every chunk as a file of its own
    /// [default: 268435456 (256 MiB)].
    #[arg(long, value_name = "BYTES", help_heading = "Zarr view")]
    pub shard_size: Option<u64>,
    /// Target size of the chunks contiguous variables are split into (bytes).
    #[arg(long, default_value_t = 4 << 20, value_name = "BYTES", help_heading = "Zarr view")]
    pub contiguous_chunk_size: u64,
    /// Also serve each compound variable `v` as a structured array (records) beside its members
    /// `v.m`, where every member is a scalar (off by default: netCDF-C 4.9.0's NCZarr crashes on
    /// a store holding one; Zarr v3 has no structured type, so v3 stores never hold one).
    #[arg(long, help_heading = "Zarr view")]
    pub structured_arrays: bool,

    /// Directory for persisted indexes, so a restart costs a stat per dataset
    /// [default: $XDG_CACHE_HOME/cloudify-mount/index]; "none" disables.
    #[arg(long, value_name = "DIR", help_heading = "Caching")]
    pub index_dir: Option<PathBuf>,
    /// Memory for generated chunks, cached and being made (bytes). A mount keeps a chunk
    /// only until it has been read to its end (the kernel's page cache keeps the file).
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES", help_heading = "Caching")]
    pub cache_size: u64,
    /// Datasets kept indexed at once.
    #[arg(long, default_value_t = 256, help_heading = "Caching")]
    pub max_datasets: u64,
    /// Memory for the indexes of the datasets kept (bytes): a dataset of many chunks takes
    /// more of it, and fewer such datasets are kept.
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES", help_heading = "Caching")]
    pub index_memory: u64,

    /// Worker processes running netcdf-c/libhdf5 (indexing, szip-like decoding), so that a
    /// malformed file crashes a worker, not the daemon; 0 runs them in the daemon
    /// [default: number of CPUs, 1 to 4].
    #[arg(long, help_heading = "Isolation")]
    pub workers: Option<usize>,
    /// Seconds a worker may spend on one file before it is killed and the file marked bad.
    #[arg(long, default_value_t = 300, value_name = "SECONDS", help_heading = "Isolation")]
    pub worker_timeout: u64,

    /// STAC configuration (JSON; see docs/STAC.md): catalog id/title/description, license,
    /// providers, keywords, extra item properties, asset templates.
    #[arg(long, value_name = "FILE", help_heading = "STAC")]
    pub stac_config: Option<PathBuf>,
    /// Base URL the stores will be published under; items get an asset pointing there.
    #[arg(long, value_name = "URL", help_heading = "STAC")]
    pub public_url: Option<String>,
    /// Show no STAC files (catalog.json, <name>.stac.json).
    #[arg(long, help_heading = "STAC")]
    pub no_stac: bool,
    /// Give every STAC item a `thumbnail` asset: `<name>.thumbnail.png` beside it, a map of
    /// its first variable on a horizontal grid at the last time step (else a line of its
    /// first variable), drawn when first looked up and cached.
    #[arg(long, help_heading = "STAC")]
    pub thumbnails: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Members {
    Show,
    Hide,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Chunks {
    Raw,
    Decoded,
}

impl TreeArgs {
    /// The tree's settings these options make (files named by them are read now).
    pub fn vfs_options(&self) -> Result<VfsOptions, String> {
        let (collections, derived) = match &self.collections {
            Some(path) => declared::load_all(path).map_err(|e| e.to_string())?,
            None => Default::default(),
        };
        if self.thumbnails && self.no_stac {
            return Err("--thumbnails needs STAC items (not --no-stac)".into());
        }
        Ok(VfsOptions {
            index: IndexOptions { contiguous_chunk_target: self.contiguous_chunk_size.max(1) },
            cache_bytes: self.cache_size,
            // the adapter says (a FUSE mount's readers keep what they read, HTTP's do not)
            readers_keep_served: false,
            max_datasets: self.max_datasets.max(1),
            index_bytes: self.index_memory,
            index_dir: match &self.index_dir {
                Some(d) if d.as_os_str() == "none" => None,
                Some(d) => Some(std::path::absolute(d).map_err(|e| e.to_string())?),
                None => IndexStore::default_dir(),
            },
            decoded_chunk_target: self.decoded_chunk_size,
            structured_arrays: self.structured_arrays,
            chunk_mode: match (self.chunks, self.unpack) {
                (Chunks::Raw, false) => ChunkMode::Raw,
                (Chunks::Raw, true) => {
                    return Err("--unpack needs --chunks decoded (raw chunks are the stored \
                                bytes, packed)"
                        .into())
                }
                (Chunks::Decoded, false) => ChunkMode::Decoded,
                (Chunks::Decoded, true) => ChunkMode::Unpacked,
            },
            zarr_format: match (self.zarr_format, self.shard_size) {
                (3, size) => {
                    ZarrFormat::V3 { shard_bytes: size.unwrap_or(ZarrFormat::DEFAULT_SHARD_BYTES) }
                }
                (_, Some(_)) => return Err("--shard-size needs --zarr-format 3".into()),
                (_, None) => ZarrFormat::V2,
            },
            isolation: self.isolation()?,
            follow_symlinks: self.follow_symlinks,
            hide_members: self.members == Members::Hide,
            skip_bad_members: self.skip_bad_members,
            union_parent: self.union_parent,
            collections,
            derived,
            thumbnails: self.thumbnails,
            stac: StacOptions {
                enabled: !self.no_stac,
                config: match &self.stac_config {
                    Some(path) => StacConfig::load(path).map_err(|e| e.to_string())?,
                    None => StacConfig::default(),
                },
                public_url: self.public_url.clone(),
            },
        })
    }

    fn isolation(&self) -> Result<Isolation, String> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        match self.workers.unwrap_or(cpus.clamp(1, 4)) {
            0 => Ok(Isolation::InProcess),
            n => {
                let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
                let timeout = Duration::from_secs(self.worker_timeout.max(1));
                Ok(Isolation::Workers(Arc::new(Pool::new(exe, n, timeout))))
            }
        }
    }
}
