//! A second, independent reader of the v3 stores: **zarrs** (Rust) reads every numeric array
//! of every fixture from a real v3 mount (the built `cloudify-mount`, unsharded, sharded with
//! shards of several chunks, and decoded-sharded), through files of the mount, and must find
//! the values the netcdf crate reads from the source file. Shards are read as zarrs reads
//! them: the index by a suffix read, then the inner chunks' byte ranges.
//!
//! Needs /dev/fuse and permission to mount (root, as CI runs): the test mounts for real.

mod common;
use cloudify_mount::index::StorageKind;
use cloudify_mount::source::{index_file, IndexOptions};
use cloudify_mount::zarr::{DatasetView, ZarrFormat};
use common::values::{netcdf_values, zarrs_values};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use zarrs::storage::byte_range::ByteRangeIterator;
use zarrs::storage::{
    Bytes, MaybeBytes, MaybeBytesIterator, ReadableStorageTraits, StorageError, StoreKey,
};

/// A mounted archive, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn new(archive: &Path, args: &[&str]) -> Mount {
        let dir = std::env::temp_dir().join(format!(
            "cloudify-zarrs-{}-{}",
            std::process::id(),
            args.join("_")
        ));
        std::fs::create_dir_all(&dir).expect("mountpoint");
        let out = Command::new(env!("CARGO_BIN_EXE_cloudify-mount"))
            .arg(archive)
            .arg(&dir)
            .args(["--index-dir", "none", "--contiguous-chunk-size", "20000"])
            .args(args)
            .output()
            .expect("run cloudify-mount");
        assert!(out.status.success(), "mount failed: {}", String::from_utf8_lossy(&out.stderr));
        Mount(dir)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("fusermount3").arg("-u").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// A zarrs store over the files of a mounted store (what any file-system reader sees).
struct MountStore(PathBuf);

impl MountStore {
    fn file(&self, key: &StoreKey) -> Option<File> {
        File::open(self.0.join(key.as_str())).ok()
    }
}

/// zarr-python writes NaN/Infinity attributes as bare tokens, which zarrs' JSON parser
/// refuses: outside strings they become `null` here (attributes are checked by the xarray
/// tests, values here).
fn without_bare_tokens(json: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(json);
    let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
    let mut rest = text.as_ref();
    while let Some(c) = rest.chars().next() {
        if !in_string {
            if let Some(token) =
                ["-Infinity", "Infinity", "NaN"].iter().find(|t| rest.starts_with(**t))
            {
                out.push_str("null");
                rest = &rest[token.len()..];
                continue;
            }
        }
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => in_string = !in_string,
            _ => {}
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.into_bytes()
}

impl ReadableStorageTraits for MountStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let Some(file) = self.file(key) else {
            return Ok(None);
        };
        let size = file.metadata()?.len();
        let parts: Vec<Result<Bytes, StorageError>> = byte_ranges
            .map(|r| {
                let range = r.to_range(size);
                let mut buf = vec![0u8; (range.end - range.start) as usize];
                file.read_exact_at(&mut buf, range.start)?;
                Ok(Bytes::from(buf))
            })
            .collect();
        Ok(Some(Box::new(parts.into_iter())))
    }

    fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        let Ok(bytes) = std::fs::read(self.0.join(key.as_str())) else {
            return Ok(None);
        };
        let is_doc = key.as_str().ends_with("zarr.json");
        Ok(Some(Bytes::from(if is_doc { without_bare_tokens(&bytes) } else { bytes })))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        Ok(self.file(key).and_then(|f| f.metadata().ok()).map(|m| m.len()))
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

/// The NetCDF fixtures netCDF-C reads as the mount serves them (top directory; the HDF5-only
/// ones and those with filters or types netCDF-C here lacks are checked in pytest).
fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "nc") && !p.ends_with("nc4_codecs.nc"))
        .collect();
    v.sort();
    v
}

#[test]
fn zarrs_reads_every_v3_array_of_the_mount_as_netcdf_does() {
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let layouts: [&[&str]; 3] = [
        &["--zarr-format", "3", "--shard-size", "0"],
        &["--zarr-format", "3", "--shard-size", "40000"],
        &["--zarr-format", "3", "--chunks", "decoded"],
    ];
    for args in layouts {
        let mount = Mount::new(&archive, args);
        let (mut checked, mut sharded) = (0, 0);
        for path in fixtures() {
            let opts = IndexOptions { contiguous_chunk_target: 20_000 };
            let index = index_file(&path, &opts).unwrap_or_else(|e| panic!("{e}"));
            // the store's keys and types (the mount's own rule)
            let view = DatasetView::with_format(index, ZarrFormat::V3 { shard_bytes: 40_000 });
            let stem = path.file_stem().expect("stem").to_string_lossy().into_owned();
            let store = Arc::new(MountStore(mount.0.join(format!("{stem}.zarr"))));
            // compound members `v.m` are no netCDF variables: test_compound.py reads them in
            // v3 against h5py; a vlen variable's ragged pair is rebuilt by identity.py
            let numbers = view.arrays.iter().filter(|a| a.node.dtype.is_number());
            let numbers = numbers.filter(|a| a.node.storage != StorageKind::Ragged);
            for a in numbers.filter(|a| a.node.compound.is_none()) {
                let got = zarrs_values(&store, &a.path, a.node.dtype);
                let want = netcdf_values(&path, &a.path);
                assert!(got == want, "{args:?} {} {}: values differ", path.display(), a.path);
                checked += 1;
                let doc = std::fs::read_to_string(store.0.join(&a.path).join("zarr.json"))
                    .expect("zarr.json");
                sharded += usize::from(doc.contains("sharding_indexed"));
            }
        }
        assert!(checked >= 20, "{args:?}: only {checked} arrays checked");
        assert_eq!(sharded > 0, args.contains(&"40000") || args.contains(&"decoded"), "{args:?}");
    }
}
