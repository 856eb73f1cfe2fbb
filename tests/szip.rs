//! The szip chunks of fixtures/hdf5_szip.h5 and nc4_szip.nc (written by the real libaec through
//! h5py and netCDF-C, see scripts/make_szip_fixtures.py) decoded by the daemon's Rust decoder: every chunk equals
//! what libhdf5 reads for it, whatever the options (NN or EC, 8/16/32 pixels per block, 8- to
//! 64-bit pixels, both byte orders, padded scanlines, filters before and after it, chunks
//! stored with szip skipped); and every chunk cut short or damaged bit by bit gives an error
//! or a chunk of the right size, never a panic. The native reader takes netCDF-C's file, its
//! arrays decoded in Rust (tests/native_reader.rs holds its index to the libraries'). The
//! mount's values are compared with h5py and netCDF4 in tests/python/test_szip.py.

use cloudify_mount::codec::{decode_hdf5_chunk, SourceFilter, SzipParams};
use cloudify_mount::index::StorageKind;
use cloudify_mount::source::btree::{library_entries, ChunkEntry};
use cloudify_mount::source::{index_native, szip_cd_values, IndexOptions};
use hdf5::filters::Filter;
use hdf5_sys::h5d::{H5Dget_type, H5Dread};
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::H5S_ALL;
use hdf5_sys::h5t::H5Tclose;
use std::os::unix::fs::FileExt;
use std::path::Path;

struct Szipped {
    name: String,
    pipeline: Vec<SourceFilter>,
    shape: Vec<usize>,
    chunk: Vec<usize>,
    elem: usize,
    /// Every element in the file's own type, as libhdf5 decodes it.
    values: Vec<u8>,
    /// Each chunk's entry and stored bytes.
    chunks: Vec<(ChunkEntry, Vec<u8>)>,
}

fn fixture() -> Vec<Szipped> {
    let mut out = fixture_file("hdf5_szip.h5");
    out.extend(fixture_file("nc4_szip.nc"));
    out
}

/// The szip datasets of one fixture file.
fn fixture_file(file_name: &str) -> Vec<Szipped> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(file_name);
    let file = hdf5::File::open(&path).expect("open");
    let raw = std::fs::File::open(&path).expect("open raw");
    let mut out = Vec::new();
    for name in file.member_names().expect("members") {
        let ds = file.dataset(&name).expect("dataset");
        if !ds.filters().iter().any(|f| matches!(f, Filter::SZip(..))) {
            continue; // netCDF-C's coordinate variables
        }
        let elem = ds.dtype().expect("dtype").size();
        let Ok(params) = SzipParams::from_cd_values(&szip_cd_values(&ds).expect("cd_values"))
        else {
            // 4 pixels per block: left to libhdf5 (tests/python/test_szip.py)
            assert_eq!(format!("{file_name}: {name}"), "hdf5_szip.h5: ppb4_library_u2_nn4");
            continue;
        };
        let pipeline = ds
            .filters()
            .iter()
            .map(|f| match f {
                Filter::Shuffle => SourceFilter::Shuffle { elementsize: elem },
                Filter::Fletcher32 => SourceFilter::Fletcher32,
                Filter::SZip(..) => SourceFilter::Szip(params),
                other => panic!("{name}: unexpected filter {other:?}"),
            })
            .collect();
        let chunks = library_entries(&ds)
            .expect("chunks")
            .into_iter()
            .map(|e| {
                let mut b = vec![0u8; e.size as usize];
                raw.read_exact_at(&mut b, e.addr).expect("read chunk");
                (e, b)
            })
            .collect();
        out.push(Szipped {
            name: format!("{file_name}: {name}"),
            pipeline,
            shape: ds.shape(),
            chunk: ds.chunk().expect("chunked"),
            elem,
            values: read_all(&ds, ds.size() * elem),
            chunks,
        });
    }
    out
}

fn read_all(ds: &hdf5::Dataset, nbytes: usize) -> Vec<u8> {
    let _guard = hdf5_sys::LOCK.lock();
    let mut buf = vec![0u8; nbytes];
    // SAFETY: the buffer holds every element in the dataset's own type.
    let status = unsafe {
        let tid = H5Dget_type(ds.id());
        let s = H5Dread(ds.id(), tid, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.as_mut_ptr().cast());
        H5Tclose(tid);
        s
    };
    assert!(status >= 0);
    buf
}

