//! Decoded mode decodes stored chunks in the daemon: the in-place decoder
//! (`decode_hdf5_chunk_into`, straight into the stacked chunk) must agree with the plain one
//! on every input (same bytes, or both refusing), and neither may panic or write past its
//! buffer. Inputs are either raw stored bytes or data encoded here with the pipeline and then
//! cut or damaged, so that valid streams of the wrong length are tried too.
#![no_main]

use cloudify_mount::codec::{
    blosc_lz4, bzip2_compress, decode_hdf5_chunk, decode_hdf5_chunk_into, fletcher32, shuffle,
    zstd_compress, SourceFilter, SzipParams,
};
use flate2::{read::ZlibEncoder, Compression};
use libfuzzer_sys::fuzz_target;
use std::io::Read;

fuzz_target!(|data: &[u8]| {
    let [sel, mask, n0, n1, how, cut, rest @ ..] = data else { return };
    let es = [1, 2, 3, 4, 8][usize::from(sel & 7) % 5];
    let mut pipeline = Vec::new();
    if sel & 8 != 0 {
        pipeline.push(SourceFilter::Shuffle { elementsize: es });
    }
    if sel & 16 != 0 {
        pipeline.push(SourceFilter::Deflate { level: 4 });
    }
    // a compressor that is a Zarr codec (or HDF5's LZ4) after the shuffle
    match how >> 3 & 7 {
        1 => pipeline.push(SourceFilter::Blosc),
        2 => pipeline.push(SourceFilter::Zstd),
        3 => pipeline.push(SourceFilter::Bzip2),
        4 => pipeline.push(SourceFilter::Lz4),
        5 => pipeline.push(SourceFilter::Blosc2),
        // szip (decoded in Rust; no encoder here): parameters from `cut`, raw bytes as stream
        6 => {
            let bits = [8, 16, 32, 64, 1, 7, 12, 24][usize::from(*cut & 7)];
            let ppb = [8, 16, 32, 8][usize::from(*cut >> 3 & 3)];
            let mask = if *cut & 32 != 0 { 32 } else { 4 } | if *cut & 64 != 0 { 16 } else { 8 };
            let pps = u32::from(*cut >> 7) * 13 + ppb;
            if let Ok(p) = SzipParams::from_cd_values(&[mask, ppb, bits, pps]) {
                pipeline.push(SourceFilter::Szip(p));
            }
        }
        _ => {}
    }
    if sel & 32 != 0 {
        pipeline.push(SourceFilter::Fletcher32);
    }
    if sel & 64 != 0 {
        pipeline.push(SourceFilter::Lzf);
    }
    let mask = u32::from(*mask & 7);
    let expected = usize::from(u16::from_le_bytes([*n0, *n1]));
    let stored = if how & 1 == 0 {
        rest.to_vec()
    } else {
        // encode `rest` with the unmasked filters, then damage it as told
        let mut d = rest.to_vec();
        for (i, f) in pipeline.iter().enumerate() {
            if mask & (1 << i) != 0 {
                continue;
            }
            d = match f {
                SourceFilter::Shuffle { elementsize } => shuffle(&d, *elementsize),
                SourceFilter::Deflate { .. } => {
                    let mut out = Vec::new();
                    let _ = ZlibEncoder::new(&d[..], Compression::new(4)).read_to_end(&mut out);
                    out
                }
                SourceFilter::Fletcher32 => {
                    let sum = fletcher32(&d);
                    d.extend_from_slice(&sum.to_le_bytes());
                    d
                }
                SourceFilter::Blosc => blosc_lz4(&d, es),
                SourceFilter::Zstd => zstd_compress(&d),
                SourceFilter::Bzip2 => bzip2_compress(&d, 9),
                // no encoder here: left as it is
                SourceFilter::Lzf
                | SourceFilter::Lz4
                | SourceFilter::Blosc2
                | SourceFilter::Szip(_) => d,
            };
        }
        match how >> 1 & 3 {
            1 => d.truncate(usize::from(*cut) % (d.len() + 1)),
            2 if !d.is_empty() => {
                let at = usize::from(*cut) % d.len();
                d[at] ^= 0x5a;
            }
            _ => {}
        }
        d
    };
    let whole = decode_hdf5_chunk(stored.clone(), &pipeline, mask, expected);
    let mut dst = vec![0xa5u8; expected]; // not zeroed: a byte left alone would show
    let mut scratch = vec![0x5au8; expected / 2]; // grown by the decoder, never zeroed
    let into = decode_hdf5_chunk_into(&stored, &pipeline, mask, &mut dst, &mut scratch);
    match (whole, into) {
        (Ok(bytes), Ok(())) => assert_eq!(bytes, dst),
        (Err(_), Err(_)) => {}
        (w, i) => panic!("the decoders disagree: {w:?} vs {i:?}"),
    }
});
