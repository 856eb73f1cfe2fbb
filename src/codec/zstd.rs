//! zstd frames (HDF5 filter 32015, numcodecs `zstd`, Blosc's zstd blocks), pure Rust (ruzstd):
//! decoded bounded by the expected size, and encoded (fill chunks, re-encoded chunks).

use super::CodecError;
use ruzstd::decoding::StreamingDecoder;
use ruzstd::encoding::{compress_to_vec, CompressionLevel};
use std::io::Read;

/// Decode one or more zstd frames expected to give `expected` bytes; more is an error, not an
/// allocation.
pub fn zstd_decompress(input: &[u8], expected: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(expected);
    let mut rest = input;
    while !rest.is_empty() && out.len() <= expected {
        let mut dec =
            StreamingDecoder::new(&mut rest).map_err(|e| CodecError::Zstd(e.to_string()))?;
        let limit = (expected - out.len()) as u64 + 1;
        (&mut dec)
            .take(limit)
            .read_to_end(&mut out)
            .map_err(|e| CodecError::Zstd(e.to_string()))?;
    }
    if out.len() != expected {
        return Err(CodecError::Length { got: out.len(), expected });
    }
    Ok(out)
}

/// A zstd frame of `raw` (ruzstd's fastest level: the served bytes need only decode right)
/// that declares its content size, which numcodecs before 0.16 needs to decode a frame.
pub fn zstd_compress(raw: &[u8]) -> Vec<u8> {
    let frame = compress_to_vec(raw, CompressionLevel::Fastest);
    with_content_size(frame, raw.len() as u64)
}

/// `frame` with an 8-byte Frame_Content_Size field (flag 3) added to its header, when the
/// header has none (ruzstd writes magic, descriptor, window descriptor, no dictionary id).
fn with_content_size(frame: Vec<u8>, size: u64) -> Vec<u8> {
    let Some(&descriptor) = frame.get(4) else { return frame };
    // no content size, not single-segment (a window descriptor follows), no dictionary id
    if descriptor & 0xe3 != 0 || frame.len() < 6 {
        return frame;
    }
    let mut out = Vec::with_capacity(frame.len() + 8);
    out.extend_from_slice(&frame[..4]);
    out.push(descriptor | 0xc0);
    out.push(frame[5]);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&frame[6..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let raw: Vec<u8> = (0..5000u32).map(|i| (i / 13) as u8).collect();
        let z = zstd_compress(&raw);
        assert!(z.len() < raw.len());
        assert_eq!(z[4] >> 6, 3, "the content size is declared");
        assert_eq!(z[6..14], (raw.len() as u64).to_le_bytes());
        assert_eq!(zstd_decompress(&z, raw.len()).unwrap(), raw);
        assert!(zstd_decompress(&z, raw.len() - 1).is_err());
        assert!(zstd_decompress(&z, raw.len() + 1).is_err());
        assert!(zstd_decompress(&z[..z.len() / 2], raw.len()).is_err());
        assert!(zstd_decompress(b"garbage!", raw.len()).is_err());
    }
}
