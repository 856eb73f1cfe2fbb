//! The bytes of one chunk file: a `pread` of the source for pass-through chunks, padding for
//! partial contiguous chunks, generation (decode + re-encode, cached; a stacked chunk's parts
//! decoded on several threads) for the rest. Reads of generated chunks are windows on the
//! cached buffer ([`Bytes`]), never copies.
//!
//! Nothing here takes the HDF5/netCDF lock.

use super::recycle::Recycled;
use crate::cache::{Chunk, ChunkCache, ChunkKey};
use crate::codec::{self, CodecError};
use crate::index::{encode, ArrayNode, ChunkRef};
use crate::inflight::Permit;
pub use crate::source::LibraryChunks;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, OnceLock};

/// A chunk's bytes could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    #[error("reading the source file: {0}")]
    Io(#[from] io::Error),
    #[error("source file is shorter than indexed (changed or truncated since)")]
    Truncated,
    #[error("decoding a stored chunk: {0}")]
    Codec(#[from] CodecError),
    #[error("generated chunk has {got} bytes, indexed as {expected}")]
    SizeChanged { got: u64, expected: u64 },
    #[error("library decode: {0}")]
    Library(String),
    #[error("{0}")]
    Shared(Arc<ChunkError>),
}

impl ChunkError {
    /// What went wrong, without the details that differ per chunk (log rate limit key).
    pub fn cause(&self) -> &'static str {
        match self {
            ChunkError::Io(_) => "source read",
            ChunkError::Truncated => "source truncated",
            ChunkError::Codec(_) => "chunk decode",
            ChunkError::SizeChanged { .. } => "chunk size changed",
            ChunkError::Library(_) => "library decode",
            ChunkError::Shared(inner) => inner.cause(),
        }
    }
}

/// The bytes a read returns: its own, or a window on a cached generated chunk (no copy: the
/// FUSE reply is written straight from the cache's buffer).
#[derive(Debug)]
pub enum Bytes {
    Owned(Vec<u8>),
    /// Read into a buffer of the thread's pool (pass-through chunks).
    Read(Recycled),
    Window(Chunk, std::ops::Range<usize>),
}

impl Bytes {
    /// `want` bytes of `chunk` at `offset` (fewer at its end).
    fn window(chunk: Chunk, offset: u64, want: usize) -> Bytes {
        let range = within(chunk.len(), offset, want);
        Bytes::Window(chunk, range)
    }

    /// The bytes as a vector of their own (a copy for a window).
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Read(r) => r.into_vec(),
            Bytes::Window(chunk, range) => chunk[range].to_vec(),
        }
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Read(r) => r,
            Bytes::Window(chunk, range) => &chunk[range.clone()],
        }
    }
}

/// Where a chunk is read from: the open source file, the cache for generated chunks, and the
/// library reader for chunks only it can decode.
pub struct ChunkSource<'a> {
    pub file: &'a File,
    pub cache: &'a ChunkCache,
    /// (dataset generation, array, chunk position): also the cache key.
    pub key: ChunkKey,
    pub library: Option<&'a dyn LibraryChunks>,
}

/// Read up to `len` bytes at `offset` of the chunk file described by `chunk`.
pub fn read_chunk(
    src: &ChunkSource<'_>,
    array: &ArrayNode,
    chunk: &ChunkRef,
    offset: u64,
    len: usize,
) -> Result<Bytes, ChunkError> {
    let size = chunk.size();
    if offset >= size {
        return Ok(Bytes::Owned(Vec::new()));
    }
    let want = (len as u64).min(size - offset) as usize;
    match chunk {
        ChunkRef::Range { offset: at, .. } => {
            let mut buf = Recycled::with_len(want);
            pread_into(src.file, at + offset, buf.as_mut_slice())?;
            Ok(Bytes::Read(buf))
        }
        ChunkRef::Padded { offset: at, len: valid, .. } => {
            let mut out = Vec::with_capacity(want);
            if offset < *valid {
                let n = (*valid - offset).min(want as u64) as usize;
                out = pread(src.file, at + offset, n)?;
            }
            pad_with_fill(&mut out, offset, want, &array.fill_element);
            Ok(Bytes::Owned(out))
        }
        ChunkRef::Strided { offset: at, stride, len: piece, count, .. } => {
            let mut out = Vec::with_capacity(want);
            let valid = piece * count;
            let mut pos = offset;
            while out.len() < want && pos < valid {
                let (r, within) = (pos / piece, pos % piece);
                let n = (piece - within).min((want - out.len()) as u64);
                out.extend(pread(src.file, at + r * stride + within, n as usize)?);
                pos += n;
            }
            pad_with_fill(&mut out, offset, want, &array.fill_element);
            Ok(Bytes::Owned(out))
        }
        ChunkRef::Inline { bytes } => Ok(Bytes::Owned(slice(bytes, offset, want))),
        ChunkRef::Fill { .. } => {
            Ok(Bytes::Owned(slice(array.fill_chunk.as_deref().unwrap_or(&[]), offset, want)))
        }
        ChunkRef::Library { size } => {
            let lib = src.library.ok_or_else(|| ChunkError::Library("no reader".into()))?;
            let coords = array.chunk_coords(src.key.2 as u64);
            let make = |_: &mut Permit<'_>| -> Result<Vec<u8>, ChunkError> {
                let bytes = lib.read(array, &coords).map_err(ChunkError::Library)?;
                if bytes.len() as u64 != *size {
                    return Err(ChunkError::SizeChanged {
                        got: bytes.len() as u64,
                        expected: *size,
                    });
                }
                Ok(bytes)
            };
            let bytes =
                src.cache.get_or_try(src.key, chunk.size(), make).map_err(ChunkError::Shared)?;
            Ok(Bytes::window(bytes, offset, want))
        }
        ChunkRef::Merged { parts, part, .. } => {
            // a read past a stacked chunk's start that is neither cached nor being made is
            // most often the kernel filling a hole in its page cache (pages dropped): the
            // parts it covers are decoded, not all of them (32 for a 16 MiB chunk of 512 KiB
            // parts)
            if offset > 0 && *part > 0 {
                if let Some(whole) = src.cache.cached(src.key) {
                    return Ok(Bytes::window(whole, offset, want));
                }
                if !src.cache.whole_in_making(src.key) {
                    return read_parts(src, array, parts, *part, offset, want);
                }
            }
            let make = |room: &mut Permit<'_>| merged(src.file, array, parts, *part, room);
            let bytes =
                src.cache.get_or_try(src.key, chunk.size(), make).map_err(ChunkError::Shared)?;
            Ok(Bytes::window(bytes, offset, want))
        }
        ChunkRef::Reencode { offset: at, len: stored, mask, size } => {
            let bytes = src
                .cache
                .get_or_try(src.key, chunk.size(), |_| {
                    reencode(src.file, array, *at, *stored, *mask, *size)
                })
                .map_err(ChunkError::Shared)?;
            Ok(Bytes::window(bytes, offset, want))
        }
    }
}

