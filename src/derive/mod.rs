//! Derived datasets: reductions (`reduce/{var}/{dims}/{action}`) and groupby reductions
//! (`groupby/{var}/{coord}.{component}/{action}`) of a store of the tree, each answered as a
//! Zarr v2 store of its own that `xr.open_zarr` reads as xarray would compute it from the
//! source (`ds[var].mean("time")`, `ds[var].groupby("time.month").mean()`).
//!
//! The input is read through a tree of its own over the archive: decoded chunks with CF
//! packing undone exactly as xarray undoes it (`--unpack`'s view, Zarr v2), so the values and
//! their type are xarray's; fill values and `missing_value` are masked here. Values are
//! accumulated in float64 (compensated sums, Welford variances) and the result is cast to the
//! type xarray gives: the input's decoded type for floats (xarray's mean of float32 is
//! float32; it accumulates in float32, so float32 results agree with xarray to float32
//! rounding, float64 results to ~1e-15), float64 for the mean/std/var/median of integers,
//! int64 for counts and integer sums.
//!
//! Bounded: an output (or, for the median, the values it keeps) over the size limit is
//! refused before anything is read; chunks are streamed; results are cached by bytes, keyed
//! by the dataset's identity (its source's modification time and size), so a changed source
//! is computed anew. The HTTP adapter only parses the path and serves the store's files.

mod accumulate;
mod compute;
mod error;
mod generated;
mod groups;
mod input;
mod output;
mod plan;
mod plot_coord;
mod plot_request;
mod quicklook;
mod request;
mod runs;
mod slab;

pub use error::DeriveError;
pub use generated::{DeclarationError, Generated};
pub use output::Store;
pub use plot_request::PlotRequest;
pub use request::{Action, Request};

use crate::vfs::{Vfs, VfsOptions};
use crate::zarr::mode::ChunkMode;
use crate::zarr::ZarrFormat;
use input::Dtype;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Limits of derived datasets.
#[derive(Clone, Copy, Debug)]
pub struct DeriveOptions {
    /// Bytes a result (and the memory of its computation) may take.
    pub max_size: u64,
    /// Bytes of results kept.
    pub cache_bytes: u64,
    /// Threads a computation uses at most.
    pub threads: usize,
}

impl Default for DeriveOptions {
    fn default() -> Self {
        DeriveOptions { max_size: 256 << 20, cache_bytes: 512 << 20, threads: 2 }
    }
}

type Key = (PathBuf, std::time::SystemTime, u64, Request);
type ImageKey = (PathBuf, std::time::SystemTime, u64, PlotRequest);

/// Derived datasets of an archive.
pub struct Derived {
    vfs: Vfs,
    cache: moka::sync::Cache<Key, Arc<Store>>,
    /// Quick-look images, by bytes (a tenth of the results' cache).
    images: moka::sync::Cache<ImageKey, Arc<Vec<u8>>>,
    options: DeriveOptions,
}

impl Derived {
    /// Over `archive`, with the tree's settings `tree` (chunk mode and format are this
    /// module's own: decoded, unpacked, Zarr v2; no STAC files).
    pub fn new(archive: &Path, tree: &VfsOptions, options: DeriveOptions) -> std::io::Result<Self> {
        let mut o = tree.clone();
        o.chunk_mode = ChunkMode::Unpacked;
        o.zarr_format = ZarrFormat::V2;
        o.structured_arrays = false;
        o.stac.enabled = false;
        // the mount's generated files are made from this tree, not shown in it
        o.thumbnails = false;
        o.derived = Vec::new();
        // chunks are read once, streamed: a small cache
        o.cache_bytes = o.cache_bytes.min(64 << 20);
        let cache = moka::sync::Cache::builder()
            .weigher(|_: &Key, s: &Arc<Store>| s.bytes().min(u32::MAX as u64) as u32)
            .max_capacity(options.cache_bytes)
            .build();
        let images = moka::sync::Cache::builder()
            .weigher(|_: &ImageKey, i: &Arc<Vec<u8>>| i.len().min(u32::MAX as usize) as u32)
            .max_capacity(options.cache_bytes / 10)
            .build();
        Ok(Derived { vfs: Vfs::new(archive, o)?, cache, images, options })
    }

    /// The derived store `request` of `store` (a store's path in the tree, `a/b.zarr`):
    /// computed, or from the cache while the source is unchanged. Blocks; stops when
    /// `cancel` is set.
    pub fn store(
        &self,
        store: &Path,
        request: &Request,
        cancel: &AtomicBool,
    ) -> Result<Arc<Store>, DeriveError> {
        let key = self.vfs.resolve(&store.join(".zmetadata"))?;
        let attr = self.vfs.attr(&key)?;
        let key = (store.to_path_buf(), attr.mtime, attr.size, request.clone());
        if let Some(done) = self.cache.get(&key) {
            return Ok(done);
        }
        let made = Arc::new(self.compute(store, request, cancel)?);
        self.cache.insert(key, made.clone());
        Ok(made)
    }

