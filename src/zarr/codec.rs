//! The few codecs the daemon itself runs: HDF5 shuffle, zlib (deflate), the fletcher32 trailer.
//!
//! Used only for generated chunks (skipped-filter re-encoding, fill chunks); pass-through chunks
//! never reach this module.

use crate::index::SourceFilter;
use flate2::read::{ZlibDecoder, ZlibEncoder};
use flate2::{Compression, Decompress, FlushDecompress, Status};
use std::borrow::Cow;
use std::io::Read;

/// A chunk could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("zlib stream is corrupt: {0}")]
    Inflate(std::io::Error),
    #[error("decoded chunk has {got} bytes, expected {expected}")]
    Length { got: usize, expected: usize },
    #[error("decoded chunk is longer than the expected {expected} bytes")]
    TooLong { expected: usize },
    #[error("fletcher32 trailer missing: chunk of {0} bytes")]
    Trailer(usize),
    #[error("lzf stream is corrupt at byte {0}")]
    Lzf(usize),
    #[error("fletcher32 checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum { stored: u32, computed: u32 },
}

/// HDF5/numcodecs byte shuffle: byte k of every element, then byte k+1, ... Trailing bytes
/// that do not fill an element are copied unchanged, as HDF5 does.
pub fn shuffle(data: &[u8], elementsize: usize) -> Vec<u8> {
    if elementsize <= 1 {
        return data.to_vec();
    }
    let n = data.len() / elementsize;
    let mut out = data.to_vec();
    for (i, elem) in data.chunks_exact(elementsize).enumerate() {
        for (k, b) in elem.iter().enumerate() {
            out[k * n + i] = *b;
        }
    }
    out
}

/// Inverse of [`shuffle`].
pub fn unshuffle(data: &[u8], elementsize: usize) -> Vec<u8> {
    let mut out = vec![0; data.len()];
    unshuffle_into(data, elementsize, &mut out);
    out
}

/// [`unshuffle`] into `dst` (as long as `data`): the decoded mode's last step writes straight
/// into the chunk being assembled.
fn unshuffle_into(data: &[u8], elementsize: usize, dst: &mut [u8]) {
    match elementsize {
        0 | 1 => dst.copy_from_slice(data),
        2 => unshuffle_n::<2>(data, dst),
        4 => unshuffle_n::<4>(data, dst),
        8 => unshuffle_n::<8>(data, dst),
        es => {
            let n = data.len() / es;
            dst[n * es..].copy_from_slice(&data[n * es..]);
            for (i, elem) in dst[..n * es].chunks_exact_mut(es).enumerate() {
                for (k, b) in elem.iter_mut().enumerate() {
                    *b = data[k * n + i];
                }
            }
        }
    }
}

/// [`unshuffle_into`] for a fixed element size: byte streams zipped back into elements (hot
/// path of decoded mode, so written for the optimiser: no index arithmetic in the loop, and
/// an element assembled in a register, which LLVM vectorises: 2x faster than byte stores
/// for 4-byte elements, measured).
fn unshuffle_n<const N: usize>(data: &[u8], dst: &mut [u8]) {
    let n = data.len() / N;
    dst[n * N..].copy_from_slice(&data[n * N..]); // a partial element stays as it is
    let streams: [&[u8]; N] = std::array::from_fn(|k| &data[k * n..(k + 1) * n]);
    for (i, elem) in dst[..n * N].chunks_exact_mut(N).enumerate() {
        let mut word = 0u64;
        for (k, stream) in streams.iter().enumerate() {
            word |= u64::from(stream[i]) << (8 * k);
        }
        elem.copy_from_slice(&word.to_le_bytes()[..N]);
    }
}

