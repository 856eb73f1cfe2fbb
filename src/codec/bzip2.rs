//! bzip2 streams (HDF5 filter 307 as PyTables, hdf5plugin and netCDF-C write it; numcodecs
//! `bz2`), pure Rust (the bzip2 crate over libbz2-rs-sys): decoded bounded by the expected
//! size, and encoded (fill chunks, re-encoded chunks).

use super::CodecError;
use bzip2::read::{BzDecoder, BzEncoder};
use bzip2::Compression;
use std::io::Read;

/// Decode a bzip2 stream expected to give `expected` bytes; more is an error, not an
/// allocation.
pub fn bzip2_decompress(input: &[u8], expected: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(expected);
    BzDecoder::new(input)
        .take(expected as u64 + 1)
        .read_to_end(&mut out)
        .map_err(CodecError::Bzip2)?;
    if out.len() != expected {
        return Err(CodecError::Length { got: out.len(), expected });
    }
    Ok(out)
}

/// A bzip2 stream of `raw` at `level` (1..=9).
pub fn bzip2_compress(raw: &[u8], level: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let level = Compression::new(level.clamp(1, 9));
    // reading from a slice into a Vec cannot fail
    let _ = BzEncoder::new(raw, level).read_to_end(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let raw: Vec<u8> = (0..5000u32).map(|i| (i / 13) as u8).collect();
        let z = bzip2_compress(&raw, 9);
        assert_eq!(bzip2_decompress(&z, raw.len()).unwrap(), raw);
        assert!(bzip2_decompress(&z, raw.len() - 1).is_err());
        assert!(bzip2_decompress(&z[..z.len() / 2], raw.len()).is_err());
        assert!(bzip2_decompress(b"BZh9garbage", raw.len()).is_err());
    }
}
