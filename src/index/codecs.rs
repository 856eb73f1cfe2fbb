//! The filters the served chunk bytes of an array carry: what a Zarr version declares as its
//! codecs (v2: filters and compressor; v3: the bytes-to-bytes codecs).

use crate::codec::{deflate, shuffle};
use serde::{Deserialize, Serialize};

/// One filter of the served chunks, in pipeline (write) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Codec {
    /// HDF5's byte shuffle (numcodecs `shuffle`) of `elementsize`-byte elements.
    Shuffle { elementsize: usize },
    /// zlib stream (HDF5 deflate, numcodecs `zlib`).
    Deflate { level: u32 },
}

/// Encode raw chunk bytes with `codecs`, in order.
pub fn encode(raw: &[u8], codecs: &[Codec]) -> Vec<u8> {
    let mut data = raw.to_vec();
    for c in codecs {
        data = match c {
            Codec::Shuffle { elementsize } => shuffle(&data, *elementsize),
            Codec::Deflate { level } => deflate(&data, *level),
        };
    }
    data
}