    /// The quick-look image `request` of `store` (PNG or SVG, see `quicklook.rs`): drawn, or
    /// from the cache while the source is unchanged. Blocks; reads at most the size limit's
    /// worth of float64 values.
    pub fn plot(&self, store: &Path, request: &PlotRequest) -> Result<Arc<Vec<u8>>, DeriveError> {
        let key = self.vfs.resolve(&store.join(".zmetadata"))?;
        let attr = self.vfs.attr(&key)?;
        let key = (store.to_path_buf(), attr.mtime, attr.size, request.clone());
        if let Some(done) = self.images.get(&key) {
            return Ok(done);
        }
        let max_values = self.options.max_size / 8;
        let made = Arc::new(quicklook::plot(&self.vfs, store, request, max_values)?);
        self.images.insert(key, made.clone());
        Ok(made)
    }

    fn compute(
        &self,
        store: &Path,
        request: &Request,
        cancel: &AtomicBool,
    ) -> Result<Store, DeriveError> {
        let meta = input::metadata(&self.vfs, store)?;
        let array = input::array(&meta, &request.var)?;
        let shaped = plan::plan(&self.vfs, store, (&meta, &array), &request.over)?;
        let dtype = out_dtype(array.decoded(), request.action);
        let cells: u64 = shaped.plan.out_shape.iter().product();
        let threads = self.options.threads.max(1) as u64;
        let mut needed = cells * (dtype.size as u64).max(accumulate::cell_bytes(request.action));
        let mut what = format!("{cells} output values");
        if request.action == Action::Median {
            let inputs: u64 = array.shape.iter().product();
            needed += inputs * 8;
            what = format!("{what}; the median keeps all {inputs} input values");
        }
        let threads = if needed * threads > self.options.max_size { 1 } else { threads };
        if needed > self.options.max_size {
            let limit = self.options.max_size;
            return Err(DeriveError::TooLarge { needed, limit, what });
        }
        let values = compute::compute(
            &self.vfs,
            store,
            (&array, &shaped.plan),
            (request.action, threads as usize),
            cancel,
        )?;
        let parts = output::Parts {
            meta: &meta,
            array: &array,
            out_dims: &shaped.out_dims,
            out_shape: &shaped.plan.out_shape,
            dtype,
            values: &values,
            group: shaped.group.as_ref(),
        };
        output::store(&self.vfs, store, &parts)
    }
}

/// The type xarray gives `action` of values of (decoded) type `input`.
fn out_dtype(input: Dtype, action: Action) -> Dtype {
    let f8 = Dtype { kind: b'f', size: 8, big: false };
    let i8 = Dtype { kind: b'i', size: 8, big: false };
    let input = Dtype { big: false, ..input };
    match action {
        Action::Count => i8,
        _ if input.is_float() => input,
        Action::Mean | Action::Std | Action::Var | Action::Median => f8,
        Action::Sum if input.kind == b'u' => Dtype { kind: b'u', size: 8, big: false },
        Action::Sum => i8,
        _ => input,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> Derived {
        let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let tree = VfsOptions::default();
        Derived::new(&archive, &tree, DeriveOptions::default()).expect("the fixtures")
    }

    #[test]
    fn a_cancelled_request_stops_and_is_not_cached() {
        let d = fixtures();
        let r = Request::parse("groupby", "tas", "time.day", "median").unwrap();
        let store = Path::new("tas_day.zarr");
        let e = d.store(store, &r, &AtomicBool::new(true)).err();
        assert!(matches!(e, Some(DeriveError::Cancelled)), "{e:?}");
        let made = d.store(store, &r, &AtomicBool::new(false)).expect("computed");
        assert!(made.files.contains_key("tas/.zarray") && made.files.contains_key("day/0"));
        // from the cache now, even for a cancelled request
        assert!(d.store(store, &r, &AtomicBool::new(true)).is_ok());
    }

    #[test]
    fn output_types_are_xarrays() {
        let f4 = Dtype::parse("<f4").unwrap();
        let i2 = Dtype::parse(">i2").unwrap();
        assert_eq!(out_dtype(f4, Action::Mean).zarr(), "<f4");
        assert_eq!(out_dtype(f4, Action::Count).zarr(), "<i8");
        assert_eq!(out_dtype(i2, Action::Mean).zarr(), "<f8");
        assert_eq!(out_dtype(i2, Action::Sum).zarr(), "<i8");
        assert_eq!(out_dtype(i2, Action::Max).zarr(), "<i2");
    }
}