/// Extend `out` (which starts at chunk offset `offset`) to `want` bytes of the fill pattern.
fn pad_with_fill(out: &mut Vec<u8>, offset: u64, want: usize, fill: &[u8]) {
    let es = fill.len().max(1);
    while out.len() < want {
        let p = (offset as usize + out.len()) % es;
        out.push(fill.get(p).copied().unwrap_or(0));
    }
}

fn slice(bytes: &[u8], offset: u64, want: usize) -> Vec<u8> {
    bytes[within(bytes.len(), offset, want)].to_vec()
}

/// The part of `len` bytes that `want` bytes at `offset` cover (empty past the end).
pub fn within(len: usize, offset: u64, want: usize) -> std::ops::Range<usize> {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
    start..start.saturating_add(want).min(len)
}

fn pread(file: &File, at: u64, n: usize) -> Result<Vec<u8>, ChunkError> {
    let mut buf = vec![0u8; n];
    pread_into(file, at, &mut buf)?;
    Ok(buf)
}

/// Fill `buf` from `file` at `at`; a file that ends first is [`ChunkError::Truncated`].
fn pread_into(file: &File, at: u64, buf: &mut [u8]) -> Result<(), ChunkError> {
    let (n, mut done) = (buf.len(), 0);
    while done < n {
        match file.read_at(&mut buf[done..], at + done as u64) {
            Ok(0) => return Err(ChunkError::Truncated),
            Ok(k) => done += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `want` bytes at `offset` of a stacked chunk of parts of `part` bytes, from the parts they
/// cover, each decoded alone and cached as a part.
fn read_parts(
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
            crate::stats::STATS.part_made();
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
fn merged(
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
            let theirs = h
                .join()
                .unwrap_or_else(|_| Err(ChunkError::Library("a decoding thread panicked".into())));
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
                codec::decode_hdf5_chunk_into(&stored[..len], filters, *mask, dst, &mut scratch)?;
            }
            Some(ChunkRef::Range { offset, len }) if *len as usize == part => {
                pread_into(file, *offset, dst)?;
            }
            Some(other) => {
                return Err(ChunkError::Library(format!("cannot merge chunk {other:?}")));
            }
            None => fill(dst, &array.fill_element)?,
        }
    }
    Ok(())
}

/// Fill `dst` with copies of the element `fill` (which must tile it).
fn fill(dst: &mut [u8], fill: &[u8]) -> Result<(), ChunkError> {
    if fill.is_empty() || dst.len() % fill.len() != 0 {
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

/// The raw bytes of a stored HDF5 chunk: `stored` bytes at `at`, its pipeline undone.
fn decode_stored(
    file: &File,
    array: &ArrayNode,
    at: u64,
    stored: u64,
    mask: u32,
    expected: usize,
) -> Result<Vec<u8>, ChunkError> {
    let data = pread(file, at, stored as usize)?;
    Ok(codec::decode_hdf5_chunk(data, &array.source_filters, mask, expected)?)
}

fn reencode(
    file: &File,
    array: &ArrayNode,
    at: u64,
    stored: u64,
    mask: u32,
    size: u64,
) -> Result<Vec<u8>, ChunkError> {
    let raw = decode_stored(file, array, at, stored, mask, array.chunk_nbytes() as usize)?;
    let bytes = encode(&raw, &array.codecs);
    if bytes.len() as u64 != size {
        return Err(ChunkError::SizeChanged { got: bytes.len() as u64, expected: size });
    }
    Ok(bytes)
}
