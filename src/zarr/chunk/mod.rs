//! The bytes of one chunk file: a `pread` of the source for pass-through chunks, padding for
//! partial contiguous chunks, generation (decode + re-encode, cached; a stacked chunk's parts
//! decoded on several threads) for the rest. Reads of generated chunks are windows on the
//! cached buffer ([`Bytes`]), never copies.
//!
//! Nothing here takes the HDF5/netCDF lock.

pub mod cache;
mod compound;
mod file_ref;
pub mod inflight;
mod merged;
mod recycle;
mod sent;
mod unpacked;

use crate::codec::{self, CodecError};
use crate::index::{encode, ArrayNode, ChunkRef};
pub use crate::source::{LibraryChunks, LibraryError};
pub use cache::{Chunk, ChunkCache, ChunkKey};
pub use file_ref::{FileRef, OpenSource};
use inflight::Permit;
use merged::{merged, read_parts};
pub use recycle::Recycled;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

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
    /// A library chunk without a reader to decode it.
    #[error("library decode: no reader")]
    NoLibraryReader,
    /// A thread decoding part of a merged chunk panicked.
    #[error("library decode: a decoding thread panicked")]
    DecoderPanicked,
    /// A merged chunk's part of a kind that cannot be merged.
    #[error("library decode: cannot merge chunk {0:?}")]
    CannotMerge(Box<ChunkRef>),
    #[error("library decode: {0}")]
    LibraryRead(#[from] LibraryError),
    #[error("{0}")]
    Shared(Arc<ChunkError>),
    #[error("a joined chunk was read without its members")]
    NoAssembler,
    /// A compound chunk of an array that has no stored compound.
    #[error("compound chunk of an array without a stored compound")]
    NotCompound,
    /// An unpacked chunk of an array without its packed array (a view built wrong).
    #[error("an unpacked chunk was read without its packed array")]
    NotUnpacked,
    /// A collection's member chunk could not be read (its file is named).
    #[error("{member}: {source}")]
    Member { member: String, source: Box<ChunkError> },
}

impl ChunkError {
    /// What went wrong, without the details that differ per chunk (log rate limit key).
    pub fn cause(&self) -> &'static str {
        match self {
            ChunkError::Io(_) => "source read",
            ChunkError::Truncated => "source truncated",
            ChunkError::Codec(_) => "chunk decode",
            ChunkError::SizeChanged { .. } => "chunk size changed",
            ChunkError::NoLibraryReader
            | ChunkError::DecoderPanicked
            | ChunkError::CannotMerge(_)
            | ChunkError::LibraryRead(_) => "library decode",
            ChunkError::Shared(inner) => inner.cause(),
            ChunkError::NoAssembler => "joined chunk",
            ChunkError::NotCompound => "compound chunk",
            ChunkError::NotUnpacked => "unpacked chunk",
            ChunkError::Member { source, .. } => source.cause(),
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
    /// Assembles [`ChunkRef::Joined`] chunks (a collection's members' chunks).
    pub joined: Option<&'a dyn JoinedChunks>,
}

/// Makes the bytes of a [`ChunkRef::Joined`] chunk from the members' chunks it covers.
pub trait JoinedChunks: Send + Sync {
    /// The uncompressed bytes of chunk `pos` of `array`.
    fn assemble(&self, array: &ArrayNode, pos: usize) -> Result<Vec<u8>, ChunkError>;
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
            let lib = src.library.ok_or(ChunkError::NoLibraryReader)?;
            let coords = array.chunk_coords(src.key.2 as u64);
            let make = |_: &mut Permit<'_>| -> Result<Vec<u8>, ChunkError> {
                let bytes = lib.read(array, &coords)?;
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
            Ok(sent(src, bytes, offset, want))
        }
        ChunkRef::Merged { parts, part, size } => {
            // a read past a stacked chunk's start that is neither cached nor being made is
            // most often the kernel filling a hole in its page cache (pages dropped): the
            // parts it covers are decoded, not all of them (32 for a 16 MiB chunk of 512 KiB
            // parts)
            if offset > 0 && *part > 0 {
                if let Some(whole) = src.cache.cached(src.key) {
                    return Ok(sent(src, whole, offset, want));
                }
                if !src.cache.whole_in_making(src.key) {
                    return read_parts(src, array, parts, *part, offset, want);
                }
            }
            let make = |room: &mut Permit<'_>| merged(src.file, array, parts, *part, *size, room);
            let bytes =
                src.cache.get_or_try(src.key, chunk.size(), make).map_err(ChunkError::Shared)?;
            Ok(sent(src, bytes, offset, want))
        }
        ChunkRef::Joined { size } => {
            let joined = src.joined.ok_or(ChunkError::NoAssembler)?;
            let make = |_: &mut Permit<'_>| -> Result<Vec<u8>, ChunkError> {
                let bytes = joined.assemble(array, src.key.2)?;
                if bytes.len() as u64 != *size {
                    let got = bytes.len() as u64;
                    return Err(ChunkError::SizeChanged { got, expected: *size });
                }
                Ok(bytes)
            };
            let bytes =
                src.cache.get_or_try(src.key, chunk.size(), make).map_err(ChunkError::Shared)?;
            Ok(sent(src, bytes, offset, want))
        }
        ChunkRef::Compound { size } => {
            Ok(sent(src, compound::compound_chunk(src, array, *size)?, offset, want))
        }
        ChunkRef::Unpacked { size } => {
            let make = |room: &mut Permit<'_>| unpacked::make(src, array, *size, room);
            let bytes =
                src.cache.get_or_try(src.key, chunk.size(), make).map_err(ChunkError::Shared)?;
            Ok(sent(src, bytes, offset, want))
        }
        ChunkRef::Reencode { offset: at, len: stored, mask, size } => {
            let bytes = src
                .cache
                .get_or_try(src.key, chunk.size(), |_| {
                    reencode(src.file, array, *at, *stored, *mask, *size)
                })
                .map_err(ChunkError::Shared)?;
            Ok(sent(src, bytes, offset, want))
        }
    }
}

