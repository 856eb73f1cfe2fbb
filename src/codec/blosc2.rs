//! Blosc2 chunks (c-blosc2's chunk format, versions 3–5), decoded in Rust: the 32-byte
//! extended header (the 16 bytes of Blosc 1, then a pipeline of six filters with their
//! metadata and the Blosc2 flags), chunks of one special value (zeros, NaN, a repeated
//! value, uninitialised: read as zeros), memcpyed chunks, and per block one stream (or one per
//! byte of the type when the header says "split") of BloscLZ, LZ4/LZ4HC, zlib or zstd,
//! a stream being stored as it is, all zeros (length 0) or one repeated byte (a negative
//! length); then the block's filters undone in reverse: byte shuffle (repeated as often as its
//! metadata says), bit shuffle (of the elements that fill whole bytes of bits: the rest stored
//! as it is), truncated precision (nothing to undo). A chunk without the extended header is a
//! Blosc 1 chunk ([`super::blosc`]). Not decoded, with a clear error: the delta filter,
//! user-defined codecs and filters, dictionaries. The frame around these chunks (as the HDF5
//! filter 32026 stores them) is [`super::b2frame`].

use super::bitshuffle::bitunshuffle;
use super::blosc::{blosc_decompress, decode_stream, stored_as_is};
use super::shuffle::unshuffle_into;
use super::CodecError;

const HEADER: usize = 16;
const EXTENDED: usize = 32;
const MEMCPYED: u8 = 0x2;
const DONT_SPLIT: u8 = 0x10;
/// Both shuffle bits set: the header is extended (Blosc2).
const EXTENDED_FLAGS: u8 = 0x1 | 0x4;
const USE_DICT: u8 = 0x1;
const LAZY: u8 = 0x8;

const NOFILTER: u8 = 0;
const SHUFFLE: u8 = 1;
const BITSHUFFLE: u8 = 2;
const DELTA: u8 = 3;
const TRUNC_PREC: u8 = 4;

fn bad(what: impl Into<String>) -> CodecError {
    CodecError::Blosc(format!("Blosc2: {}", what.into()))
}

/// The decoded size a Blosc (1 or 2) chunk's header declares.
pub fn blosc2_nbytes(input: &[u8]) -> Result<usize, CodecError> {
    let h = input.get(..HEADER).ok_or_else(|| bad("header cut short"))?;
    Ok(u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize)
}

