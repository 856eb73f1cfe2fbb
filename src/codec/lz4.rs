//! HDF5's LZ4 filter (32004), decoded in Rust. Its chunks are not numcodecs' `LZ4` (which
//! prefixes one block with its little-endian size): a big-endian header (the decoded size as
//! u64, the block size as u32), then per block its compressed size (u32, big-endian) and
//! the LZ4 block, stored as it is when that size equals the block's.

use super::CodecError;

/// Decode an HDF5 LZ4 chunk, which must give exactly `expected` bytes.
pub fn hdf5_lz4_decompress(input: &[u8], expected: usize) -> Result<Vec<u8>, CodecError> {
    let bad = |what: &'static str| CodecError::Lz4(what);
    let head = input.get(..12).ok_or(bad("header cut short"))?;
    let total = u64::from_be_bytes(head[..8].try_into().unwrap_or_default());
    let block = u32::from_be_bytes(head[8..12].try_into().unwrap_or_default()) as usize;
    if total != expected as u64 {
        return Err(CodecError::Length { got: total as usize, expected });
    }
    if block == 0 && expected > 0 {
        return Err(bad("block size 0"));
    }
    let mut out = vec![0u8; expected];
    let (mut at, mut done) = (12usize, 0usize);
    while done < expected {
        let size = block.min(expected - done);
        let len = input.get(at..at + 4).ok_or(bad("block header cut short"))?;
        let len = u32::from_be_bytes(len.try_into().unwrap_or_default()) as usize;
        at += 4;
        let stored = input.get(at..at.saturating_add(len)).ok_or(bad("block cut short"))?;
        let dst = &mut out[done..done + size];
        if len == size {
            dst.copy_from_slice(stored);
        } else {
            let n = lz4_flex::block::decompress_into(stored, dst).map_err(|_| bad("bad block"))?;
            if n != size {
                return Err(bad("block decodes to the wrong size"));
            }
        }
        at += len;
        done += size;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk in HDF5's framing, blocks of `block` bytes (compressed unless that is longer).
    pub fn frame(raw: &[u8], block: usize) -> Vec<u8> {
        let mut out = (raw.len() as u64).to_be_bytes().to_vec();
        out.extend_from_slice(&(block as u32).to_be_bytes());
        for b in raw.chunks(block) {
            let c = lz4_flex::block::compress(b);
            let body = if c.len() < b.len() { c } else { b.to_vec() };
            out.extend_from_slice(&(body.len() as u32).to_be_bytes());
            out.extend_from_slice(&body);
        }
        out
    }

    #[test]
    fn decodes_compressed_and_stored_blocks() {
        let mut raw: Vec<u8> = (0..3000u32).map(|i| (i / 7) as u8).collect();
        raw.extend((0..100u32).map(|i| (i * 7919 % 251) as u8)); // an incompressible tail
        for block in [64, 1000, 4096] {
            assert_eq!(hdf5_lz4_decompress(&frame(&raw, block), raw.len()).unwrap(), raw);
        }
        let f = frame(&raw, 1000);
        assert!(hdf5_lz4_decompress(&f, raw.len() + 1).is_err());
        assert!(hdf5_lz4_decompress(&f[..f.len() - 3], raw.len()).is_err());
        assert!(hdf5_lz4_decompress(&f[..7], raw.len()).is_err());
    }
}
