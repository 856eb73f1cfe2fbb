//! Our NetCDF-3 header parser against netcdf-c's `nc_open` (from memory) on the same bytes:
//! every NetCDF-3 fixture and corpus file, then seeded mutants of each (words of the header set
//! to edge values, bits flipped, names cut by NULs, files truncated). Both must refuse, or both
//! read the same dimensions, variables (names, types, shapes) and attributes (names, types,
//! values). The `cdf_differential` fuzz target runs the same comparison on libFuzzer's inputs.

use cloudify_mount::source::cdf_oracle::{agree_in_child, netcdf_c_view, our_view, Verdict};
use std::sync::Mutex;

/// The tests run netcdf-c (behind its global lock) and fork: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());
use std::path::{Path, PathBuf};

fn seeds() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["fixtures", "fixtures/netcdf3", "../shared/corpus"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = entry.unwrap().path();
            if p.is_file() && std::fs::read(&p).unwrap().starts_with(b"CDF") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 12, "NetCDF-3 seeds missing: {files:?}");
    files
}

/// A small deterministic generator (xorshift64*), so a failure names a reproducible mutant.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The length of the header as our parser reads it (mutations aim there).
fn header_len(bytes: &[u8]) -> usize {
    let h = cloudify_mount::source::cdf::parse_header(bytes).unwrap();
    let first = h.vars.iter().map(|v| v.begin).min().unwrap_or(bytes.len() as u64);
    (first as usize).min(bytes.len())
}

/// One mutant of `bytes` and a description of the change.
fn mutate(bytes: &[u8], rng: &mut Rng) -> (Vec<u8>, String) {
    let mut m = bytes.to_vec();
    let hlen = header_len(bytes).max(8);
    let word = 4 + 4 * rng.below((hlen - 4) / 4);
    let what = match rng.below(6) {
        0 => {
            let values = [0u32, 1, 2, 3, 4, 5, 7, 8, 10, 11, 12, 13, 0x7fff_ffff, u32::MAX];
            let v = values[rng.below(values.len())];
            m[word..word + 4].copy_from_slice(&v.to_be_bytes());
            format!("word at {word} = {v:#x}")
        }
        1 => {
            let old = u32::from_be_bytes(m[word..word + 4].try_into().unwrap());
            let v = if rng.below(2) == 0 { old.wrapping_add(1) } else { old.wrapping_sub(1) };
            m[word..word + 4].copy_from_slice(&v.to_be_bytes());
            format!("word at {word}: {old:#x} -> {v:#x}")
        }
        2 => {
            let at = rng.below(hlen);
            let bit = 1u8 << rng.below(8);
            m[at] ^= bit;
            format!("bit {bit:#x} of byte {at} flipped")
        }
        3 => {
            let at = 4 + rng.below(hlen - 4);
            m[at] = 0;
            format!("byte {at} = 0")
        }
        4 => {
            let at = rng.below(m.len());
            m.truncate(at);
            format!("truncated to {at} bytes")
        }
        _ => {
            let at = rng.below(hlen);
            m[at] = [b'/', b' ', 0xff, 0xc3, b'\n'][rng.below(5)];
            format!("byte {at} = {:#x}", m[at])
        }
    };
    (m, what)
}

#[test]
fn every_netcdf3_file_reads_as_netcdf_c_reads_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for f in seeds() {
        let bytes = std::fs::read(&f).unwrap();
        let ours = our_view(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(Ok(ours), netcdf_c_view(&bytes), "{}", f.display());
    }
}

#[test]
fn names_renamed_in_data_mode_are_read_as_netcdf_c_reads_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/netcdf3");
    let view = our_view(&std::fs::read(root.join("renamed_classic.nc")).unwrap()).unwrap();
    let var = |n: &str| view.vars.iter().any(|v| v.name == n);
    assert!(var("vd") && var("z") && var("d23_renamed_to_a_longer_name"));
    assert!(view.dims.iter().any(|(n, _)| n == "dd"));
    assert!(view.attrs.iter().any(|a| a.name == "G"));
}