/// Decode a Blosc2 (or Blosc 1) chunk, which must give exactly `expected` bytes.
pub fn blosc2_decompress(input: &[u8], expected: usize) -> Result<Vec<u8>, CodecError> {
    let h = input.get(..HEADER).ok_or_else(|| bad("header cut short"))?;
    if h[2] & EXTENDED_FLAGS != EXTENDED_FLAGS {
        return blosc_decompress(input, expected);
    }
    let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]) as usize;
    let (version, flags, typesize) = (h[0], h[2], usize::from(h[3]));
    let (nbytes, blocksize, cbytes) = (u32_at(4), u32_at(8), u32_at(12));
    if !(3..=5).contains(&version) {
        return Err(bad(format!("chunk format version {version}")));
    }
    if nbytes != expected {
        return Err(CodecError::Length { got: nbytes, expected });
    }
    let x = input.get(..EXTENDED).ok_or_else(|| bad("extended header cut short"))?;
    if cbytes > input.len() || cbytes < EXTENDED {
        return Err(bad("stored size beyond the chunk"));
    }
    let input = &input[..cbytes];
    let (filters, filters_meta, b2flags) = (&x[16..22], &x[24..30], x[31]);
    if typesize == 0 {
        return Err(bad("type size 0"));
    }
    if let Some(out) = special(input, b2flags, typesize, nbytes)? {
        return Ok(out);
    }
    if b2flags & LAZY != 0 {
        return Err(bad("a lazy chunk (its blocks are not in it)"));
    }
    if let Some(done) = stored_as_is(&input[EXTENDED..], flags & MEMCPYED != 0, nbytes) {
        return done;
    }
    if b2flags & USE_DICT != 0 {
        return Err(bad("chunks compressed with a dictionary are not supported"));
    }
    if blocksize == 0 || blocksize > nbytes {
        return Err(bad("bad block size"));
    }
    for &f in filters {
        match f {
            NOFILTER | SHUFFLE | BITSHUFFLE | TRUNC_PREC => {}
            DELTA => return Err(bad("the delta filter is not supported")),
            other => return Err(bad(format!("user-defined filter {other}"))),
        }
    }
    let codec = flags >> 5;
    let nblocks = nbytes.div_ceil(blocksize);
    let starts = input.get(EXTENDED..EXTENDED + 4 * nblocks).ok_or_else(|| bad("block table"))?;
    let mut out = vec![0u8; nbytes];
    let (mut a, mut b) = (vec![0u8; blocksize], vec![0u8; blocksize]);
    for (n, dst) in out.chunks_mut(blocksize).enumerate() {
        let s = &starts[4 * n..4 * n + 4];
        let start = u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize;
        if start < EXTENDED + 4 * nblocks || start >= input.len() {
            return Err(bad("block start outside the chunk"));
        }
        let leftover = dst.len() < blocksize;
        let nstreams = if flags & DONT_SPLIT == 0 && !leftover { typesize } else { 1 };
        let len = dst.len();
        if !len.is_multiple_of(nstreams) {
            return Err(bad("block not a whole number of elements"));
        }
        let mut at = start;
        for part in a[..len].chunks_mut(len / nstreams) {
            at = read_stream(input, at, codec, part)?;
        }
        // the filters undone in reverse, each from one buffer into the other
        let mut cur_in_a = true;
        for i in (0..filters.len()).rev() {
            let (src, tgt) =
                if cur_in_a { (&a[..len], &mut b[..len]) } else { (&b[..len], &mut a[..len]) };
            match filters[i] {
                SHUFFLE => {
                    // metadata m: the shuffle was applied m + 1 times
                    unshuffle_into(src, typesize, tgt);
                    for _ in 0..filters_meta[i] {
                        let again = tgt.to_vec();
                        unshuffle_into(&again, typesize, tgt);
                    }
                }
                BITSHUFFLE => bitunshuffle_prefix(src, typesize, tgt, version),
                _ => continue,
            }
            cur_in_a = !cur_in_a;
        }
        dst.copy_from_slice(if cur_in_a { &a[..len] } else { &b[..len] });
    }
    Ok(out)
}

/// One stream of a block from `at` into `part` (which it must fill); the offset after it.
fn read_stream(input: &[u8], at: usize, codec: u8, part: &mut [u8]) -> Result<usize, CodecError> {
    let len = input.get(at..at + 4).ok_or_else(|| bad("stream header"))?;
    let len = i32::from_le_bytes([len[0], len[1], len[2], len[3]]);
    let at = at + 4;
    if len == 0 {
        part.fill(0);
        return Ok(at);
    }
    if len < 0 {
        let token = *input.get(at).ok_or_else(|| bad("stream token"))?;
        if token & 1 == 0 || len < -255 {
            return Err(bad(format!("stream token {token:#x} of length {len}")));
        }
        part.fill((-len) as u8);
        return Ok(at + 1);
    }
    let len = len as usize;
    let stream = input.get(at..at.saturating_add(len)).ok_or_else(|| bad("stream cut short"))?;
    if len == part.len() {
        part.copy_from_slice(stream);
    } else {
        decode_stream(codec, stream, part)?;
    }
    Ok(at + len)
}

/// A chunk of one special value (Blosc2 flags bits 4–6), or None.
fn special(
    input: &[u8],
    b2flags: u8,
    typesize: usize,
    nbytes: usize,
) -> Result<Option<Vec<u8>>, CodecError> {
    if !nbytes.is_multiple_of(typesize) {
        return match (b2flags >> 4) & 7 {
            0 => Ok(None),
            _ => Err(bad("special-value chunk not a whole number of elements")),
        };
    }
    let repeat = |value: &[u8]| value.repeat(nbytes / typesize);
    Ok(match (b2flags >> 4) & 7 {
        0 => None,
        1 | 4 => Some(vec![0; nbytes]), // zeros; uninitialised (c-blosc2 leaves memory as it is)
        2 => Some(match typesize {
            4 => repeat(&f32::NAN.to_le_bytes()),
            8 => repeat(&f64::NAN.to_le_bytes()),
            _ => return Err(bad(format!("NaN run of {typesize}-byte elements"))),
        }),
        3 => {
            let value = input.get(EXTENDED..EXTENDED + typesize).ok_or_else(|| bad("run value"))?;
            Some(repeat(value))
        }
        other => return Err(bad(format!("special value {other}"))),
    })
}

