//! Blosc 1 chunks (HDF5 filter 32001 as PyTables, hdf5plugin and netCDF-C write them; numcodecs
//! `blosc`), decoded in Rust: the 16-byte header (format version 1 or 2, codec version,
//! flags, type size, decoded size, block size, stored size), the blocks' start offsets, and
//! per block one stream (or one per byte of the type: "split") of BloscLZ, LZ4, zlib or zstd,
//! each stored as it is when its length equals its decoded length; then the block's byte or
//! bit shuffle undone. A chunk flagged "memcpyed" holds the bytes after the header as they
//! are; [`blosc_lz4`] encodes (fill chunks, re-encoded chunks) with LZ4 blocks, which every
//! Blosc reader decodes.

use super::bitshuffle::bitunshuffle;
use super::blosclz::blosclz_decompress;
use super::shuffle::unshuffle_into;
use super::zstd::zstd_decompress;
use super::CodecError;

const HEADER: usize = 16;
const DOSHUFFLE: u8 = 0x1;
const MEMCPYED: u8 = 0x2;
const DOBITSHUFFLE: u8 = 0x4;
const DONT_SPLIT: u8 = 0x10;
const MAX_SPLITS: usize = 16;
const MIN_BUFFERSIZE: usize = 128;

/// Decode a Blosc 1 chunk, which must give exactly `expected` bytes.
pub fn blosc_decompress(input: &[u8], expected: usize) -> Result<Vec<u8>, CodecError> {
    let bad = |what: &str| CodecError::Blosc(what.to_string());
    let h = input.get(..HEADER).ok_or_else(|| bad("header cut short"))?;
    let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]) as usize;
    let (version, flags, typesize) = (h[0], h[2], usize::from(h[3]));
    let (nbytes, blocksize, cbytes) = (u32_at(4), u32_at(8), u32_at(12));
    if !(1..=2).contains(&version) {
        return Err(CodecError::Blosc(format!("Blosc format version {version}")));
    }
    if nbytes != expected {
        return Err(CodecError::Length { got: nbytes, expected });
    }
    if cbytes > input.len() || cbytes < HEADER {
        return Err(bad("stored size beyond the chunk"));
    }
    let input = &input[..cbytes];
    if let Some(done) = stored_as_is(&input[HEADER..], flags & MEMCPYED != 0, nbytes) {
        return done;
    }
    if blocksize == 0 || typesize == 0 || blocksize > nbytes {
        return Err(bad("bad block or type size"));
    }
    let nblocks = nbytes.div_ceil(blocksize);
    let starts = input.get(HEADER..HEADER + 4 * nblocks).ok_or_else(|| bad("block table"))?;
    let codec = flags >> 5;
    let mut out = vec![0u8; nbytes];
    let mut tmp = vec![0u8; blocksize];
    for (b, dst) in out.chunks_mut(blocksize).enumerate() {
        let s = &starts[4 * b..4 * b + 4];
        let start = u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize;
        let leftover = dst.len() < blocksize;
        let split = flags & DONT_SPLIT == 0
            && typesize <= MAX_SPLITS
            && blocksize / typesize >= MIN_BUFFERSIZE
            && !leftover;
        let nsplits = if split { typesize } else { 1 };
        let shuffled = (flags & DOSHUFFLE != 0 && typesize > 1)
            || (flags & DOBITSHUFFLE != 0 && dst.len() >= typesize);
        let stage: &mut [u8] = if shuffled { &mut tmp[..dst.len()] } else { dst };
        let neblock = stage.len() / nsplits;
        let mut at = start;
        for part in stage.chunks_mut(neblock).take(nsplits) {
            let len = input.get(at..at + 4).ok_or_else(|| bad("stream header"))?;
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
            at += 4;
            let stream = input.get(at..at.saturating_add(len)).ok_or_else(|| bad("stream"))?;
            at += len;
            if len == part.len() {
                part.copy_from_slice(stream);
            } else {
                decode_stream(codec, stream, part)?;
            }
        }
        if flags & DOSHUFFLE != 0 && typesize > 1 {
            unshuffle_into(&tmp[..dst.len()], typesize, dst);
        } else if shuffled {
            bitunshuffle(&tmp[..dst.len()], typesize, dst);
        }
    }
    Ok(out)
}

/// One compressed stream of a block into `dst`, which it must fill.
pub(super) fn decode_stream(codec: u8, stream: &[u8], dst: &mut [u8]) -> Result<(), CodecError> {
    let expected = dst.len();
    let exact = |n: usize| {
        if n == expected {
            Ok(())
        } else {
            Err(CodecError::Length { got: n, expected })
        }
    };
    match codec {
        0 => blosclz_decompress(stream, dst),
        1 => {
            let n = lz4_flex::block::decompress_into(stream, dst)
                .map_err(|e| CodecError::Blosc(format!("LZ4 block: {e}")))?;
            exact(n)
        }
        3 => {
            let raw = super::deflate::inflate(stream, dst.len())?;
            exact(raw.len())?;
            dst.copy_from_slice(&raw);
            Ok(())
        }
        4 => {
            dst.copy_from_slice(&zstd_decompress(stream, dst.len())?);
            Ok(())
        }
        2 => Err(CodecError::Blosc("Blosc's snappy codec is not supported".into())),
        other => Err(CodecError::Blosc(format!("Blosc codec format {other}"))),
    }
}

