//! HDF5's Fletcher-32 checksum (filter 3): the 4-byte trailer a stored chunk carries.

use super::CodecError;

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
pub(super) fn verify_fletcher32(data: &[u8]) -> Result<(), CodecError> {
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
