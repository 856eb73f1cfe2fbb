//! zlib (HDF5's deflate filter, Zarr's `zlib` compressor): inflate bounded by the expected
//! size, inflate straight into a buffer it must fill exactly, and deflate.

use super::CodecError;
use flate2::read::{ZlibDecoder, ZlibEncoder};
use flate2::{Compression, Decompress, FlushDecompress, Status};
use std::io::Read;

/// Inflate a zlib stream expected to give about `size_hint` bytes; a stream that would give
/// far more (a corrupt or hostile chunk) is an error, not an allocation.
pub(super) fn inflate(data: &[u8], size_hint: usize) -> Result<Vec<u8>, CodecError> {
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
pub(super) fn inflate_into(data: &[u8], dst: &mut [u8]) -> Result<(), CodecError> {
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

/// Compress `data` as a zlib stream at `level` (at most 9).
pub fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut out = Vec::new();
    // Reading from an in-memory slice through the encoder cannot fail.
    let _ = ZlibEncoder::new(data, Compression::new(level.min(9))).read_to_end(&mut out);
    out
}