/// Bytes of one block [`blosc_lz4`] writes (a multiple of every type size up to 8).
const ENCODE_BLOCK: usize = 1 << 18;

/// The chunk when it needs no decompression: its body copied as it is (`memcpyed`, which
/// must then hold every byte) or nothing at all; `None` for a compressed chunk.
pub fn stored_as_is(
    body: &[u8],
    memcpyed: bool,
    nbytes: usize,
) -> Option<Result<Vec<u8>, CodecError>> {
    if memcpyed {
        return Some(match body.len() == nbytes {
            true => Ok(body.to_vec()),
            false => Err(CodecError::Length { got: body.len(), expected: nbytes }),
        });
    }
    (nbytes == 0).then(|| Ok(vec![]))
}

/// A Blosc 1 chunk of `raw` in LZ4 blocks, unshuffled and unsplit (a block LZ4 cannot shrink
/// stored as it is), which every Blosc reader decodes whatever codec its metadata names.
pub fn blosc_lz4(raw: &[u8], typesize: usize) -> Vec<u8> {
    let typesize = u8::try_from(typesize).unwrap_or(1).max(1);
    let blocksize = raw.len().clamp(1, ENCODE_BLOCK);
    let nblocks = raw.len().div_ceil(blocksize);
    let mut out = vec![2, 1, DONT_SPLIT | (1 << 5), typesize];
    out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    out.extend_from_slice(&(blocksize as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]); // the stored size, known at the end
    out.resize(HEADER + 4 * nblocks, 0);
    for (b, block) in raw.chunks(blocksize).enumerate() {
        let start = out.len() as u32;
        out[HEADER + 4 * b..HEADER + 4 * b + 4].copy_from_slice(&start.to_le_bytes());
        let packed = lz4_flex::block::compress(block);
        let body = if packed.len() < block.len() { &packed[..] } else { block };
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
    }
    let cbytes = out.len() as u32;
    out[12..16].copy_from_slice(&cbytes.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_chunks_round_trip() {
        let fill = 9.96921e36f32.to_le_bytes().repeat(200_000); // two blocks of a fill value
        let noise: Vec<u8> = (0..1000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for raw in [fill, noise, vec![]] {
            let c = blosc_lz4(&raw, 4);
            assert_eq!(blosc_decompress(&c, raw.len()).unwrap(), raw);
            assert!(blosc_decompress(&c, raw.len() + 1).is_err());
            if !raw.is_empty() {
                assert!(blosc_decompress(&c[..c.len() - 1], raw.len()).is_err());
            }
            assert!(blosc_decompress(&c[..10], raw.len()).is_err());
        }
        assert!(blosc_lz4(&[0; 800_000], 4).len() < 8000);
        // a memcpyed chunk: the bytes after the header as they are
        let mut stored = vec![2, 1, MEMCPYED, 4];
        for n in [8u32, 8, 24] {
            stored.extend_from_slice(&n.to_le_bytes());
        }
        stored.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(blosc_decompress(&stored, 8).unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn damaged_chunks_give_an_error_or_bytes_never_a_panic() {
        let raw: Vec<u8> = (0..3000u32).flat_map(|i| (i / 5).to_le_bytes()).collect();
        let good = blosc_lz4(&raw, 4);
        for at in 0..good.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[at] ^= flip;
                // the header's flags select every codec, shuffle and split path
                let _ = blosc_decompress(&bad, raw.len());
            }
            let _ = blosc_decompress(&good[..at], raw.len());
        }
    }

    #[test]
    fn a_shuffled_lz4_chunk_decodes() {
        // one block, not split (dont_split), byte-shuffled 4-byte elements, LZ4 (codec 1)
        let raw: Vec<u8> = (0..256u32).flat_map(|i| (i / 3).to_le_bytes()).collect();
        let shuffled = super::super::shuffle(&raw, 4);
        let stream = lz4_flex::block::compress(&shuffled);
        let mut c = vec![2, 1, DOSHUFFLE | DONT_SPLIT | (1 << 5), 4];
        let cbytes = HEADER + 4 + 4 + stream.len();
        for n in [raw.len(), raw.len(), cbytes, HEADER + 4] {
            c.extend_from_slice(&(n as u32).to_le_bytes());
        }
        c.extend_from_slice(&(stream.len() as u32).to_le_bytes());
        c.extend_from_slice(&stream);
        assert_eq!(blosc_decompress(&c, raw.len()).unwrap(), raw);
        c[HEADER + 8] ^= 0xff; // damage the stream
        assert!(blosc_decompress(&c, raw.len()).is_err());
    }
}