/// HDF5's Fletcher-32 (H5_checksum_fletcher32): big-endian 16-bit words, sums folded every
/// 360 words, an odd last byte as the high byte of a word.
pub fn fletcher32(data: &[u8]) -> u32 {
    let (mut sum1, mut sum2) = (0u32, 0u32);
    for block in data.chunks(720) {
        for word in block.chunks(2) {
            let hi = u32::from(word[0]) << 8;
            sum1 += hi | word.get(1).map_or(0, |b| u32::from(*b));
            sum2 += sum1;
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    (sum2 << 16) | sum1
}

/// Check the 4-byte little-endian trailer of `data` (HDF5 also accepts the byte-swapped form
/// written by 1.6-era libraries).
fn verify_fletcher32(data: &[u8]) -> Result<(), CodecError> {
    let Some(split) = data.len().checked_sub(4) else {
        return Err(CodecError::Trailer(data.len()));
    };
    let (body, trailer) = data.split_at(split);
    let stored = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let computed = fletcher32(body);
    let swapped = ((computed & 0x00ff_00ff) << 8) | ((computed & 0xff00_ff00) >> 8);
    if stored == computed || stored == swapped {
        Ok(())
    } else {
        Err(CodecError::Checksum { stored, computed })
    }
}

/// LZF decompression (liblzf's format, as h5py's lzf filter writes it): a control byte below
/// 32 starts a literal run of ctrl+1 bytes; otherwise a back reference of length
/// (ctrl >> 5) + 2 (7 means one more length byte) at distance ((ctrl & 31) << 8 | next) + 1.
pub fn lzf_decompress(input: &[u8], size_hint: usize) -> Result<Vec<u8>, CodecError> {
    let mut out: Vec<u8> = Vec::with_capacity(size_hint);
    let mut ip = 0usize;
    let byte = |i: usize| input.get(i).copied().ok_or(CodecError::Lzf(i));
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = input.get(ip..ip + ctrl + 1).ok_or(CodecError::Lzf(ip))?;
            out.extend_from_slice(run);
            ip += ctrl + 1;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(byte(ip)?);
                ip += 1;
            }
            let distance = ((ctrl & 0x1f) << 8) + usize::from(byte(ip)?) + 1;
            ip += 1;
            let start = out.len().checked_sub(distance).ok_or(CodecError::Lzf(ip))?;
            for k in 0..len + 2 {
                let b = out[start + k];
                out.push(b);
            }
        }
        if out.len() > size_hint.max(1) * 2 + 64 {
            return Err(CodecError::Lzf(ip));
        }
    }
    Ok(out)
}

/// Inflate a zlib stream expected to give about `size_hint` bytes; a stream that would give
/// far more (a corrupt or hostile chunk) is an error, not an allocation.
fn inflate(data: &[u8], size_hint: usize) -> Result<Vec<u8>, CodecError> {
    let limit = size_hint.saturating_mul(2).saturating_add(64);
    let mut out = Vec::with_capacity(size_hint);
    ZlibDecoder::new(data)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(CodecError::Inflate)?;
    if out.len() > limit {
        return Err(CodecError::Length { got: out.len(), expected: size_hint });
    }
    Ok(out)
}

/// Inflate a zlib stream into `dst`, which it must fill exactly: a stream giving more or
/// fewer bytes is an error (and never writes past `dst`).
fn inflate_into(data: &[u8], dst: &mut [u8]) -> Result<(), CodecError> {
    let corrupt = |e| CodecError::Inflate(std::io::Error::new(std::io::ErrorKind::InvalidData, e));
    let mut z = Decompress::new(true);
    let mut status = z.decompress(data, dst, FlushDecompress::Finish).map_err(corrupt)?;
    let got = z.total_out() as usize;
    if status != Status::StreamEnd && got == dst.len() {
        // full: the stream may still hold its end (checksum) or more bytes than expected
        let rest = &data[(z.total_in() as usize).min(data.len())..];
        status = z.decompress(rest, &mut [0u8; 1], FlushDecompress::Finish).map_err(corrupt)?;
        if z.total_out() as usize > got {
            return Err(CodecError::TooLong { expected: dst.len() });
        }
    }
    if got != dst.len() {
        return Err(CodecError::Length { got, expected: dst.len() });
    }
    if status != Status::StreamEnd {
        // as `inflate` (flate2's reader) says of a stream cut before its checksum
        let cut = "incomplete deflate stream";
        return Err(CodecError::Inflate(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            cut,
        )));
    }
    Ok(())
}

pub fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut out = Vec::new();
    // Reading from an in-memory slice through the encoder cannot fail.
    let _ = ZlibEncoder::new(data, Compression::new(level.min(9))).read_to_end(&mut out);
    out
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_round_trips() {
        let data: Vec<u8> = (0..24).collect();
        let s = shuffle(&data, 4);
        assert_eq!(&s[..6], &[0, 4, 8, 12, 16, 20]);
        assert_eq!(unshuffle(&s, 4), data);
        // a 3-byte remainder stays in place
        let odd: Vec<u8> = (0..11).collect();
        let s = shuffle(&odd, 4);
        assert_eq!(&s[8..], &[8, 9, 10]);
        assert_eq!(unshuffle(&s, 4), odd);
        for es in [2, 3, 8] {
            let data: Vec<u8> = (0..=255).cycle().take(es * 37 + 1).collect();
            assert_eq!(unshuffle(&shuffle(&data, es), es), data, "elementsize {es}");
        }
    }

    #[test]
    fn lzf_literals_and_back_references() {
        // "abcabcabcX": literal "abc", back reference len 6 at distance 3, literal "X"
        let stream = [2, b'a', b'b', b'c', (4 << 5), 2, 0, b'X'];
        assert_eq!(lzf_decompress(&stream, 10).unwrap(), b"abcabcabcX");
        assert!(lzf_decompress(&[0x20, 5], 10).is_err()); // reference before the start
        assert!(lzf_decompress(&[5, b'a'], 10).is_err()); // literal past the end
    }

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