/// Blosc2's bit shuffle undone: format version 2 stores a block whose element count is not a
/// multiple of 8 as it is; from version 3 on the whole multiples of 8 elements are shuffled
/// and the remaining elements follow as they are.
fn bitunshuffle_prefix(src: &[u8], typesize: usize, dst: &mut [u8], version: u8) {
    let n = src.len() / typesize;
    if version < 3 {
        return bitunshuffle(src, typesize, dst);
    }
    let whole = (n - n % 8) * typesize;
    bitunshuffle(&src[..whole], typesize, &mut dst[..whole]);
    dst[whole..].copy_from_slice(&src[whole..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Blosc2 header: version 5, `flags` (extended), 4-byte items, `b2flags`.
    fn header(flags: u8, nbytes: u32, blocksize: u32, cbytes: u32, b2flags: u8) -> Vec<u8> {
        let mut h = vec![5, 1, flags | EXTENDED_FLAGS, 4];
        for n in [nbytes, blocksize, cbytes] {
            h.extend_from_slice(&n.to_le_bytes());
        }
        h.resize(EXTENDED, 0);
        h[31] = b2flags;
        h
    }

    #[test]
    fn special_value_chunks() {
        let zeros = header(0, 16, 16, 32, 0x10);
        assert_eq!(blosc2_decompress(&zeros, 16).unwrap(), [0; 16]);
        let nan = header(0, 8, 8, 32, 0x20);
        let got = blosc2_decompress(&nan, 8).unwrap();
        assert!(got.chunks(4).all(|b| f32::from_le_bytes(b.try_into().unwrap()).is_nan()));
        let mut value = header(0, 12, 12, 36, 0x30);
        value.extend_from_slice(&7.5f32.to_le_bytes());
        assert_eq!(blosc2_decompress(&value, 12).unwrap(), 7.5f32.to_le_bytes().repeat(3));
        assert!(blosc2_decompress(&value[..34], 12).is_err()); // the value cut off
        assert!(blosc2_decompress(&header(0, 12, 12, 32, 0x50), 12).is_err()); // reserved
    }

    #[test]
    fn zero_and_repeated_byte_streams_and_the_filters() {
        // one block of 16 bytes, unsplit: a stream of zeros (length 0) ... then 0x2a (-42)
        let mut c = header(DONT_SPLIT, 16, 16, 0, 0);
        c.extend_from_slice(&(EXTENDED as u32 + 4).to_le_bytes());
        c.extend_from_slice(&(-42i32).to_le_bytes());
        c.push(1); // token: a repeated byte
        let n = c.len() as u32;
        c[12..16].copy_from_slice(&n.to_le_bytes());
        assert_eq!(blosc2_decompress(&c, 16).unwrap(), [42; 16]);
        c[EXTENDED + 8] = 2; // another token: refused
        assert!(blosc2_decompress(&c, 16).is_err());
        c[EXTENDED + 8] = 1;
        c[16 + 5] = DELTA; // the delta filter: refused with its name
        let e = blosc2_decompress(&c, 16).unwrap_err().to_string();
        assert!(e.contains("delta"), "{e}");
    }

    #[test]
    fn bit_shuffle_leaves_the_elements_after_whole_bytes_of_bits() {
        // 9 two-byte elements: 8 bit-shuffled, the 9th as it is (format version 3 and later)
        let elems: Vec<u16> = (0..9).map(|i| i * 3 + 1).collect();
        let mut src = vec![0u8; 18];
        for (bit, row) in src[..16].iter_mut().enumerate() {
            for (i, e) in elems[..8].iter().enumerate() {
                *row |= (((e >> bit) & 1) as u8) << i;
            }
        }
        src[16..].copy_from_slice(&elems[8].to_le_bytes());
        let mut dst = vec![0u8; 18];
        bitunshuffle_prefix(&src, 2, &mut dst, 5);
        let want: Vec<u8> = elems.iter().flat_map(|e| e.to_le_bytes()).collect();
        assert_eq!(dst, want);
        bitunshuffle_prefix(&src, 2, &mut dst, 2); // version 2: all as it is
        assert_eq!(dst, src);
    }
}
