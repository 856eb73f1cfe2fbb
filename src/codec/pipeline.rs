//! Undoing a stored HDF5 filter pipeline: its filters in reverse, those the chunk's filter
//! mask says were skipped left out; whole ([`decode_hdf5_chunk`]) or straight into the
//! caller's buffer ([`decode_hdf5_chunk_into`], decoded mode).

use super::b2frame::blosc2_frame_decompress;
use super::blosc::blosc_decompress;
use super::bzip2::bzip2_decompress;
use super::deflate::{inflate, inflate_into};
use super::fletcher32::verify_fletcher32;
use super::lz4::hdf5_lz4_decompress;
use super::lzf::lzf_decompress;
use super::shuffle::{unshuffle, unshuffle_into};
use super::szip::{hdf5_szip_decompress, hdf5_szip_decompress_into, SzipParams};
use super::zstd::zstd_decompress;
use super::CodecError;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One filter of a stored HDF5 pipeline, in pipeline (write) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceFilter {
    Shuffle {
        elementsize: usize,
    },
    Deflate {
        level: u32,
    },
    Fletcher32,
    /// LZF (h5py's filter 32000), decoded in Rust.
    Lzf,
    /// Blosc 1 (filter 32001); the chunk's own header says how it was compressed.
    Blosc,
    /// zstd (filter 32015).
    Zstd,
    /// bzip2 (filter 307).
    Bzip2,
    /// LZ4 in HDF5's own block framing (filter 32004), decoded in Rust.
    Lz4,
    /// Blosc2 (filter 32026): a Blosc2 frame of one chunk, decoded in Rust.
    Blosc2,
    /// szip (filter 4) with the cd_values HDF5 stored, decoded in Rust.
    Szip(SzipParams),
}

/// Decode a stored HDF5 chunk: undo the pipeline in reverse, skipping filters whose bit is set
/// in `mask`. Returns the raw chunk bytes (in the array's dtype order).
pub fn decode_hdf5_chunk(
    stored: Vec<u8>,
    pipeline: &[SourceFilter],
    mask: u32,
    expected: usize,
) -> Result<Vec<u8>, CodecError> {
    let mut data = Cow::Owned(stored);
    for f in active(pipeline, mask) {
        data = undo(data, f, expected)?;
    }
    if data.len() != expected {
        return Err(CodecError::Length { got: data.len(), expected });
    }
    Ok(data.into_owned())
}

/// [`decode_hdf5_chunk`] of the `stored` bytes into `dst` (the expected size), without a copy
/// of them: the last filter undone (inflate or unshuffle, the usual ones) writes straight into
/// `dst`, earlier ones read `stored` where it is. An inflate before the unshuffle (the usual
/// deflate + shuffle pipeline) writes into `scratch`, which the caller keeps from part to part
/// (it grows to the part's size once, and is never zeroed again).
pub fn decode_hdf5_chunk_into(
    stored: &[u8],
    pipeline: &[SourceFilter],
    mask: u32,
    dst: &mut [u8],
    scratch: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let expected = dst.len();
    let filters: Vec<&SourceFilter> = active(pipeline, mask).collect();
    let (last, mut before) = match filters.split_last() {
        Some((last, before)) => (Some(*last), before),
        None => (None, &filters[..]),
    };
    // inflate then unshuffle: the inflated bytes must be exactly the chunk's size anyway
    let inflate_first = match (before.split_last(), last) {
        (Some((SourceFilter::Deflate { .. }, earlier)), Some(SourceFilter::Shuffle { .. })) => {
            before = earlier;
            true
        }
        _ => false,
    };
    let mut data = Cow::Borrowed(stored);
    for f in before {
        data = undo(data, f, expected)?;
    }
    if inflate_first {
        if scratch.len() < expected {
            scratch.resize(expected, 0);
        }
        inflate_into(&data, &mut scratch[..expected])?;
        data = Cow::Borrowed(&scratch[..expected]);
    }
    let data = match last {
        Some(SourceFilter::Deflate { .. }) => return inflate_into(&data, dst),
        Some(SourceFilter::Szip(p)) => return hdf5_szip_decompress_into(&data, p, dst),
        Some(SourceFilter::Shuffle { elementsize }) if data.len() == expected => {
            unshuffle_into(&data, *elementsize, dst);
            return Ok(());
        }
        Some(f) => undo(data, f, expected)?,
        None => data,
    };
    if data.len() != expected {
        return Err(CodecError::Length { got: data.len(), expected });
    }
    dst.copy_from_slice(&data);
    Ok(())
}

/// The filters of `pipeline` to undo, in decoding order (filters skipped by `mask` left out).
fn active(pipeline: &[SourceFilter], mask: u32) -> impl Iterator<Item = &SourceFilter> {
    let skipped = move |i: usize| i < 32 && mask & (1 << i) != 0;
    pipeline.iter().enumerate().rev().filter(move |(i, _)| !skipped(*i)).map(|(_, f)| f)
}

