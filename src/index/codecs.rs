//! The filters the served chunk bytes of an array carry: what a Zarr version declares as its
//! codecs (v2: filters and compressor; v3: the bytes-to-bytes codecs).

use crate::codec::{blosc_lz4, bzip2_compress, deflate, shuffle, zstd_compress};
use serde::{Deserialize, Serialize};

/// One filter of the served chunks, in pipeline (write) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Codec {
    /// HDF5's byte shuffle (numcodecs `shuffle`) of `elementsize`-byte elements.
    Shuffle { elementsize: usize },
    /// zlib stream (HDF5 deflate, numcodecs `zlib`).
    Deflate { level: u32 },
    /// A Blosc 1 chunk (HDF5 filter 32001, numcodecs `blosc`). The chunk's own header says
    /// how it was compressed; these are the writer's settings, as the filter recorded them.
    Blosc { cname: BloscName, clevel: u32, shuffle: BloscShuffle, typesize: usize },
    /// A zstd frame (HDF5 filter 32015, numcodecs `zstd`).
    Zstd { level: i32 },
    /// A bzip2 stream (HDF5 filter 307, numcodecs `bz2`).
    Bzip2 { level: u32 },
}

/// The codec a Blosc writer was set to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BloscName {
    BloscLz,
    Lz4,
    Lz4Hc,
    Snappy,
    Zlib,
    Zstd,
}

impl BloscName {
    /// The name Blosc (and numcodecs' and Zarr v3's `cname`) gives it.
    pub fn name(self) -> &'static str {
        match self {
            BloscName::BloscLz => "blosclz",
            BloscName::Lz4 => "lz4",
            BloscName::Lz4Hc => "lz4hc",
            BloscName::Snappy => "snappy",
            BloscName::Zlib => "zlib",
            BloscName::Zstd => "zstd",
        }
    }

    /// From the HDF5 Blosc filter's compressor code (c-blosc's BLOSC_BLOSCLZ = 0, ...).
    pub fn from_code(code: u32) -> Option<BloscName> {
        use BloscName::*;
        [BloscLz, Lz4, Lz4Hc, Snappy, Zlib, Zstd].get(code as usize).copied()
    }
}

/// The shuffle a Blosc writer applied inside its chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BloscShuffle {
    None,
    Byte,
    Bit,
}

impl Codec {
    /// True for the codec that compresses (Zarr v2's `compressor`), false for a filter.
    pub fn is_compressor(&self) -> bool {
        !matches!(self, Codec::Shuffle { .. })
    }
}

/// Encode raw chunk bytes with `codecs`, in order. Blosc chunks are written with LZ4 blocks
/// whatever the writer used (every Blosc reader decodes them): only fill chunks and the rare
/// chunk whose filters were skipped are encoded here.
pub fn encode(raw: &[u8], codecs: &[Codec]) -> Vec<u8> {
    let mut data = raw.to_vec();
    for c in codecs {
        data = match c {
            Codec::Shuffle { elementsize } => shuffle(&data, *elementsize),
            Codec::Deflate { level } => deflate(&data, *level),
            Codec::Blosc { typesize, .. } => blosc_lz4(&data, *typesize),
            Codec::Zstd { .. } => zstd_compress(&data),
            Codec::Bzip2 { level } => bzip2_compress(&data, *level),
        };
    }
    data
}
