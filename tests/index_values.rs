//! Without a mount: every array of every fixture, read through **zarrs** from a store over the
//! project's Zarr view (the bytes the mount would serve), equals what the netcdf crate reads
//! from the source file; and zarrs' own Blosc, zstd and bzip2 codecs read the chunks passed
//! through from files netCDF-C here cannot decode as the daemon's decoders do.

mod common;
use cloudify_mount::index::{Codec, Dtype, StorageKind};
use cloudify_mount::source::{index_file, Hdf5Chunks, IndexOptions};
use cloudify_mount::zarr::chunk::cache::ChunkCache;
use cloudify_mount::zarr::chunk::{read_chunk, ChunkSource};
use cloudify_mount::zarr::mode::{apply, ChunkMode};
use cloudify_mount::zarr::{DatasetView, Entry};
use common::values::{netcdf_values, zarrs_values};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zarrs::storage::byte_range::ByteRangeIterator;
use zarrs::storage::{
    Bytes, MaybeBytes, MaybeBytesIterator, ReadableStorageTraits, StorageError, StoreKey,
};

/// A zarrs store over a [`DatasetView`]: what `cat` of the mounted files would give.
struct ViewStore {
    view: DatasetView,
    file: File,
    cache: ChunkCache,
    library: Hdf5Chunks,
}

impl ViewStore {
    fn bytes(&self, key: &str) -> Option<Vec<u8>> {
        // `.zattrs` may carry bare NaN tokens (as zarr-python writes), which zarrs' JSON
        // parser refuses; attributes are checked by the xarray tests, values here.
        if key.ends_with(".zattrs") {
            return None;
        }
        match self.view.resolve(key)? {
            Entry::Dir => None,
            Entry::Meta(b) => Some(b.to_vec()),
            Entry::Chunk { array, pos, chunk } => {
                let src = ChunkSource {
                    file: &self.file,
                    cache: &self.cache,
                    key: (0, array, pos),
                    library: Some(&self.library),
                    joined: None,
                };
                let node = &self.view.arrays[array].node;
                let b = read_chunk(&src, node, chunk, 0, chunk.size() as usize)
                    .expect("chunk")
                    .into_vec();
                assert_eq!(b.len() as u64, chunk.size(), "st_size of {key}");
                Some(b)
            }
            Entry::Shard { .. } => panic!("a v2 view has no shards ({key})"),
        }
    }
}

impl ReadableStorageTraits for ViewStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let Some(all) = self.bytes(key.as_str()) else {
            return Ok(None);
        };
        let size = all.len() as u64;
        let parts: Vec<Result<Bytes, StorageError>> =
            byte_ranges.map(|r| Ok(Bytes::copy_from_slice(&all[r.to_range_usize(size)]))).collect();
        Ok(Some(Box::new(parts.into_iter())))
    }

    fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        Ok(self.bytes(key.as_str()).map(Bytes::from))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        Ok(self.bytes(key.as_str()).map(|b| b.len() as u64))
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

