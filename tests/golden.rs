//! Golden output: every document the tree serves (`.zmetadata`, `.zarray`, `.zattrs`,
//! `.zgroup`, v3's `zarr.json`, STAC items and catalogs) for every fixture and corpus file, in
//! both chunk modes and both Zarr versions,
//! and a digest of every array's chunk files, byte for byte as `tests/golden/*.txt` records.
//!
//! A refactoring must leave this output unchanged. A change meant to alter the output
//! regenerates the records with `CLOUDIFY_GOLDEN=write cargo test --test golden` and the
//! diff shows what moved.
//!
//! Two things depend on where and when the tree is built, not on the code, and are replaced
//! before hashing: the archive's absolute path (an item names its source file) and an item's
//! `datetime` taken from the file's mtime (`cloudify:datetime_source: file-mtime`).

use cloudify_mount::vfs::{Kind, NodeKey, Vfs, VfsOptions};
use cloudify_mount::zarr::mode::ChunkMode;
use cloudify_mount::zarr::ZarrFormat;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// 64-bit FNV-1a: stable across Rust versions, which `DefaultHasher` is not.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn eat(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// What one walk found: documents by path (size, digest) and chunk files by directory
/// (count, bytes, digest of names and contents in listing order).
#[derive(Default)]
struct Record {
    docs: BTreeMap<String, (usize, u64)>,
    chunks: BTreeMap<String, (usize, u64, Fnv)>,
}

fn is_document(name: &str) -> bool {
    matches!(name, ".zmetadata" | ".zarray" | ".zattrs" | ".zgroup" | "zarr.json" | "catalog.json")
        || name.ends_with(".stac.json")
}

/// The bytes of `doc` with what depends on the machine replaced.
fn normalised(doc: &[u8], archive: &str) -> Vec<u8> {
    let mut text = String::from_utf8_lossy(doc).replace(archive, "<ARCHIVE>");
    if text.contains("file-mtime") {
        let v: serde_json::Value = serde_json::from_str(&text).expect("item is JSON");
        let p = &v["properties"];
        if p["cloudify:datetime_source"] == "file-mtime" {
            let t = p["datetime"].as_str().expect("an item's datetime");
            text = text.replace(&format!("\"{t}\""), "\"<MTIME>\"");
        }
    }
    text.into_bytes()
}

/// Walks the tree by path: each entry's node is its key, no inode numbers.
fn walk(vfs: &Vfs, key: &NodeKey, path: &str, archive: &str, rec: &mut Record) {
    let entries = vfs.list(key, 0, usize::MAX).unwrap_or_else(|e| panic!("{path}: readdir: {e}"));
    for e in entries {
        let name = e.name.to_string_lossy().into_owned();
        let child = if path.is_empty() { name.clone() } else { format!("{path}/{name}") };
        let attr = match vfs.attr(&e.key) {
            Ok(a) => a,
            Err(err) => {
                rec.docs.insert(format!("{child} (error: {err})"), (0, 0));
                continue;
            }
        };
        if attr.kind == Kind::Dir {
            walk(vfs, &e.key, &child, archive, rec);
            continue;
        }
        let bytes = match vfs.read(&e.key, 0, u32::MAX) {
            Ok(b) => b.into_vec(),
            Err(err) => {
                rec.docs.insert(format!("{child} (error: {err})"), (0, 0));
                continue;
            }
        };
        assert_eq!(bytes.len() as u64, attr.size, "{child}: size as announced");
        if is_document(&name) {
            let doc = normalised(&bytes, archive);
            let mut h = Fnv::new();
            h.eat(&doc);
            rec.docs.insert(child, (doc.len(), h.0));
        } else {
            let slot = rec.chunks.entry(format!("{path}/*")).or_insert((0, 0, Fnv::new()));
            slot.0 += 1;
            slot.1 += bytes.len() as u64;
            slot.2.eat(name.as_bytes());
            slot.2.eat(&[0]);
            slot.2.eat(&(bytes.len() as u64).to_le_bytes());
            slot.2.eat(&bytes);
        }
    }
}

/// The golden text of the tree over `archive` in both chunk modes, as Zarr v2, and as Zarr
/// v3 (raw: sharded with the default shard size; decoded: unsharded).
fn golden_text(archive: &Path) -> String {
    let mut out = String::new();
    let v3 = |shard_bytes| ZarrFormat::V3 { shard_bytes };
    for (label, mode, zarr_format) in [
        ("raw", ChunkMode::Raw, ZarrFormat::V2),
        ("decoded", ChunkMode::Decoded, ZarrFormat::V2),
        ("v3-raw", ChunkMode::Raw, v3(ZarrFormat::DEFAULT_SHARD_BYTES)),
        ("v3-decoded", ChunkMode::Decoded, v3(0)),
    ] {
        let options = VfsOptions { chunk_mode: mode, zarr_format, ..VfsOptions::default() };
        let vfs = Vfs::new(archive, options).expect("vfs");
        let root = archive.canonicalize().expect("archive path");
        let mut rec = Record::default();
        walk(&vfs, &NodeKey::root(), "", &root.display().to_string(), &mut rec);
        for (path, (size, hash)) in &rec.docs {
            writeln!(out, "{label}\t{path}\t{size}\t{hash:016x}").expect("write");
        }
        for (path, (count, bytes, hash)) in &rec.chunks {
            writeln!(out, "{label}\t{path}\t{count} chunks, {bytes} bytes\t{:016x}", hash.0)
                .expect("write");
        }
    }
    out
}

fn check(archive: PathBuf, record: &str) {
    let text = golden_text(&archive);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(record);
    if std::env::var("CLOUDIFY_GOLDEN").as_deref() == Ok("write") {
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, &text).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (CLOUDIFY_GOLDEN=write makes it)", file.display()));
    let got: BTreeSet<&str> = text.lines().collect();
    let want: BTreeSet<&str> = want.lines().collect();
    let missing: Vec<&&str> = want.difference(&got).collect();
    let extra: Vec<&&str> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{record}: output changed\n  expected, not served:\n    {}\n  served, not expected:\n    {}",
        missing.iter().map(|l| l.to_string()).collect::<Vec<_>>().join("\n    "),
        extra.iter().map(|l| l.to_string()).collect::<Vec<_>>().join("\n    "),
    );
}

#[test]
fn fixtures_serve_the_recorded_bytes() {
    check(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"), "fixtures.txt");
}

#[test]
fn corpus_serves_the_recorded_bytes() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(corpus.is_dir(), "{}: the third-party corpus is needed", corpus.display());
    check(corpus, "corpus.txt");
}
