//! Stacked chunks of decoded mode (`ChunkRef::Merged`): their parts decoded on several
//! threads straight into one buffer, or, for a read that starts inside a stacked chunk
//! neither cached nor being made, only the parts the read covers, each cached as a part.

use super::cache::Chunk;
use super::inflight::Permit;
use super::{cropped, pread_into, within, Bytes, ChunkError, ChunkSource};
use crate::codec;
use crate::index::{ArrayNode, ChunkRef};
use std::fs::File;
use std::sync::OnceLock;

/// `want` bytes at `offset` of a stacked chunk of parts of `part` bytes, from the parts they
/// cover, each decoded alone and cached as a part.
pub(super) fn read_parts(
    src: &ChunkSource<'_>,
    array: &ArrayNode,
    parts: &[Option<ChunkRef>],
    part: u64,
    offset: u64,
    want: usize,
) -> Result<Bytes, ChunkError> {
    let end = offset + want as u64;
    let (first, last) = (offset / part, end.saturating_sub(1) / part);
    let one = |i: u64| -> Result<Chunk, ChunkError> {
        let p = usize::try_from(i)
            .ok()
            .and_then(|i| parts.get(i))
            .ok_or(ChunkError::SizeChanged { got: parts.len() as u64 * part, expected: end })?;
        let make = |room: &mut Permit<'_>| -> Result<Vec<u8>, ChunkError> {
            // every byte is written (or the part fails): a spare's old bytes never show
            let mut out = room.buffer(part as usize);
            decode_parts(src.file, array, std::slice::from_ref(p), part as usize, &mut out)?;
            crate::telemetry::stats::STATS.part_made();
            Ok(out)
        };
        // (a part's index is below the parts' count, far below u32::MAX)
        let index = u32::try_from(i).unwrap_or(u32::MAX - 1);
        src.cache.part_or_try(src.key, index, part, make).map_err(ChunkError::Shared)
    };
    if first == last {
        return Ok(Bytes::window(one(first)?, offset - first * part, want));
    }
    let mut out = Vec::with_capacity(want);
    for i in first..=last {
        let bytes = one(i)?;
        let from = offset.saturating_sub(i * part);
        out.extend_from_slice(&bytes[within(bytes.len(), from, (end - i * part - from) as usize)]);
    }
    Ok(Bytes::Owned(out))
}

/// Decode the parts of a merged chunk into one buffer, groups of consecutive parts on
/// several threads: a reader waiting for the chunk's first bytes waits for its share only.
/// The chunk is the first `size` bytes (it ends with the array when it holds all of it).
pub(super) fn merged(
    file: &File,
    array: &ArrayNode,
    parts: &[Option<ChunkRef>],
    part: u64,
    size: u64,
    room: &mut Permit<'_>,
) -> Result<Vec<u8>, ChunkError> {
    let mut out = merged_parts(file, array, parts, part, room)?;
    out.truncate(size as usize);
    Ok(out)
}

fn merged_parts(
    file: &File,
    array: &ArrayNode,
    parts: &[Option<ChunkRef>],
    part: u64,
    room: &mut Permit<'_>,
) -> Result<Vec<u8>, ChunkError> {
    let part = part as usize;
    // every byte is written below (or the chunk fails): a spare's old bytes never show
    let mut out = room.buffer(parts.len() * part);
    if part == 0 || parts.is_empty() {
        return Ok(out);
    }
    let per = parts.len().div_ceil(decode_threads().min(parts.len()));
    std::thread::scope(|s| {
        let mut groups = out.chunks_mut(per * part).zip(parts.chunks(per));
        let first = groups.next();
        let others: Vec<_> = groups
            .map(|(dst, group)| s.spawn(move || decode_parts(file, array, group, part, dst)))
            .collect();
        let mine = first.map_or(Ok(()), |(dst, group)| decode_parts(file, array, group, part, dst));
        others.into_iter().fold(mine, |acc, h| {
            let theirs = h.join().unwrap_or_else(|_| Err(ChunkError::DecoderPanicked));
            acc.and(theirs)
        })
    })?;
    Ok(out)
}

/// Threads a merged chunk is decoded on: the CPUs, at most 4.
fn decode_threads() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(4))
}

/// Decode `parts` (each `part` bytes once decoded) into `dst`, one after the other, each
/// straight into its place (one buffer for the stored bytes, reused).
fn decode_parts(
    file: &File,
    array: &ArrayNode,
    parts: &[Option<ChunkRef>],
    part: usize,
    dst: &mut [u8],
) -> Result<(), ChunkError> {
    // the stored bytes of each part in turn, and its inflated bytes when an unshuffle follows
    // (zero-filled only where they grow)
    let (mut stored, mut scratch) = (Vec::new(), Vec::new());
    for (p, dst) in parts.iter().zip(dst.chunks_mut(part)) {
        match p {
            Some(ChunkRef::Reencode { offset, len, mask, .. }) => {
                let len = *len as usize;
                if stored.len() < len {
                    stored.resize(len, 0);
                }
                pread_into(file, *offset, &mut stored[..len])?;
                let filters = &array.source_filters;
                if array.stored_chunks.is_some() {
                    // a stored chunk larger than the array: decoded whole, then cropped
                    let whole = array.stored_chunk_nbytes() as usize;
                    let raw =
                        codec::decode_hdf5_chunk(stored[..len].to_vec(), filters, *mask, whole)?;
                    let raw = cropped(raw, array);
                    if raw.len() != dst.len() {
                        let (got, expected) = (raw.len() as u64, dst.len() as u64);
                        return Err(ChunkError::SizeChanged { got, expected });
                    }
                    dst.copy_from_slice(&raw);
                    continue;
                }
                codec::decode_hdf5_chunk_into(&stored[..len], filters, *mask, dst, &mut scratch)?;
            }
            Some(ChunkRef::Range { offset, len }) if *len as usize == part => {
                pread_into(file, *offset, dst)?;
            }
            Some(other) => {
                return Err(ChunkError::CannotMerge(Box::new(other.clone())));
            }
            None => fill(dst, &array.fill_element)?,
        }
    }
    Ok(())
}

/// Fill `dst` with copies of the element `fill` (which must tile it).
fn fill(dst: &mut [u8], fill: &[u8]) -> Result<(), ChunkError> {
    if fill.is_empty() || !dst.len().is_multiple_of(fill.len()) {
        let got = (dst.len() / fill.len().max(1) * fill.len()) as u64;
        return Err(ChunkError::SizeChanged { got, expected: dst.len() as u64 });
    }
    if fill.iter().all(|b| *b == 0) {
        dst.fill(0);
    } else {
        dst.chunks_exact_mut(fill.len()).for_each(|e| e.copy_from_slice(fill));
    }
    Ok(())
}
