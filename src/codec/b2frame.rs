//! HDF5's Blosc2 filter (32026, as PyTables and hdf5plugin write it): each HDF5 chunk is a
//! Blosc2 contiguous frame ("cframe") holding one Blosc2 chunk. Read here: the frame's
//! msgpack header (its size, the decoded and stored sizes of its chunks, the chunk size, the
//! metalayers), the offsets chunk after the chunks (a Blosc2 chunk of 64-bit offsets, an
//! offset with its top bit set standing for a chunk of zeros or NaN), chunk 0 decoded by
//! [`super::blosc2`], and, when the frame carries a `b2nd` (or older `caterva`) metalayer
//! (PyTables and hdf5plugin write one for chunks of 2 or more dimensions), the chunk's blocks
//! put back in C order: a b2nd chunk holds its n-dimensional blocks one after the other,
//! each block in C order and padded where the chunk's shape is not a multiple of the
//! block's. Reference: c-blosc2's README_CFRAME_FORMAT, README_B2ND_METALAYER.

use super::blosc2::{blosc2_decompress, blosc2_nbytes};
use super::CodecError;

const MAGIC: &[u8] = b"b2frame\0";
/// Position of the metalayers section in the header.
const METALAYERS: usize = 0x57;
/// b2nd's own limit on dimensions.
const MAX_DIM: usize = 8;

fn bad(what: impl Into<String>) -> CodecError {
    CodecError::Blosc(format!("Blosc2 frame: {}", what.into()))
}

/// Decode an HDF5 Blosc2 chunk (a frame), which must give exactly `expected` bytes.
pub fn blosc2_frame_decompress(input: &[u8], expected: usize) -> Result<Vec<u8>, CodecError> {
    let h = Header::parse(input)?;
    let nd = h.b2nd.as_ref();
    let chunk_bytes = match nd {
        Some(nd) => nd.ext_items().and_then(|n| n.checked_mul(h.typesize)),
        None => Some(expected),
    };
    // blocks pad a chunk by less than a block in each of at most 8 dimensions
    if chunk_bytes.is_none_or(|n| n != h.chunksize || n > expected.saturating_mul(1 << MAX_DIM)) {
        return Err(bad(format!(
            "chunk of {} bytes for a {expected}-byte HDF5 chunk",
            h.chunksize
        )));
    }
    if h.chunksize == 0 || h.nbytes.div_ceil(h.chunksize) != 1 {
        return Err(bad(format!("{} bytes in chunks of {}: not one chunk", h.nbytes, h.chunksize)));
    }
    let decoded = chunk0(input, &h)?;
    let Some(nd) = nd else {
        if decoded.len() != expected {
            return Err(CodecError::Length { got: decoded.len(), expected });
        }
        return Ok(decoded);
    };
    let got = nd.shape.iter().product::<usize>() * h.typesize;
    if got != expected {
        return Err(CodecError::Length { got, expected });
    }
    Ok(nd.unblock(&decoded, h.typesize))
}

/// The frame header's facts this reader needs.
struct Header {
    len: usize,
    nbytes: usize,
    cbytes: usize,
    typesize: usize,
    chunksize: usize,
    b2nd: Option<B2nd>,
}

impl Header {
    fn parse(input: &[u8]) -> Result<Header, CodecError> {
        let h = input.get(..METALAYERS).ok_or_else(|| bad("header cut short"))?;
        if h[0] & 0xf0 != 0x90 || h[1] != 0xa8 || &h[2..10] != MAGIC {
            return Err(bad("no b2frame magic"));
        }
        let mut m = Msgpack { b: input, at: 10 };
        let len = m.uint()?;
        let frame_len = m.uint()?;
        if len > input.len() || len < METALAYERS || frame_len > input.len() || frame_len < len {
            return Err(bad("header or frame longer than the chunk"));
        }
        if h[26] & 0xf != 0 {
            return Err(bad("not a contiguous frame"));
        }
        if (h[25] >> 4) & 3 != 1 {
            return Err(bad("chunk offsets other than 64-bit"));
        }
        let mut m = Msgpack { b: &input[..len], at: 29 };
        let (nbytes, cbytes) = (m.uint()?, m.uint()?);
        let (typesize, _blocksize, chunksize) = (m.uint()?, m.uint()?, m.uint()?);
        if typesize == 0 {
            return Err(bad("type size 0"));
        }
        let b2nd = metalayer(&input[..len])?.map(B2nd::parse).transpose()?;
        Ok(Header { len, nbytes, cbytes, typesize, chunksize, b2nd })
    }
}

