//! Without a mount: every array of every fixture, read back chunk by chunk from the Zarr view
//! (the bytes the mount would serve, decoded with the declared codecs), equals the values the
//! netcdf crate reads from the source file.

use cloudify_mount::cache::ChunkCache;
use cloudify_mount::index::Dtype;
use cloudify_mount::source::{index_file, IndexOptions};
use cloudify_mount::zarr::chunk::{read_chunk, ChunkSource};
use cloudify_mount::zarr::codec::decode_zarr_chunk;
use cloudify_mount::zarr::{ArrayEntry, DatasetView};
use std::fs::File;
use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    v.sort();
    v
}

/// The whole array in C order, native byte order, assembled from the view's chunks.
fn assemble(view: &DatasetView, idx: usize, file: &File, cache: &ChunkCache) -> Vec<u8> {
    let ArrayEntry { node, .. } = &view.arrays[idx];
    let es = node.element_size();
    let dtype = Dtype::parse(&node.dtype).expect("dtype");
    let total: u64 = node.shape.iter().product();
    let mut out = vec![0u8; total as usize * es];
    let nd = node.shape.len();
    for pos in 0..node.chunk_refs.len() {
        let coords = node.chunk_coords(pos as u64);
        let raw = match &node.chunk_refs[pos] {
            Some(c) => {
                let src = ChunkSource {
                    file,
                    cache,
                    key: (0, idx, pos),
                };
                let bytes = read_chunk(&src, node, c, 0, c.size() as usize).expect("read");
                assert_eq!(bytes.len() as u64, c.size());
                decode_zarr_chunk(&bytes, node).expect("decode")
            }
            None => {
                let fill = node
                    .fill_value
                    .as_ref()
                    .expect("missing chunk needs a fill value");
                dtype
                    .encode(fill)
                    .expect("fill")
                    .repeat(node.chunks.iter().product::<u64>() as usize)
            }
        };
        assert_eq!(
            raw.len() as u64,
            node.chunk_nbytes(),
            "{} chunk {coords:?}",
            node.name
        );
        // copy the part of the chunk inside the array
        let n_in_chunk = node.chunks.iter().product::<u64>();
        for e in 0..n_in_chunk {
            let mut rem = e;
            let mut flat = 0u64;
            let mut inside = true;
            for d in (0..nd).rev() {
                let within = rem % node.chunks[d];
                rem /= node.chunks[d];
                let g = coords[d] * node.chunks[d] + within;
                if g >= node.shape[d] {
                    inside = false;
                }
                let stride: u64 = node.shape[d + 1..].iter().product();
                flat += g * stride;
            }
            if inside {
                let (s, t) = (e as usize * es, flat as usize * es);
                out[t..t + es].copy_from_slice(&raw[s..s + es]);
            }
        }
    }
    if dtype.big_endian {
        for el in out.chunks_exact_mut(es) {
            el.reverse();
        }
    }
    out
}

fn netcdf_values(path: &Path, array_path: &str) -> Vec<u8> {
    let file = netcdf::open(path).expect("netcdf open");
    match array_path.rsplit_once('/') {
        None => file
            .variable(array_path)
            .expect("variable")
            .get_raw_values(..)
            .expect("values"),
        Some((groups, name)) => {
            let g = file.group(groups).expect("group").expect("group exists");
            let v = g.variable(name).expect("variable");
            v.get_raw_values(..).expect("values")
        }
    }
}

#[test]
fn every_fixture_array_equals_the_netcdf_values() {
    let cache = ChunkCache::new(64 << 20);
    let mut checked = 0;
    for path in fixtures() {
        // small target: contiguous variables are split and their last chunk padded
        let opts = IndexOptions {
            contiguous_chunk_target: 20_000,
        };
        let index = index_file(&path, &opts).unwrap_or_else(|e| panic!("{e}"));
        let view = DatasetView::new(index);
        let file = File::open(&path).expect("open");
        for (i, entry) in view.arrays.iter().enumerate() {
            let got = assemble(&view, i, &file, &cache);
            let want = netcdf_values(&path, &entry.path);
            assert_eq!(got.len(), want.len(), "{} {}", path.display(), entry.path);
            assert!(
                got == want,
                "{} {}: values differ",
                path.display(),
                entry.path
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} arrays checked");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let dir = std::env::temp_dir().join(format!("cloudify-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let good = std::fs::read(fixtures()[0].clone()).expect("fixture");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.nc", vec![]),
        ("text.nc", b"hello".to_vec()),
        ("truncated.nc", good[..good.len() / 3].to_vec()),
        ("header_only.nc", good[..64].to_vec()),
    ];
    for (name, bytes) in cases {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        assert!(
            index_file(&p, &IndexOptions::default()).is_err(),
            "{name} should fail"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
