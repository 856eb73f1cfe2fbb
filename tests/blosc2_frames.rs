//! The Blosc2 frames of fixtures/hdf5_blosc2.h5 (PyTables, hdf5plugin, python-blosc2 with
//! small blocks) as the daemon's Rust decoder reads them: every stored chunk decodes to the
//! HDF5 chunk's size (the values are compared with h5py through real mounts in
//! tests/python/test_fixtures.py and test_zarr3.py), and every chunk damaged byte by byte or cut short gives a
//! decoded chunk of that size or an error, never a panic.

use cloudify_mount::codec::{blosc2_frame_decompress, CodecError};
use cloudify_mount::source::btree::library_entries;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// (dataset name, HDF5 chunk bytes, the stored chunks) of every Blosc2 dataset of the fixture.
fn frames() -> Vec<(String, usize, Vec<Vec<u8>>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hdf5_blosc2.h5");
    let file = hdf5::File::open(&path).expect("open");
    let raw = std::fs::File::open(&path).expect("open raw");
    let mut out = Vec::new();
    for name in file.member_names().expect("members") {
        let ds = file.dataset(&name).expect("dataset");
        let blosc2 =
            ds.filters().iter().any(|f| matches!(f, hdf5::filters::Filter::User(32026, _)));
        if !blosc2 {
            continue;
        }
        let fletcher = ds.filters().contains(&hdf5::filters::Filter::Fletcher32);
        let shuffled = ds.filters().contains(&hdf5::filters::Filter::Shuffle);
        if fletcher || shuffled {
            continue; // other filters around the frame: the pipeline's tests cover those
        }
        let chunk: usize = ds.chunk().expect("chunked").iter().product::<usize>()
            * ds.dtype().expect("dtype").size();
        let stored = library_entries(&ds)
            .expect("chunks")
            .iter()
            .map(|e| {
                let mut b = vec![0u8; e.size as usize];
                raw.read_exact_at(&mut b, e.addr).expect("read chunk");
                b
            })
            .collect();
        out.push((name, chunk, stored));
    }
    out
}

#[test]
fn every_stored_frame_decodes_to_its_chunk() {
    let all = frames();
    assert!(all.len() >= 45, "only {} Blosc2 datasets", all.len());
    for (name, chunk, stored) in &all {
        for s in stored {
            let got = blosc2_frame_decompress(s, *chunk).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got.len(), *chunk, "{name}");
            // a wrong expected size is refused, never padded or cut
            assert!(blosc2_frame_decompress(s, chunk + 1).is_err(), "{name}");
        }
    }
}

#[test]
fn damaged_frames_give_an_error_or_a_chunk_never_a_panic() {
    let mut refused = 0;
    for (name, chunk, stored) in frames().iter().step_by(3) {
        let s = &stored[0];
        for at in 0..s.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = s.clone();
                bad[at] ^= flip;
                match blosc2_frame_decompress(&bad, *chunk) {
                    Ok(d) => assert_eq!(d.len(), *chunk, "{name} byte {at}"),
                    Err(CodecError::Blosc(_) | CodecError::Length { .. }) => refused += 1,
                    Err(_) => refused += 1,
                }
            }
            assert!(blosc2_frame_decompress(&s[..at], *chunk).is_err(), "{name} cut at {at}");
        }
    }
    assert!(refused > 0);
}