/// The bytes at `offset` of the chunk file described by `chunk` written to `dst`: how many
/// (fewer at the chunk's end). A stored chunk is read straight into `dst` (a shard's reply
/// buffer); anything else is [`read_chunk`] copied.
pub fn read_chunk_into(
    src: &ChunkSource<'_>,
    array: &ArrayNode,
    chunk: &ChunkRef,
    offset: u64,
    dst: &mut [u8],
) -> Result<usize, ChunkError> {
    if let ChunkRef::Range { offset: at, .. } = chunk {
        let n = (dst.len() as u64).min(chunk.size().saturating_sub(offset)) as usize;
        pread_into(src.file, at + offset, &mut dst[..n])?;
        return Ok(n);
    }
    let bytes = read_chunk(src, array, chunk, offset, dst.len())?;
    dst[..bytes.len()].copy_from_slice(&bytes);
    Ok(bytes.len())
}

/// `want` bytes at `offset` of `chunk`, the whole chunk of `src` from its cache, counted as
/// sent ([`ChunkCache::served`]).
fn sent(src: &ChunkSource<'_>, chunk: Chunk, offset: u64, want: usize) -> Bytes {
    let range = within(chunk.len(), offset, want);
    src.cache.served(src.key, &chunk, range.clone());
    Bytes::Window(chunk, range)
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
pub(super) fn pread_into(file: &File, at: u64, buf: &mut [u8]) -> Result<(), ChunkError> {
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

/// The raw bytes of a stored HDF5 chunk: `stored` bytes at `at`, its pipeline undone.
pub(super) fn decode_stored(
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

/// A decoded stored chunk as served: cropped when the stored chunk is larger than the array.
pub(super) fn cropped(raw: Vec<u8>, array: &ArrayNode) -> Vec<u8> {
    match &array.stored_chunks {
        Some(from) => {
            crate::zarr::crop::crop(&raw, from, &array.chunks, array.element_size() as u64)
        }
        None => raw,
    }
}

pub(super) fn reencode(
    file: &File,
    array: &ArrayNode,
    at: u64,
    stored: u64,
    mask: u32,
    size: u64,
) -> Result<Vec<u8>, ChunkError> {
    let raw = decode_stored(file, array, at, stored, mask, array.stored_chunk_nbytes() as usize)?;
    let raw = cropped(raw, array);
    let bytes = encode(&raw, &array.codecs);
    if bytes.len() as u64 != size {
        return Err(ChunkError::SizeChanged { got: bytes.len() as u64, expected: size });
    }
    Ok(bytes)
}
