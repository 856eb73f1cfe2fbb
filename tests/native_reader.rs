//! The native reader on damaged files: whatever the bytes, it returns an index or a reason —
//! never a panic, never a hang — and on the intact files it takes, it equals the libraries.
//! (`tests/python/test_native_reader.py` holds it to the libraries on files written by
//! netCDF4-python.)

use cloudify_mount::source::{index_native, index_with_libraries, IndexOptions};
use std::path::{Path, PathBuf};

/// HDF5 fixtures and corpus files the native reader takes.
fn taken() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [root.join("fixtures"), root.join("../shared/corpus")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    files.sort();
    let opts = IndexOptions::default();
    files.into_iter().filter(|p| p.is_file() && index_native(p, &opts).is_ok()).collect()
}

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn intact_files_equal_the_libraries() {
    let files = taken();
    assert!(files.len() >= 8, "the native reader took only {files:?}");
    let opts = IndexOptions::default();
    for path in files {
        let native = index_native(&path, &opts).expect("taken above");
        let libraries = index_with_libraries(&path, &opts).expect("libraries");
        // NaN attributes: compare the serialised forms
        let (a, b) = (serde_json::to_string(&native), serde_json::to_string(&libraries));
        assert_eq!(a.expect("json"), b.expect("json"), "{}", path.display());
    }
}

#[test]
fn damaged_files_give_an_index_or_a_reason() {
    let dir = std::env::temp_dir().join(format!("cloudify-native-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let opts = IndexOptions::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut tried = 0;
    for path in taken() {
        let bytes = std::fs::read(&path).expect("read");
        // metadata sits mostly in the first KiB of these files: damage it there and anywhere
        let metadata = bytes.len().min(16 << 10);
        for round in 0..300 {
            let mut damaged = bytes.clone();
            match round % 3 {
                0 => damaged.truncate(rng.next() as usize % metadata),
                1 => {
                    for _ in 0..4 {
                        let at = rng.next() as usize % metadata;
                        damaged[at] = rng.next() as u8;
                    }
                }
                _ => {
                    let at = rng.next() as usize % bytes.len();
                    damaged[at] ^= 0xff;
                }
            }
            let file = dir.join("damaged.nc");
            std::fs::write(&file, &damaged).expect("write");
            let result = index_native(&file, &opts);
            assert!(
                !matches!(&result, Err(e) if e.is_panic()),
                "{} round {round}: the native reader panicked",
                path.display()
            );
            tried += 1;
        }
    }
    assert!(tried > 0);
    let _ = std::fs::remove_dir_all(&dir);
}
