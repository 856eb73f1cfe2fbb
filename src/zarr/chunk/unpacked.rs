//! Chunks of `--unpack` ([`ChunkRef::Unpacked`]): the packed chunk at the same position of
//! the array's packed twin, made whole without the cache (the unpacked chunk is what is
//! cached), then unpacked (`zarr::unpack`).

use super::inflight::Permit;
use super::merged::merged;
use super::{read_chunk, reencode, ChunkError, ChunkSource};
use crate::index::{ArrayNode, ChunkRef};

/// The unpacked bytes (`size` of them) of the chunk `src` reads of `array`.
pub(super) fn make(
    src: &ChunkSource<'_>,
    array: &ArrayNode,
    size: u64,
    room: &mut Permit<'_>,
) -> Result<Vec<u8>, ChunkError> {
    let u = array.unpacking.as_deref().ok_or(ChunkError::NotUnpacked)?;
    let bytes = crate::zarr::unpack::unpacked(u, &packed_chunk(src, &u.packed, room)?);
    if bytes.len() as u64 != size {
        return Err(ChunkError::SizeChanged { got: bytes.len() as u64, expected: size });
    }
    Ok(bytes)
}

/// The whole chunk of `packed` (an unpacked array's packed twin) at the position being read.
fn packed_chunk(
    src: &ChunkSource<'_>,
    packed: &ArrayNode,
    room: &mut Permit<'_>,
) -> Result<Vec<u8>, ChunkError> {
    let pos = src.key.2;
    let Some(Some(chunk)) = packed.chunk_refs.get(pos) else {
        // no chunk file: the fill element throughout
        return Ok(packed.fill_element.repeat(packed.chunks.iter().product::<u64>() as usize));
    };
    match chunk {
        ChunkRef::Merged { parts, part, size } => {
            merged(src.file, packed, parts, *part, *size, room)
        }
        ChunkRef::Reencode { offset, len, mask, size } => {
            reencode(src.file, packed, *offset, *len, *mask, *size)
        }
        ChunkRef::Library { .. } => {
            let lib = src.library.ok_or(ChunkError::NoLibraryReader)?;
            Ok(lib.read(packed, &packed.chunk_coords(pos as u64))?)
        }
        ChunkRef::Joined { .. } => src.joined.ok_or(ChunkError::NoAssembler)?.assemble(packed, pos),
        ChunkRef::Unpacked { .. } => Err(ChunkError::NotUnpacked),
        // read without the cache: the bytes of the source, or held in the index
        other => Ok(read_chunk(src, packed, other, 0, other.size() as usize)?.into_vec()),
    }
}