/// Every fixture file, sub-directories included.
fn fixtures() -> Vec<PathBuf> {
    let mut v = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(dir).expect("fixtures dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_none_or(|e| e != "md") {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

/// Fixtures whose filters netCDF-C here cannot decode (LZF, Blosc, Blosc2, zstd; LZ4 and bzip2 are
/// Debian plugins, but in files with the others), or whose type it reports differently
/// (float16 as float, 32 bits in 8 bytes as int), or that it cannot open at all (dangling
/// links), or whose datasets it does not list (bitfield, opaque, references): checked
/// against h5py and netCDF4-python's own plugins in pytest.
const NOT_FOR_NETCDF_C: [&str; 10] = [
    "hdf5_plain_types.h5",
    "hdf5_blosc2.h5",
    "hdf5_dangling_links.h5",
    "hdf5_dangling_strings.h5",
    "hdf5_lzf.h5",
    "nc4_codecs.nc",
    "hdf5_plugin_codecs.h5",
    "tables_codecs.h5",
    "hdf5_float16.h5",
    "hdf5_nbit_wide.h5",
];

/// The fixtures of HDF5 filters that are Zarr codecs (Blosc, zstd, bzip2) and of HDF5's LZ4.
const CODEC_FIXTURES: [&str; 3] = ["nc4_codecs.nc", "hdf5_plugin_codecs.h5", "tables_codecs.h5"];

fn store_of(path: &Path, index: cloudify_mount::index::DatasetIndex) -> Arc<ViewStore> {
    Arc::new(ViewStore {
        view: DatasetView::new(index),
        file: File::open(path).expect("open"),
        cache: ChunkCache::new(64 << 20),
        library: Hdf5Chunks::new(path.to_path_buf()),
    })
}

#[test]
fn zarrs_codecs_read_the_passed_through_chunks_as_the_daemon_decodes_them() {
    let (mut checked, mut compressed) = (0, 0);
    for name in CODEC_FIXTURES {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
        let index = index_file(&path, &IndexOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        // raw: Blosc/zstd/bzip2 chunks as stored, decoded by zarrs (c-blosc, zstd, bzip2);
        // decoded: every chunk decoded by the daemon's Rust decoders, served uncompressed
        let raw = store_of(&path, index.clone());
        let decoded = store_of(&path, apply(ChunkMode::Decoded, index, 1 << 20));
        for a in &raw.view.arrays {
            let new_codec = |c: &Codec| {
                matches!(c, Codec::Blosc { .. } | Codec::Zstd { .. } | Codec::Bzip2 { .. })
            };
            compressed += usize::from(a.node.codecs.iter().any(new_codec));
            if !a.node.dtype.is_number() {
                continue;
            }
            let got = zarrs_values(&raw, &a.path, a.node.dtype);
            let want = zarrs_values(&decoded, &a.path, a.node.dtype);
            assert!(got == want, "{name} {}: zarrs and the daemon differ", a.path);
            checked += 1;
        }
    }
    // every Blosc/zstd/bzip2 variable of the three files passes through (the LZ4 one and the
    // chunk Blosc could not shrink are decoded)
    assert_eq!(compressed, 22, "arrays served with a Blosc, zstd or bzip2 compressor");
    assert!(checked >= 25, "only {checked} arrays checked");
}

#[test]
fn every_fixture_array_read_by_zarrs_equals_the_netcdf_values() {
    let mut checked = 0;
    let readable = |p: &PathBuf| !NOT_FOR_NETCDF_C.iter().any(|n| p.ends_with(n));
    for path in fixtures().into_iter().filter(readable) {
        // small target: contiguous variables are split and their last chunk padded
        let opts = IndexOptions { contiguous_chunk_target: 20_000 };
        let index = index_file(&path, &opts).unwrap_or_else(|e| panic!("{e}"));
        let view = DatasetView::new(index);
        // numeric arrays; strings (|O) and chars (|S1) are checked by the xarray tests, and
        // the members of compound variables (netCDF has no variable `v.m`) by test_compound.py,
        // vlen variables' ragged pairs (netCDF's are sequences) by identity.py's rebuild
        let arrays: Vec<(String, Dtype)> = view
            .arrays
            .iter()
            .filter(|a| !a.node.attrs.iter().any(|(k, _)| k == "cloudify_compound_of"))
            .filter(|a| a.node.storage != StorageKind::Ragged)
            .filter(|a| a.node.compound.is_none())
            .map(|a| (a.path.clone(), a.node.dtype))
            .filter(|(_, d)| d.is_number())
            .collect();
        let file = File::open(&path).expect("open");
        let library = Hdf5Chunks::new(path.clone());
        let cache = ChunkCache::new(64 << 20);
        let store = Arc::new(ViewStore { view, file, cache, library });
        for (apath, dtype) in arrays {
            let got = zarrs_values(&store, &apath, dtype);
            let want = netcdf_values(&path, &apath);
            assert_eq!(got.len(), want.len(), "{} {apath}", path.display());
            assert!(got == want, "{} {apath}: values differ", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} arrays checked");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let dir = std::env::temp_dir().join(format!("cloudify-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let good = std::fs::read(&fixtures()[0]).expect("fixture");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.nc", vec![]),
        ("text.nc", b"hello".to_vec()),
        ("truncated.nc", good[..good.len() / 3].to_vec()),
        ("header_only.nc", good[..64].to_vec()),
    ];
    for (name, bytes) in cases {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        assert!(index_file(&p, &IndexOptions::default()).is_err(), "{name} should fail");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
