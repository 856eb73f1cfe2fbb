//! Raw chunk bytes encoded with an array's declared Zarr codecs (filters, then compressor),
//! built on [`crate::codec`]. Used by the readers (the size of a re-encoded chunk, the fill
//! chunk) and by the chunk path (generated chunks); it lives with the declared codecs so that
//! neither needs the other's layer.

use super::{ArrayNode, Compressor, Filter};
use crate::codec::{deflate, shuffle};

/// Encode raw chunk bytes with the array's declared Zarr codecs (filters, then compressor).
pub fn encode_zarr_chunk(raw: &[u8], array: &ArrayNode) -> Vec<u8> {
    let mut data = raw.to_vec();
    for f in &array.filters {
        data = match f {
            Filter::Shuffle { elementsize } => shuffle(&data, *elementsize),
            // string chunks are built already encoded (source::nc4_strings)
            Filter::VlenUtf8 => data,
        };
    }
    match array.compressor {
        Some(Compressor::Zlib { level }) => deflate(&data, level),
        None => data,
    }
}