/// Undo one filter (`expected`: the decoded chunk's size, a bound for decompressors). The
/// checksum's removal copies nothing: it shortens the bytes where they are.
fn undo<'a>(
    data: Cow<'a, [u8]>,
    filter: &SourceFilter,
    expected: usize,
) -> Result<Cow<'a, [u8]>, CodecError> {
    Ok(match filter {
        SourceFilter::Fletcher32 => {
            verify_fletcher32(&data)?;
            let body = data.len() - 4; // verified: the 4-byte trailer is there
            match data {
                Cow::Borrowed(b) => Cow::Borrowed(&b[..body]),
                Cow::Owned(mut v) => {
                    v.truncate(body);
                    Cow::Owned(v)
                }
            }
        }
        SourceFilter::Deflate { .. } => Cow::Owned(inflate(&data, expected)?),
        SourceFilter::Shuffle { elementsize } => Cow::Owned(unshuffle(&data, *elementsize)),
        SourceFilter::Lzf => Cow::Owned(lzf_decompress(&data, expected)?),
        SourceFilter::Blosc => Cow::Owned(blosc_decompress(&data, expected)?),
        SourceFilter::Zstd => Cow::Owned(zstd_decompress(&data, expected)?),
        SourceFilter::Bzip2 => Cow::Owned(bzip2_decompress(&data, expected)?),
        SourceFilter::Lz4 => Cow::Owned(hdf5_lz4_decompress(&data, expected)?),
        SourceFilter::Blosc2 => Cow::Owned(blosc2_frame_decompress(&data, expected)?),
        SourceFilter::Szip(p) => Cow::Owned(hdf5_szip_decompress(&data, p, expected)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{deflate, fletcher32, shuffle};

    #[test]
    fn fletcher32_detects_corruption() {
        let body: Vec<u8> = (0..1001u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut chunk = body.clone();
        chunk.extend_from_slice(&fletcher32(&body).to_le_bytes());
        let pipeline = [SourceFilter::Fletcher32];
        assert_eq!(decode_hdf5_chunk(chunk.clone(), &pipeline, 0, 1001).unwrap(), body);
        chunk[10] ^= 1;
        assert!(matches!(
            decode_hdf5_chunk(chunk, &pipeline, 0, 1001),
            Err(CodecError::Checksum { .. })
        ));
    }

    #[test]
    fn decodes_a_pipeline_with_a_skipped_filter() {
        let raw: Vec<u8> = (0..64u8).collect();
        let pipeline =
            [SourceFilter::Shuffle { elementsize: 4 }, SourceFilter::Deflate { level: 4 }];
        let full = deflate(&shuffle(&raw, 4), 4);
        assert_eq!(decode_hdf5_chunk(full, &pipeline, 0, 64).unwrap(), raw);
        // deflate skipped (bit 1): only shuffled
        let partial = shuffle(&raw, 4);
        assert_eq!(decode_hdf5_chunk(partial, &pipeline, 0b10, 64).unwrap(), raw);
        assert!(decode_hdf5_chunk(b"garbage".to_vec(), &pipeline, 0, 64).is_err());
    }

    #[test]
    fn decoding_into_a_buffer_agrees_with_decoding() {
        let raw: Vec<u8> = (0..4099u32).map(|i| (i * 13 % 251) as u8).collect();
        let (sh, fl, de) = (
            SourceFilter::Shuffle { elementsize: 4 },
            SourceFilter::Fletcher32,
            SourceFilter::Deflate { level: 4 },
        );
        let with_trailer = |mut d: Vec<u8>| {
            let sum = fletcher32(&d);
            d.extend_from_slice(&sum.to_le_bytes());
            d
        };
        let cases: Vec<(Vec<SourceFilter>, u32, Vec<u8>)> = vec![
            (vec![sh, de], 0, deflate(&shuffle(&raw, 4), 4)),
            (vec![sh, de], 0b10, shuffle(&raw, 4)),
            (vec![de], 0, deflate(&raw, 1)),
            (vec![sh, de, fl], 0, with_trailer(deflate(&shuffle(&raw, 4), 9))),
            (vec![], 0, raw.clone()),
            // wrong lengths and damage: both refuse
            (vec![de], 0, deflate(&raw[..4000], 4)),
            (vec![de], 0, deflate(&[raw.clone(), vec![1]].concat(), 4)),
            (vec![de], 0, deflate(&raw, 4)[..100].to_vec()),
            (vec![sh], 0, raw[..4000].to_vec()),
            (vec![sh, de], 0, deflate(&shuffle(&raw[..4000], 4), 4)),
            (vec![sh, de], 0, deflate(&shuffle(&[raw.clone(), vec![7; 4]].concat(), 4), 4)),
            (vec![de], 0, b"garbage".to_vec()),
            // cut before its checksum, every byte out: refused by both
            (vec![de], 0, {
                let d = deflate(&raw, 4);
                d[..d.len() - 4].to_vec()
            }),
        ];
        // one scratch buffer for all cases, as a decoding thread keeps it: stale bytes would show
        let mut scratch = vec![0x5au8; 17];
        for (i, (pipeline, mask, stored)) in cases.into_iter().enumerate() {
            let whole = decode_hdf5_chunk(stored.clone(), &pipeline, mask, raw.len());
            // not zeroed: a byte the decoder left alone would show
            let mut dst = vec![0xa5u8; raw.len()];
            let into = decode_hdf5_chunk_into(&stored, &pipeline, mask, &mut dst, &mut scratch);
            assert_eq!(whole.is_ok(), into.is_ok(), "case {i}: {whole:?} vs {into:?}");
            if let Ok(bytes) = whole {
                assert_eq!((bytes == raw, dst == raw), (true, true), "case {i}");
            }
            assert_eq!(i < 5, into.is_ok(), "case {i}");
        }
    }
}
