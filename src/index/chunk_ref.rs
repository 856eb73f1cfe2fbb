//! Where the bytes of one Zarr chunk come from.

use serde::{Deserialize, Serialize};

/// The recipe for the bytes of one chunk file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChunkRef {
    /// Pass-through: `len` bytes of the source file at `offset`, served as they are.
    Range { offset: u64, len: u64 },
    /// `len` bytes of the source at `offset`, then the array's fill element repeated up to `size`
    /// (the last, partial chunk of a contiguous variable).
    Padded { offset: u64, len: u64, size: u64 },
    /// `count` pieces of `len` bytes, `stride` apart from `offset` (records of a NetCDF-3
    /// record variable), then the fill element up to `size`.
    Strided { offset: u64, stride: u64, len: u64, count: u64, size: u64 },
    /// A stored chunk some of whose filters were skipped (`mask`): decoded and re-encoded with the
    /// array's declared codecs. `size` is the exact length of the re-encoded bytes.
    Reencode { offset: u64, len: u64, mask: u32, size: u64 },
    /// Decoded mode: `parts` source chunks stacked along the first dimension, each decoded to
    /// `part` bytes (`None`: the fill value), so that readers see fewer, larger chunks.
    Merged { parts: Vec<Option<ChunkRef>>, part: u64, size: u64 },
    /// Bytes held in the index (compact datasets: small by definition).
    Inline { bytes: Vec<u8> },
    /// Decoded by libhdf5 (a filter without a Zarr codec, e.g. szip), served uncompressed.
    Library { size: u64 },
    /// The array's `fill_chunk` (an unwritten chunk whose fill the Zarr metadata cannot express).
    Fill { size: u64 },
    /// Assembled from the members' chunks it covers (`ArrayNode::joined`), served
    /// uncompressed: a collection's variable whose members' chunks cannot pass through.
    Joined { size: u64 },
    /// Cut from the stored compound chunk at the same place (`ArrayNode::compound`), served
    /// uncompressed.
    Compound { size: u64 },
    /// `--unpack`: the packed chunk at the same position of `ArrayNode::unpacking`'s packed
    /// array, unpacked into floats (served uncompressed).
    Unpacked { size: u64 },
}

impl ChunkRef {
    /// Exact size of the chunk file in bytes.
    pub fn size(&self) -> u64 {
        match self {
            ChunkRef::Range { len, .. } => *len,
            ChunkRef::Padded { size, .. }
            | ChunkRef::Reencode { size, .. }
            | ChunkRef::Strided { size, .. }
            | ChunkRef::Merged { size, .. } => *size,
            ChunkRef::Inline { bytes } => bytes.len() as u64,
            ChunkRef::Fill { size }
            | ChunkRef::Library { size }
            | ChunkRef::Joined { size }
            | ChunkRef::Compound { size }
            | ChunkRef::Unpacked { size } => *size,
        }
    }

    /// True when the bytes come straight from the source file without any work.
    pub fn is_pass_through(&self) -> bool {
        matches!(self, ChunkRef::Range { .. } | ChunkRef::Padded { .. } | ChunkRef::Strided { .. })
    }
}