#[test]
fn mutants_are_refused_or_read_alike() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut disagreements = Vec::new();
    let mut crashes = Vec::new();
    let mut accepted = 0;
    for (i, f) in seeds().iter().enumerate() {
        let bytes = std::fs::read(f).unwrap();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
        for n in 0..120 {
            let (m, what) = mutate(&bytes, &mut rng);
            accepted += usize::from(our_view(&m).is_ok());
            match agree_in_child(&m) {
                Verdict::Agree => {}
                Verdict::Disagree(e) => {
                    disagreements.push(format!("{} mutant {n} ({what}): {e}", f.display()))
                }
                Verdict::NetcdfCCrashed(sig) => {
                    crashes.push(format!("{} mutant {n} ({what}): signal {sig}", f.display()))
                }
            }
        }
    }
    if !crashes.is_empty() {
        eprintln!("netcdf-c crashed on {} mutants, e.g. {}", crashes.len(), crashes[0]);
    }
    assert!(accepted > 100, "too few mutants accepted ({accepted}) to compare readings");
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first ones:\n{}",
        disagreements.len(),
        disagreements.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// netcdf-c takes names of any bytes; the netcdf crate panics on one that is not UTF-8. Such a
/// name must cost its variable (left out with a reason), not the file.
#[test]
fn a_name_that_is_not_utf8_costs_only_its_variable() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/netcdf3");
    let mut bytes = std::fs::read(root.join("classic_types.nc")).unwrap();
    let name = "température".as_bytes();
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap();
    bytes[at + 1] = 0xff; // "t\xffmpérature"
    assert!(netcdf_c_view(&bytes).is_ok(), "netcdf-c reads it");
    let dir = std::env::temp_dir().join(format!("cdf_not_utf8_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("not_utf8.nc");
    std::fs::write(&path, &bytes).unwrap();
    let index = cloudify_mount::source::index_file(&path, &Default::default());
    std::fs::remove_dir_all(&dir).unwrap();
    let index = index.expect("the file is indexed");
    let arrays: Vec<&str> = index.root.arrays.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(arrays.len(), 34, "{arrays:?}");
    assert!(arrays.contains(&"name with spaces") && arrays.contains(&"var.name.dots"));
    assert_eq!(index.root.skipped.len(), 1, "{:?}", index.root.skipped);
}

/// netcdf-c reads a name longer than NC_MAX_NAME and copies it whole into NC_MAX_NAME + 1
/// buffers (the netcdf crate's): such a file is refused before netcdf-c opens it.
#[test]
fn a_name_longer_than_nc_max_name_is_refused_before_netcdf_c() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let name = "v".repeat(300);
    let mut h = b"CDF\x01".to_vec();
    for word in [0u32, 0x0A, 1, 1] {
        h.extend_from_slice(&word.to_be_bytes()); // numrecs; one dimension "x" of 2
    }
    h.extend_from_slice(b"x\0\0\0");
    h.extend_from_slice(&2u32.to_be_bytes());
    h.extend_from_slice(&[0; 8]); // no global attributes
    for word in [0x0Bu32, 1, 300] {
        h.extend_from_slice(&word.to_be_bytes()); // one variable, its name's length
    }
    h.extend_from_slice(name.as_bytes());
    let begin = h.len() as u32 + 4 + 4 + 8 + 4 + 4 + 4;
    for word in [1u32, 0, 0, 0, 3, 4, begin] {
        h.extend_from_slice(&word.to_be_bytes()); // dims [x], no attributes, short, vsize, begin
    }
    h.extend_from_slice(&[0, 1, 0, 2]);
    let ours = our_view(&h).expect("the header is well formed");
    assert_eq!(ours.vars[0].name, name);
    let dir = std::env::temp_dir().join(format!("cdf_long_name_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("long_name.nc");
    std::fs::write(&path, &h).unwrap();
    let index = cloudify_mount::source::index_file(&path, &Default::default());
    std::fs::remove_dir_all(&dir).unwrap();
    let err = index.expect_err("refused").to_string();
    assert!(err.contains("longer than 256"), "{err}");
}