/// Chunk 0 of the frame, decoded (its size: the frame's chunk size).
fn chunk0(input: &[u8], h: &Header) -> Result<Vec<u8>, CodecError> {
    let at = h.len.checked_add(h.cbytes).ok_or_else(|| bad("stored size"))?;
    let offsets = input.get(at..).ok_or_else(|| bad("offsets beyond the frame"))?;
    let n = blosc2_nbytes(offsets)?;
    if !(8..=64).contains(&n) {
        return Err(bad(format!("{n} bytes of chunk offsets for one chunk")));
    }
    let offsets = blosc2_decompress(offsets, n)?;
    let offset = i64::from_le_bytes(offsets[..8].try_into().expect("8 bytes"));
    if offset < 0 {
        // a special chunk: the top byte says which
        return match (offset as u64 >> 56) as u8 & 0x7 {
            1 | 4 => Ok(vec![0; h.chunksize]),
            2 if h.typesize == 4 => Ok(f32::NAN.to_le_bytes().repeat(h.chunksize / 4)),
            2 if h.typesize == 8 => Ok(f64::NAN.to_le_bytes().repeat(h.chunksize / 8)),
            other => Err(bad(format!("special chunk {other}"))),
        };
    }
    let start = usize::try_from(offset).ok().and_then(|o| o.checked_add(h.len));
    let chunk = start.and_then(|s| input.get(s..)).ok_or_else(|| bad("chunk beyond the frame"))?;
    blosc2_decompress(chunk, h.chunksize)
}

/// The value of the metalayer `b2nd` (or `caterva`) of a frame header, if it has one.
fn metalayer(header: &[u8]) -> Result<Option<&[u8]>, CodecError> {
    let mut m = Msgpack { b: header, at: METALAYERS };
    if m.byte()? != 0x93 {
        return Err(bad("metalayers section"));
    }
    let _idx = m.uint()?;
    let entries = match m.byte()? {
        0xde => m.be(2)?,
        b @ 0x80..=0x8f => usize::from(b & 0xf),
        _ => return Err(bad("metalayers map")),
    };
    for _ in 0..entries {
        let name = m.str()?;
        let offset = m.uint()?;
        if name == b"b2nd" || name == b"caterva" {
            let mut v = Msgpack { b: header, at: offset };
            if v.byte()? != 0xc6 {
                return Err(bad("metalayer value"));
            }
            let n = v.be(4)?;
            let value =
                header.get(v.at..v.at.saturating_add(n)).ok_or_else(|| bad("metalayer cut"))?;
            return Ok(Some(value));
        }
    }
    Ok(None)
}

/// The b2nd metalayer: the array's shape, its chunks' and its blocks'.
struct B2nd {
    shape: Vec<usize>,
    chunks: Vec<usize>,
    blocks: Vec<usize>,
}

impl B2nd {
    fn parse(value: &[u8]) -> Result<B2nd, CodecError> {
        let mut m = Msgpack { b: value, at: 0 };
        if m.byte()? & 0xf0 != 0x90 {
            return Err(bad("b2nd metalayer"));
        }
        let (_version, ndim) = (m.uint()?, m.uint()?);
        if ndim == 0 || ndim > MAX_DIM {
            return Err(bad(format!("b2nd array of {ndim} dimensions")));
        }
        let list = |m: &mut Msgpack| -> Result<Vec<usize>, CodecError> {
            if m.byte()? != 0x90 | ndim as u8 {
                return Err(bad("b2nd shape list"));
            }
            (0..ndim).map(|_| m.uint()).collect()
        };
        let (shape, chunks, blocks) = (list(&mut m)?, list(&mut m)?, list(&mut m)?);
        let fits = shape.iter().zip(&chunks).all(|(s, c)| s <= c);
        let whole = blocks.iter().zip(&chunks).all(|(b, c)| *b > 0 && b <= c && *c <= 1 << 31);
        if !fits || !whole {
            return Err(bad("b2nd shapes: not one chunk of whole blocks"));
        }
        Ok(B2nd { shape, chunks, blocks })
    }

