//! Chunks of compound variables' arrays (`ChunkRef::Compound`): the stored compound chunk at
//! the same place is read as any chunk of its kind would be (a `pread`, decoded in Rust, or
//! decoded by libhdf5 in a worker), cropped to the served chunk, and the members cut out
//! (`index::Compound::extract`). The result is cached like every generated chunk; each array
//! of one compound decodes the stored chunk itself.

use super::{decode_stored, read_chunk, ChunkError, ChunkSource};
use crate::index::{ArrayNode, ChunkRef, SourceFilter};

/// The served bytes of chunk `pos` of the compound array `array`.
pub(super) fn compound_chunk(
    src: &ChunkSource<'_>,
    array: &ArrayNode,
    pos: usize,
) -> Result<Vec<u8>, ChunkError> {
    let compound = array.compound.as_deref().ok_or(ChunkError::NotCompound)?;
    let stored = &compound.stored;
    let raw = stored_raw(src, stored, pos)?;
    // the stored chunk may be larger than the array; the served one never is
    let served: Vec<u64> = array.chunks[..stored.chunks.len()].to_vec();
    let raw = if served == stored.chunks {
        raw
    } else {
        let es = stored.element_size() as u64;
        crate::zarr::crop::crop(&raw, &stored.chunks, &served, es)
    };
    Ok(compound.extract(&raw))
}

/// The raw (uncompressed) bytes of the stored chunk `pos` of `stored`: one full chunk of
/// stored compound elements.
fn stored_raw(
    src: &ChunkSource<'_>,
    stored: &ArrayNode,
    pos: usize,
) -> Result<Vec<u8>, ChunkError> {
    let nbytes = stored.chunk_nbytes() as usize;
    let elements = stored.chunks.iter().product::<u64>() as usize;
    let trailer = if stored.source_filters.contains(&SourceFilter::Fletcher32) { 4 } else { 0 };
    let chunk = stored.chunk_refs.get(pos).cloned().flatten();
    let raw = match chunk {
        None | Some(ChunkRef::Fill { .. }) => stored.fill_element.repeat(elements),
        Some(ChunkRef::Range { offset, len }) if !stored.codecs.is_empty() => {
            decode_stored(src.file, stored, offset, len + trailer, 0, nbytes)?
        }
        Some(ChunkRef::Reencode { offset, len, mask, .. }) => {
            decode_stored(src.file, stored, offset, len, mask, nbytes)?
        }
        Some(ChunkRef::Library { .. }) => {
            let lib = src.library.ok_or(ChunkError::NoLibraryReader)?;
            lib.read(stored, &stored.chunk_coords(pos as u64))?
        }
        Some(
            c @ (ChunkRef::Range { .. }
            | ChunkRef::Padded { .. }
            | ChunkRef::Strided { .. }
            | ChunkRef::Inline { .. }),
        ) => read_chunk(src, stored, &c, 0, c.size() as usize)?.into_vec(),
        Some(other) => return Err(ChunkError::CannotMerge(Box::new(other))),
    };
    if raw.len() != nbytes {
        return Err(ChunkError::SizeChanged { got: raw.len() as u64, expected: nbytes as u64 });
    }
    Ok(raw)
}
