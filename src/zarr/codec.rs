//! The few codecs the daemon itself runs: HDF5 shuffle, zlib (deflate), the fletcher32 trailer.
//!
//! Used only for generated chunks (skipped-filter re-encoding, fill chunks); pass-through chunks
//! never reach this module.

use crate::index::{ArrayNode, Compressor, Filter, SourceFilter};
use flate2::read::{ZlibDecoder, ZlibEncoder};
use flate2::Compression;
use std::io::Read;

/// A chunk could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("zlib stream is corrupt: {0}")]
    Inflate(std::io::Error),
    #[error("decoded chunk has {got} bytes, expected {expected}")]
    Length { got: usize, expected: usize },
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
    match elementsize {
        0 | 1 => data.to_vec(),
        2 => unshuffle_n::<2>(data),
        4 => unshuffle_n::<4>(data),
        8 => unshuffle_n::<8>(data),
        es => {
            let n = data.len() / es;
            let mut out = data.to_vec();
            for (i, elem) in out.chunks_exact_mut(es).enumerate() {
                for (k, b) in elem.iter_mut().enumerate() {
                    *b = data[k * n + i];
                }
            }
            out
        }
    }
}

/// [`unshuffle`] for a fixed element size: byte streams zipped back into elements (hot path of
/// decoded mode, so written for the optimiser: no index arithmetic in the loop).
fn unshuffle_n<const N: usize>(data: &[u8]) -> Vec<u8> {
    let n = data.len() / N;
    let mut out = data.to_vec(); // the tail (a partial element) stays as it is
    let streams: [&[u8]; N] = std::array::from_fn(|k| &data[k * n..(k + 1) * n]);
    for (i, elem) in out[..n * N].chunks_exact_mut(N).enumerate() {
        for k in 0..N {
            elem[k] = streams[k][i];
        }
    }
    out
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

fn deflate(data: &[u8], level: u32) -> Vec<u8> {
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
    let mut data = stored;
    for (i, f) in pipeline.iter().enumerate().rev() {
        if i < 32 && mask & (1 << i) != 0 {
            continue;
        }
        data = match f {
            SourceFilter::Fletcher32 => {
                verify_fletcher32(&data)?;
                data.truncate(data.len() - 4);
                data
            }
            SourceFilter::Deflate { .. } => inflate(&data, expected)?,
            SourceFilter::Shuffle { elementsize } => unshuffle(&data, *elementsize),
            SourceFilter::Lzf => lzf_decompress(&data, expected)?,
        };
    }
    if data.len() != expected {
        return Err(CodecError::Length { got: data.len(), expected });
    }
    Ok(data)
}

/// Encode raw chunk bytes with the array's declared Zarr codecs (filters, then compressor).
pub fn encode_zarr_chunk(raw: &[u8], array: &ArrayNode) -> Vec<u8> {
    let mut data = raw.to_vec();
    for f in &array.filters {
        data = match f {
            Filter::Shuffle { elementsize } => shuffle(&data, *elementsize),
            // string chunks are built already encoded (source::strings)
            Filter::VlenUtf8 => data,
        };
    }
    match array.compressor {
        Some(Compressor::Zlib { level }) => deflate(&data, level),
        None => data,
    }
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
}