    /// Items of the chunk extended to whole blocks (what the Blosc2 chunk holds).
    fn ext_items(&self) -> Option<usize> {
        let mut n = 1usize;
        for (c, b) in self.chunks.iter().zip(&self.blocks) {
            n = n.checked_mul(c.div_ceil(*b) * b)?;
        }
        Some(n)
    }

    /// The array's items in C order from the chunk's blocks (each in C order, padded).
    fn unblock(&self, chunk: &[u8], ts: usize) -> Vec<u8> {
        let nd = self.shape.len();
        let grid: Vec<usize> =
            self.chunks.iter().zip(&self.blocks).map(|(c, b)| c.div_ceil(*b)).collect();
        let block_items: usize = self.blocks.iter().product();
        let mut out = vec![0u8; self.shape.iter().product::<usize>() * ts];
        let last = nd - 1;
        let mut bidx = vec![0usize; nd]; // the block's index in the grid
        for block in chunk.chunks_exact(block_items * ts) {
            let origin: Vec<usize> = bidx.iter().zip(&self.blocks).map(|(i, b)| i * b).collect();
            let run = self.blocks[last].min(self.shape[last].saturating_sub(origin[last]));
            // rows of the block: every index but the last
            let mut row = vec![0usize; nd];
            'rows: loop {
                let inside = (0..last).all(|d| origin[d] + row[d] < self.shape[d]);
                if inside && run > 0 {
                    let dst = (0..nd).fold(0, |i, d| i * self.shape[d] + origin[d] + row[d]);
                    let src = (0..nd).fold(0, |i, d| i * self.blocks[d] + row[d]);
                    out[dst * ts..(dst + run) * ts]
                        .copy_from_slice(&block[src * ts..(src + run) * ts]);
                }
                let mut d = last;
                loop {
                    if d == 0 {
                        break 'rows;
                    }
                    d -= 1;
                    row[d] += 1;
                    if row[d] < self.blocks[d] {
                        break;
                    }
                    row[d] = 0;
                }
            }
            for d in (0..nd).rev() {
                bidx[d] += 1;
                if bidx[d] < grid[d] {
                    break;
                }
                bidx[d] = 0;
            }
        }
        out
    }
}

/// The few msgpack items a frame header holds.
struct Msgpack<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Msgpack<'a> {
    fn byte(&mut self) -> Result<u8, CodecError> {
        let v = *self.b.get(self.at).ok_or_else(|| bad("header cut short"))?;
        self.at += 1;
        Ok(v)
    }

    /// A big-endian unsigned integer of `n` bytes.
    fn be(&mut self, n: usize) -> Result<usize, CodecError> {
        let bytes = self.b.get(self.at..self.at + n).ok_or_else(|| bad("header cut short"))?;
        self.at += n;
        let v = bytes.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
        usize::try_from(v).map_err(|_| bad("integer too large"))
    }

    /// A non-negative integer of any msgpack width.
    fn uint(&mut self) -> Result<usize, CodecError> {
        let (n, signed) = match self.byte()? {
            b @ 0..=0x7f => return Ok(usize::from(b)),
            0xcc => (1, false),
            0xcd => (2, false),
            0xce => (4, false),
            0xcf => (8, false),
            0xd0 => (1, true),
            0xd1 => (2, true),
            0xd2 => (4, true),
            0xd3 => (8, true),
            other => return Err(bad(format!("msgpack {other:#x} where an integer belongs"))),
        };
        let v = self.be(n)?;
        if signed && n < 8 && v >> (8 * n - 1) != 0 || signed && n == 8 && v >> 63 != 0 {
            return Err(bad("negative integer"));
        }
        Ok(v)
    }

    fn str(&mut self) -> Result<&'a [u8], CodecError> {
        let n = match self.byte()? {
            b @ 0xa0..=0xbf => usize::from(b & 0x1f),
            0xd9 => self.be(1)?,
            _ => return Err(bad("msgpack string")),
        };
        let s = self.b.get(self.at..self.at + n).ok_or_else(|| bad("header cut short"))?;
        self.at += n;
        Ok(s)
    }
}
