//! The HDF5 filters the daemon runs itself, one per file (deflate, shuffle, fletcher32, LZF),
//! and the undoing of a stored HDF5 filter pipeline ([`pipeline`]). The bottom layer of the
//! chunk path: nothing here knows the index, the source readers or Zarr (whose encoding,
//! `encode_zarr_chunk`, is built on these filters one layer up).

pub mod deflate;
pub mod fletcher32;
pub mod lzf;
pub mod pipeline;
pub mod shuffle;

pub use deflate::deflate;
pub use fletcher32::fletcher32;
pub use lzf::lzf_decompress;
pub use pipeline::{decode_hdf5_chunk, decode_hdf5_chunk_into, SourceFilter};
pub use shuffle::{shuffle, unshuffle};

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
    #[error("fletcher32 checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum { stored: u32, computed: u32 },
}
