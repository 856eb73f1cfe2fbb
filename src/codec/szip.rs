//! HDF5's szip filter (id 4) decoded in Rust: its framing (the decoded length as a 4-byte
//! little-endian number before the stream), its four cd_values, and what libaec's szip
//! compatibility layer does around the entropy decoder ([`super::aec`]): scanlines padded to
//! whole blocks, and 32- and 64-bit pixels coded as bytes, one byte plane after another.

use super::aec::{aec_decode, AecError, AecParams};
use super::shuffle::unshuffle_into;
use super::CodecError;
use serde::{Deserialize, Serialize};

/// szip's option bits (H5_SZIP_*_OPTION_MASK): only these two change the decoding; the
/// others (EC, LSB, RAW, CHIP, K13) are implied or ignored by libaec.
const MSB_OPTION_MASK: u32 = 16;
const NN_OPTION_MASK: u32 = 32;

/// The cd_values HDF5 stores for an szip filter: options mask, pixels per block, bits per
/// pixel, pixels per scanline (H5Zszip.c's `H5Z_SZIP_PARM_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SzipParams {
    pub mask: u32,
    pub bits_per_pixel: u32,
    pub pixels_per_block: u32,
    pub pixels_per_scanline: u32,
}

impl SzipParams {
    /// The parameters of a stored szip filter, or why they are not decoded in Rust (the
    /// caller leaves such chunks to libhdf5).
    pub fn from_cd_values(cd: &[u32]) -> Result<SzipParams, &'static str> {
        let [mask, pixels_per_block, bits_per_pixel, pixels_per_scanline] = match cd {
            [a, b, c, d, ..] => [*a, *b, *c, *d],
            _ => return Err("fewer than 4 szip parameters"),
        };
        let p = SzipParams { mask, bits_per_pixel, pixels_per_block, pixels_per_scanline };
        p.aec().map(|_| p)
    }

    /// 32- and 64-bit pixels are coded as bytes, one byte plane after another.
    fn planes(&self) -> Option<usize> {
        matches!(self.bits_per_pixel, 32 | 64).then_some(self.bits_per_pixel as usize / 8)
    }

    fn aec(&self) -> Result<AecParams, &'static str> {
        let bits_per_sample = match self.bits_per_pixel {
            32 | 64 => 8,
            // libaec stores these in 4 bytes (sz_compat has no 3-byte option), which only
            // HDF5's 3-byte types would use: left to libhdf5, whatever it makes of them
            17..=24 => return Err("pixels of 17–24 bits"),
            b @ (1..=16 | 25..=31) => b,
            _ => return Err("bits per pixel outside 1–32 and 64"),
        };
        if !matches!(self.pixels_per_block, 8 | 16 | 32) {
            return Err("pixels per block other than 8, 16 or 32");
        }
        let (ppb, pps) = (self.pixels_per_block as usize, self.pixels_per_scanline as usize);
        if pps == 0 || pps > 1 << 16 {
            return Err("pixels per scanline outside 1–65536");
        }
        Ok(AecParams {
            bits_per_sample,
            block_size: ppb,
            rsi: pps.div_ceil(ppb),
            msb: self.mask & MSB_OPTION_MASK != 0,
            preprocess: self.mask & NN_OPTION_MASK != 0,
        })
    }
}

/// Decode an HDF5 szip chunk of `dst.len()` bytes into `dst`.
pub fn hdf5_szip_decompress_into(
    stored: &[u8],
    p: &SzipParams,
    dst: &mut [u8],
) -> Result<(), CodecError> {
    let expected = dst.len();
    let szip = |what: String| CodecError::Szip(what);
    let (head, stream) = stored
        .split_first_chunk::<4>()
        .ok_or_else(|| szip(format!("chunk of {} bytes has no length", stored.len())))?;
    let declared = u32::from_le_bytes(*head) as usize;
    if declared != expected {
        return Err(szip(format!("chunk declares {declared} bytes, expected {expected}")));
    }
    let aec = p.aec().map_err(|e| szip(e.to_string()))?;
    let keep = p.pixels_per_scanline as usize; // each scanline padded to whole blocks
    let failed = |e: AecError| szip(e.to_string());
    match p.planes() {
        None => aec_decode(stream, &aec, keep, dst).map_err(failed),
        Some(width) => {
            if !expected.is_multiple_of(width) {
                return Err(szip(format!("{expected} bytes are not whole {width}-byte pixels")));
            }
            let mut planes = vec![0u8; expected];
            aec_decode(stream, &aec, keep, &mut planes).map_err(failed)?;
            unshuffle_into(&planes, width, dst);
            Ok(())
        }
    }
}

/// [`hdf5_szip_decompress_into`] a new buffer of `expected` bytes.
pub fn hdf5_szip_decompress(
    stored: &[u8],
    p: &SzipParams,
    expected: usize,
) -> Result<Vec<u8>, CodecError> {
    let mut out = vec![0u8; expected];
    hdf5_szip_decompress_into(stored, p, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_hdf5_writes_are_taken_others_left_to_libhdf5() {
        // [mask, pixels per block, bits per pixel, pixels per scanline] as HDF5 stores them
        for cd in [[169, 8, 32, 50], [149, 16, 64, 39], [141, 32, 8, 300], [177, 8, 16, 9]] {
            assert!(SzipParams::from_cd_values(&cd).is_ok(), "{cd:?}");
        }
        let p = SzipParams::from_cd_values(&[177, 8, 16, 9]).unwrap();
        let aec = p.aec().unwrap();
        assert!(aec.msb && aec.preprocess && aec.rsi == 2 && aec.bits_per_sample == 16);
        let refused: [&[u32]; 7] = [
            &[169, 4, 16, 20],      // 4 pixels per block
            &[169, 8, 24, 20],      // 3-byte pixels
            &[169, 8, 48, 20],      // not a width HDF5 writes
            &[169, 8, 0, 20],       // no bits
            &[169, 8, 32, 0],       // no scanline
            &[169, 8, 32, 1 << 17], // a scanline past HDF5's (and any sane) limit
            &[169, 8, 32],          // too few values
        ];
        for cd in refused {
            assert!(SzipParams::from_cd_values(cd).is_err(), "{cd:?}");
        }
    }

    #[test]
    fn the_length_prefix_must_be_the_chunk_size() {
        let p = SzipParams::from_cd_values(&[141, 8, 8, 8]).unwrap();
        // an uncompressed block of 8 one-byte pixels (identifier 7 in 3 bits)
        let mut stored = 8u32.to_le_bytes().to_vec();
        let bits: Vec<u8> = (1..=8).collect();
        let mut acc = 7u128;
        for b in &bits {
            acc = (acc << 8) | u128::from(*b);
        }
        acc <<= 5; // 67 bits, padded to 9 bytes
        stored.extend_from_slice(&acc.to_be_bytes()[7..]);
        assert_eq!(hdf5_szip_decompress(&stored, &p, 8).unwrap(), bits);
        assert!(hdf5_szip_decompress(&stored, &p, 16).is_err());
        assert!(hdf5_szip_decompress(&stored[..3], &p, 8).is_err());
    }
}
