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
            b @ 1..=31 => b,
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
