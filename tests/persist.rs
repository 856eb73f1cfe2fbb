//! Persisted indexes: round trip, and anything that does not match exactly is ignored.

use cloudify_mount::source::{index_file, IndexOptions};
use cloudify_mount::vfs::{stat_source, IndexStore};
use std::path::{Path, PathBuf};

/// Apply `f` to the bytes of every file in `dir`.
fn rewrite_all(dir: &Path, f: impl Fn(&mut Vec<u8>)) {
    for entry in std::fs::read_dir(dir).expect("dir") {
        let file: PathBuf = entry.expect("entry").path();
        let mut bytes = std::fs::read(&file).expect("read");
        f(&mut bytes);
        std::fs::write(&file, &bytes).expect("write");
    }
}

#[test]
fn round_trip_and_refusals() {
    let dir = std::env::temp_dir().join(format!("cloudify-persist-{}", std::process::id()));
    let store = IndexStore::new(dir.clone());
    let opts = IndexOptions::default();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    // packed.nc has NaN attributes: they must survive the binary format
    for name in ["packed.nc", "strings_enum.nc", "netcdf3_classic.nc", "hdf5_library_filters.h5"] {
        let path = fixtures.join(name);
        let id = stat_source(&path).expect("stat").identity;
        let index = index_file(&path, &opts).expect("index");
        assert!(store.load(&path, id, &opts).is_none(), "nothing persisted yet for {name}");
        store.save(&path, id, &opts, &index);
        let back = store.load(&path, id, &opts).expect("persisted index");
        // PartialEq on f64 NaN is false: compare the debug forms
        assert_eq!(format!("{back:?}"), format!("{index:?}"), "{name}");
        // another identity or other options: not trusted
        let mut other = id;
        other.size += 1;
        assert!(store.load(&path, other, &opts).is_none());
        assert!(store.load(&path, id, &IndexOptions { contiguous_chunk_target: 1000 }).is_none());
        // one flipped bit in the body: refused by the checksum
        rewrite_all(&dir, |b| *b.last_mut().expect("non-empty") ^= 1);
        assert!(store.load(&path, id, &opts).is_none(), "{name}: corrupt body trusted");
        // truncated or scrambled anywhere: ignored, never a panic
        let full = std::fs::read_dir(&dir).expect("dir").count();
        assert_eq!(full, 1);
        rewrite_all(&dir, |b| b.truncate(b.len() / 2));
        assert!(store.load(&path, id, &opts).is_none());
        rewrite_all(&dir, |b| b.iter_mut().step_by(7).for_each(|x| *x ^= 0x5a));
        assert!(store.load(&path, id, &opts).is_none());
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
