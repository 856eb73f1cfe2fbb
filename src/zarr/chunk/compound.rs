//! Chunks of compound variables' arrays (`ChunkRef::Compound`): the stored compound chunk at
//! the same place is read as any chunk of its kind would be (a `pread`, decoded in Rust, or
//! decoded by libhdf5 in a worker), cropped to the served chunk, and the members cut out
//! (`index::Compound::extract`). The decoded stored chunk is cached under a key of its own,
//! shared by every array of the compound (a reader of all k members decodes each stored
//! chunk once, not k times); the cut chunk is cached like every generated chunk. The two are
//! made one after the other, never one inside the other (each holds a share of the budget
//! of chunks being made while it is made).

use super::cache::Chunk;
use super::{decode_stored, read_chunk, ChunkError, ChunkSource};
use crate::index::{ArrayNode, ChunkRef, SourceFilter};

/// The served bytes of the compound array `array`'s chunk (`size` bytes) that `src.key` names.
pub(super) fn compound_chunk(
    src: &ChunkSource<'_>,
    array: &ArrayNode,
    size: u64,
) -> Result<Chunk, ChunkError> {
    let compound = array.compound.as_deref().ok_or(ChunkError::NotCompound)?;
    let stored = &compound.stored;
    let pos = src.key.2;
    // the stored chunk's key: the dataset's generation, a number no served array has (arrays
    // are numbered from 0), the chunk's place
    let stored_key = (src.key.0, usize::MAX - compound.id as usize, pos);
    let raw = src
        .cache
        .get_or_try(stored_key, stored.chunk_nbytes(), |_| stored_raw(src, stored, pos))
        .map_err(ChunkError::Shared)?;
    let cut = |_: &mut super::inflight::Permit<'_>| -> Result<Vec<u8>, ChunkError> {
        let bytes = cut(array, compound, &raw);
        if bytes.len() as u64 != size {
            return Err(ChunkError::SizeChanged { got: bytes.len() as u64, expected: size });
        }
        Ok(bytes)
    };
    src.cache.get_or_try(src.key, size, cut).map_err(ChunkError::Shared)
}

/// The served bytes of `array` from the decoded stored chunk `raw`.
fn cut(array: &ArrayNode, compound: &crate::index::Compound, raw: &[u8]) -> Vec<u8> {
    let stored = &compound.stored;
    // the stored chunk may be larger than the array; the served one never is
    let served: Vec<u64> = array.chunks[..stored.chunks.len()].to_vec();
    if served == stored.chunks {
        compound.extract(raw)
    } else {
        let es = stored.element_size() as u64;
        compound.extract(&crate::zarr::crop::crop(raw, &stored.chunks, &served, es))
    }
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