/// The chunk's elements inside the array, compared with libhdf5's values.
fn assert_chunk_matches(d: &Szipped, origin: &[u64], decoded: &[u8], what: &str) {
    let rank = d.shape.len();
    let total: usize = d.chunk.iter().product();
    let mut compared = 0;
    for i in 0..total {
        let (mut rem, mut flat, mut inside) = (i, 0usize, true);
        let mut stride = 1;
        for ax in (0..rank).rev() {
            let c = rem % d.chunk[ax];
            rem /= d.chunk[ax];
            let at = origin[ax] as usize + c;
            inside &= at < d.shape[ax];
            flat += at * stride;
            stride *= d.shape[ax];
        }
        if inside {
            let (e, f) = (i * d.elem, flat * d.elem);
            assert_eq!(decoded[e..e + d.elem], d.values[f..f + d.elem], "{what} element {i}");
            compared += 1;
        }
    }
    assert!(compared > 0, "{what}");
}

#[test]
fn every_chunk_equals_libhdf5s_values() {
    let all = fixture();
    assert!(all.len() >= 28, "only {} datasets", all.len());
    let mut decoded_by_szip = 0;
    for d in &all {
        let bytes = d.chunk.iter().product::<usize>() * d.elem;
        for (e, stored) in &d.chunks {
            let what = format!("{} chunk {:?}", d.name, e.offset);
            let got = decode_hdf5_chunk(stored.clone(), &d.pipeline, e.filter_mask, bytes)
                .unwrap_or_else(|err| panic!("{what}: {err}"));
            assert_chunk_matches(d, &e.offset, &got, &what);
            let szip_at = d.pipeline.iter().position(|f| matches!(f, SourceFilter::Szip(_)));
            if szip_at.is_some_and(|i| e.filter_mask & (1 << i) == 0) {
                decoded_by_szip += 1;
                // a wrong expected size is refused, never padded or cut
                let wrong =
                    decode_hdf5_chunk(stored.clone(), &d.pipeline, e.filter_mask, bytes + 8);
                assert!(wrong.is_err(), "{what}");
            }
        }
    }
    assert!(decoded_by_szip >= 40, "only {decoded_by_szip} chunks went through szip");
}

#[test]
fn damaged_chunks_give_an_error_or_a_chunk_never_a_panic() {
    let (mut refused, mut cut_refused) = (0, 0);
    for d in fixture() {
        let bytes = d.chunk.iter().product::<usize>() * d.elem;
        let Some((e, stored)) = d.chunks.iter().find(|(e, _)| e.filter_mask == 0) else {
            continue;
        };
        let whole = decode_hdf5_chunk(stored.clone(), &d.pipeline, 0, bytes).expect("decodes");
        for at in 0..stored.len() {
            // bits after the last sample kept (a padded scanline's tail) are never read: a
            // chunk cut there still decodes, to the same values
            match decode_hdf5_chunk(stored[..at].to_vec(), &d.pipeline, 0, bytes) {
                Ok(got) => assert_eq!(got, whole, "{} chunk {:?} cut at {at}", d.name, e.offset),
                Err(_) => cut_refused += 1,
            }
        }
        for bit in (0..stored.len() * 8).step_by(5) {
            let mut bad = stored.clone();
            bad[bit / 8] ^= 0x80 >> (bit % 8);
            match decode_hdf5_chunk(bad, &d.pipeline, 0, bytes) {
                Ok(got) => assert_eq!(got.len(), bytes),
                Err(_) => refused += 1,
            }
        }
    }
    assert!(refused > 100, "only {refused} damaged chunks refused");
    assert!(cut_refused > 1000, "only {cut_refused} cut chunks refused");
}

#[test]
fn the_native_reader_takes_netcdf_cs_szip_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nc4_szip.nc");
    let index = index_native(&path, &IndexOptions::default()).expect("taken natively");
    let szip: Vec<&str> = index
        .root
        .arrays
        .iter()
        .filter(|a| a.source_filters.iter().any(|f| matches!(f, SourceFilter::Szip(_))))
        .inspect(|a| assert_eq!(a.storage, StorageKind::ChunkedDecoded, "{}", a.name))
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(szip, ["tas", "pr", "mask"]);
}
