//! The HDF5 filters the daemon runs itself, one per file (deflate, shuffle, fletcher32, LZF,
//! Blosc with its BloscLZ and bit shuffle, Blosc2 chunks and frames, zstd, bzip2, HDF5's LZ4 framing,
//! szip over a CCSDS 121.0-B entropy decoder), the CRC-32C
//! checksum of Zarr v3 shard indexes, and the undoing of a stored HDF5 filter pipeline ([`pipeline`]). The bottom layer of the
//! chunk path: nothing here knows the index, the source readers or Zarr (whose encoding,
//! `encode_zarr_chunk`, is built on these filters one layer up).

pub mod aec;
pub mod b2frame;
pub mod bitshuffle;
pub mod blosc;
pub mod blosc2;
pub mod blosclz;
pub mod bzip2;
pub mod crc32c;
pub mod deflate;
pub mod fletcher32;
pub mod lz4;
pub mod lzf;
pub mod pipeline;
pub mod shuffle;
pub mod szip;
pub mod zstd;

pub use b2frame::blosc2_frame_decompress;
pub use blosc::{blosc_decompress, blosc_lz4};
pub use bzip2::{bzip2_compress, bzip2_decompress};
pub use crc32c::crc32c;
pub use deflate::deflate;
pub use fletcher32::fletcher32;
pub use lz4::hdf5_lz4_decompress;
pub use lzf::lzf_decompress;
pub use pipeline::{decode_hdf5_chunk, decode_hdf5_chunk_into, SourceFilter};
pub use shuffle::{shuffle, unshuffle};
pub use szip::{hdf5_szip_decompress, SzipParams};
pub use zstd::{zstd_compress, zstd_decompress};

/// A chunk could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("zlib stream is corrupt: {0}")]
    Inflate(std::io::Error),
    #[error("decoded chunk has {got} bytes, expected {expected}")]
    Length { got: usize, expected: usize },
    #[error("decoded chunk is longer than the expected {expected} bytes")]
    TooLong { expected: usize },
    #[error("fletcher32 trailer missing: chunk of {0} bytes")]
    Trailer(usize),
    #[error("lzf stream is corrupt at byte {0}")]
    Lzf(usize),
    #[error("HDF5 LZ4 chunk is corrupt: {0}")]
    Lz4(&'static str),
    #[error("zstd frame is corrupt: {0}")]
    Zstd(String),
    #[error("bzip2 stream is corrupt: {0}")]
    Bzip2(std::io::Error),
    #[error("Blosc chunk is corrupt or unsupported: {0}")]
    Blosc(String),
    #[error("szip chunk is corrupt or unsupported: {0}")]
    Szip(String),
    #[error("fletcher32 checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum { stored: u32, computed: u32 },
}
