//! The chunk B-tree read in Rust lists exactly what libhdf5 lists, for every chunked dataset
//! of every HDF5 fixture and corpus file.

use cloudify_mount::source::btree::{header_addr, library_entries, read_chunk_index};
use cloudify_mount::source::{sniff_path, Format};
use std::path::{Path, PathBuf};

fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [root.join("fixtures"), root.join("../shared/corpus")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        out.extend(entries.map(|e| e.expect("entry").path()));
    }
    out.sort();
    out
}

/// Every dataset below `g`; links that lead nowhere (hdf5_dangling_links.h5) are passed over.
fn datasets(g: &hdf5::Group, out: &mut Vec<hdf5::Dataset>) {
    for name in g.member_names().expect("members") {
        if let Ok(ds) = g.dataset(&name) {
            out.push(ds);
        } else if let Ok(sub) = g.group(&name) {
            datasets(&sub, out);
        }
    }
}

#[test]
fn btree_equals_libhdf5() {
    hdf5::silence_errors(true);
    let (mut direct, mut total) = (0, 0);
    for path in files() {
        let Ok(Some(Format::Hdf5 { user_block })) = sniff_path(&path) else { continue };
        let file = hdf5::File::open(&path).expect("open");
        let raw = std::fs::File::open(&path).expect("open raw");
        let mut all = Vec::new();
        datasets(&file, &mut all);
        for ds in all.iter().filter(|d| d.is_chunked()) {
            total += 1;
            let mut want = library_entries(ds).expect("libhdf5 entries");
            want.sort();
            let header = header_addr(ds).expect("header address");
            match read_chunk_index(&raw, user_block, header, ds.ndim()) {
                Ok(Some(got)) => {
                    assert_eq!(got, want, "{} {}", path.display(), ds.name());
                    direct += 1;
                }
                Ok(None) => {} // another index type: libhdf5 is used, nothing to compare
                Err(e) => panic!("{} {}: {e}", path.display(), ds.name()),
            }
        }
    }
    println!("{direct} of {total} chunked datasets read through the B-tree");
    assert!(direct * 10 >= total * 9, "only {direct} of {total} read directly");
}
