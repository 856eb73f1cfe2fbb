//! Where a variable's bytes are, turned into Zarr chunks: codecs from the filter pipeline, one
//! chunk reference per chunk of the grid, and a chunk file for unwritten chunks when the Zarr
//! `fill_value` cannot stand for them. Shared by both readers of HDF5 storage — libhdf5
//! ([`super::libhdf5_layout`]) and the native reader ([`super::native`]) — which only gather the facts
//! ([`Placement`]); nothing here reads chunk data, except the rare chunk whose filter mask says
//! a filter was skipped (it is re-encoded once to learn its exact size).

use super::btree::ChunkEntry;
use super::contiguous::{checked_bytes, contiguous_refs, grid_len, split_contiguous};
use super::pipeline::{map_pipeline, Mode};
use super::{IndexOptions, VariableError};
use crate::codec;
use crate::index::{encode, ArrayNode, ChunkRef, Dtype, SourceFilter, StorageKind};
use hdf5::filters::Filter as H5Filter;
use std::cell::Cell;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use tracing::warn;

/// Largest decoded chunk a dataset may declare (a hostile header must not make the daemon
/// allocate more).
const MAX_CHUNK_BYTES: u64 = 1 << 30;

/// Chunk references one file's index may hold in all (~0.8 GB of them): a header declaring
/// many huge unwritten arrays must not make the indexer allocate without bound.
pub const MAX_FILE_REFS: u64 = 1 << 24;

/// The source file the chunk references point into.
pub struct Target<'a> {
    pub path: &'a Path,
    pub raw: &'a File,
    pub file_len: u64,
    /// HDF5 addresses are relative to the superblock, which a user block shifts.
    pub base: u64,
    pub options: &'a IndexOptions,
    /// Chunk references the file's arrays may still take.
    refs_left: Cell<u64>,
}

impl<'a> Target<'a> {
    pub fn new(
        path: &'a Path,
        raw: &'a File,
        file_len: u64,
        base: u64,
        options: &'a IndexOptions,
    ) -> Self {
        Target { path, raw, file_len, base, options, refs_left: Cell::new(MAX_FILE_REFS) }
    }

    /// Take `n` chunk references from the file's budget.
    pub fn take(&self, n: u64) -> Result<(), VariableError> {
        let left = self.refs_left.get().checked_sub(n).ok_or(VariableError::FileTooManyChunks)?;
        self.refs_left.set(left);
        Ok(())
    }

    /// The number of chunks of `array`'s grid, taken from the file's budget.
    fn grid(&self, array: &ArrayNode) -> Result<usize, VariableError> {
        let n = grid_len(array)?;
        let left =
            self.refs_left.get().checked_sub(n as u64).ok_or(VariableError::FileTooManyChunks)?;
        self.refs_left.set(left);
        Ok(n)
    }
}

/// Chunk entries of a chunked dataset, read only once its pipeline and chunk shape passed.
pub type Entries<'e> = Box<dyn FnOnce() -> Result<Vec<ChunkEntry>, VariableError> + 'e>;

/// How a dataset's bytes are laid out, as a reader found it.
pub enum Placement<'e> {
    Chunked {
        filters: Vec<H5Filter>,
        chunk: Option<Vec<u64>>,
        entries: Entries<'e>,
    },
    Contiguous {
        offset: Option<u64>,
    },
    /// The dataset's bytes in the object header, read on demand (given their count).
    Compact {
        read: Box<dyn FnOnce(usize) -> Result<Vec<u8>, VariableError> + 'e>,
    },
    /// Stored bytes that are not the served type's (an N-bit type: fewer bits than its size,
    /// or at an offset): every chunk read through libhdf5, which converts the values to the
    /// served type as h5py and netCDF-C read them. Chunks of `chunk`'s shape (the dataset's
    /// own, or a split of a contiguous one when `None`).
    Converted {
        chunk: Option<Vec<u64>>,
    },
}

/// Fill in `array`'s codecs and chunk references. `array.dtype`, `fill_element` and `shape`
/// are set; `h5shape` is the dataset's own extent; `hdf5_path` names it for libhdf5 reads.
pub fn place(
    t: &Target<'_>,
    array: &mut ArrayNode,
    dtype: Dtype,
    h5shape: &[u64],
    hdf5_path: &str,
    placement: Placement<'_>,
) -> Result<(), VariableError> {
    match placement {
        Placement::Chunked { filters, chunk, entries } => {
            chunked(t, array, hdf5_path, &filters, chunk, entries)?
        }
        Placement::Contiguous { offset } => {
            if h5shape != array.shape {
                return Err("contiguous dataset shape differs from its netCDF dimensions".into());
            }
            contiguous(t, array, offset)?
        }
        Placement::Compact { read } => compact(array, read)?,
        Placement::Converted { chunk } => converted(t, array, hdf5_path, chunk)?,
    }
    materialise_fill(array, dtype);
    Ok(())
}

fn chunked(
    t: &Target<'_>,
    array: &mut ArrayNode,
    hdf5_path: &str,
    filters: &[H5Filter],
    chunk: Option<Vec<u64>>,
    entries: Entries<'_>,
) -> Result<(), VariableError> {
    let pipeline = map_pipeline(filters, array.element_size())?;
    let source = &pipeline.source;
    let trailer = if source.contains(&SourceFilter::Fletcher32) { 4 } else { 0 };
    let active: u32 = if source.len() >= 32 { u32::MAX } else { (1u32 << source.len()) - 1 };
    array.source_filters = pipeline.source.clone();
    array.codecs = pipeline.codecs;
    array.storage = match pipeline.mode {
        Mode::ZeroCopy => StorageKind::ChunkedPassThrough,
        Mode::Decode => StorageKind::ChunkedDecoded,
        Mode::Library => {
            array.library_path = Some(hdf5_path.to_string());
            StorageKind::ChunkedLibrary
        }
    };
    array.chunks = chunk.ok_or("chunked dataset without chunk dimensions")?;
    if array.chunks.contains(&0) {
        return Err("chunk dimension of size 0".into());
    }
    let chunk_bytes = checked_bytes(&array.chunks, array.element_size() as u64);
    if chunk_bytes.is_none_or(|b| b > MAX_CHUNK_BYTES) {
        return Err(VariableError::ChunksTooLarge(array.chunks.clone()));
    }
    // the entries first: a damaged chunk index is refused before the grid is allocated
    let entries = entries()?;
    array.chunk_refs = vec![None; t.grid(array)?];
    for info in entries {
        let coords: Vec<u64> = info.offset.iter().zip(&array.chunks).map(|(o, c)| o / c).collect();
        let Some(pos) = array.chunk_position(&coords) else {
            warn!(file = %t.path.display(), array = %array.name, ?coords,
                "chunk outside the netCDF shape ignored");
            continue;
        };
        let (offset, len) = (t.base.saturating_add(info.addr), info.size);
        if offset.checked_add(len).is_none_or(|end| end > t.file_len) {
            return Err(VariableError::ChunkBeyondEnd(coords));
        }
        let mask = info.filter_mask & active;
        array.chunk_refs[pos] = Some(if pipeline.mode == Mode::Library {
            ChunkRef::Library { size: array.chunk_nbytes() }
        } else if pipeline.mode == Mode::Decode {
            // Served uncompressed: the size is known without decoding.
            ChunkRef::Reencode { offset, len, mask, size: array.chunk_nbytes() }
        } else if mask == 0 {
            if len < trailer {
                let what = format!("chunk {coords:?} is shorter than its checksum");
                return Err(VariableError::Unsupported(what));
            }
            ChunkRef::Range { offset, len: len - trailer }
        } else {
            let size = reencode_size(t, array, offset, len, mask).map_err(|e| {
                VariableError::SkippedFilters { coords: coords.clone(), source: Box::new(e) }
            })?;
            ChunkRef::Reencode { offset, len, mask, size }
        });
    }
    Ok(())
}

fn reencode_size(
    t: &Target<'_>,
    array: &ArrayNode,
    offset: u64,
    len: u64,
    mask: u32,
) -> Result<u64, VariableError> {
    let mut stored = vec![0u8; usize::try_from(len).map_err(|_| "chunk too large")?];
    t.raw.read_exact_at(&mut stored, offset)?;
    let expected = usize::try_from(array.chunk_nbytes()).map_err(|_| "chunk too large")?;
    let raw = codec::decode_hdf5_chunk(stored, &array.source_filters, mask, expected)?;
    Ok(encode(&raw, &array.codecs).len() as u64)
}

fn contiguous(
    t: &Target<'_>,
    array: &mut ArrayNode,
    offset: Option<u64>,
) -> Result<(), VariableError> {
    let es = array.element_size() as u64;
    array.chunks = split_contiguous(&array.shape, es, t.options.contiguous_chunk_target);
    let Some(base) = offset.map(|o| t.base.saturating_add(o)) else {
        array.storage = StorageKind::Unallocated;
        array.chunk_refs = vec![None; t.grid(array)?];
        return Ok(());
    };
    array.storage = StorageKind::ContiguousPassThrough;
    let nbytes = checked_bytes(&array.shape, es);
    if nbytes.and_then(|n| base.checked_add(n)).is_none_or(|end| end > t.file_len) {
        return Err(VariableError::DataBeyondEnd("contiguous data"));
    }
    t.grid(array)?;
    array.chunk_refs = contiguous_refs(array, base)?;
    Ok(())
}

fn converted(
    t: &Target<'_>,
    array: &mut ArrayNode,
    hdf5_path: &str,
    chunk: Option<Vec<u64>>,
) -> Result<(), VariableError> {
    let es = array.element_size() as u64;
    array.chunks = chunk
        .unwrap_or_else(|| split_contiguous(&array.shape, es, t.options.contiguous_chunk_target));
    if array.chunks.contains(&0) {
        return Err("chunk dimension of size 0".into());
    }
    if checked_bytes(&array.chunks, es).is_none_or(|b| b > MAX_CHUNK_BYTES) {
        return Err(VariableError::ChunksTooLarge(array.chunks.clone()));
    }
    array.storage = StorageKind::Converted;
    array.library_path = Some(hdf5_path.to_string());
    let size = array.chunk_nbytes();
    array.chunk_refs = vec![Some(ChunkRef::Library { size }); t.grid(array)?];
    Ok(())
}

fn compact(
    array: &mut ArrayNode,
    read: Box<dyn FnOnce(usize) -> Result<Vec<u8>, VariableError> + '_>,
) -> Result<(), VariableError> {
    array.storage = StorageKind::Compact;
    array.chunks = array.shape.iter().map(|s| (*s).max(1)).collect();
    let nbytes = checked_bytes(&array.shape, array.element_size() as u64).unwrap_or(u64::MAX);
    if nbytes == 0 {
        array.chunk_refs = vec![None];
        return Ok(());
    }
    if nbytes > 1 << 20 {
        return Err(VariableError::CompactTooLarge(nbytes));
    }
    let bytes = read(nbytes as usize)?;
    array.chunk_refs = vec![Some(ChunkRef::Inline { bytes })];
    Ok(())
}

/// Give unwritten chunks a chunk file when the declared fill value cannot stand for them.
fn materialise_fill(array: &mut ArrayNode, dtype: Dtype) {
    if !array.chunk_refs.iter().any(Option::is_none) || declared_fill_matches(array, dtype) {
        return;
    }
    let elements = usize::try_from(array.chunks.iter().product::<u64>()).unwrap_or(0);
    let raw = array.fill_element.repeat(elements);
    let bytes = encode(&raw, &array.codecs);
    let size = bytes.len() as u64;
    array.fill_chunk = Some(bytes);
    for slot in array.chunk_refs.iter_mut().filter(|s| s.is_none()) {
        *slot = Some(ChunkRef::Fill { size });
    }
}

/// True when the declared fill value (`_FillValue`, one value of the type) equals what the
/// library returns for unwritten data, so a missing chunk file reads back right.
fn declared_fill_matches(array: &ArrayNode, dtype: Dtype) -> bool {
    let Some(fill) = array.fill_value.as_ref().filter(|_| array.fill_is_one_value()) else {
        return false;
    };
    let Some(declared) = dtype.encode(fill) else {
        return false;
    };
    if declared == array.fill_element {
        return true;
    }
    // Any NaN stands for any NaN payload.
    dtype.is_float() && is_nan(&declared, dtype) && is_nan(&array.fill_element, dtype)
}

fn is_nan(bytes: &[u8], dtype: Dtype) -> bool {
    let mut b = bytes.to_vec();
    if dtype.big_endian {
        b.reverse();
    }
    match dtype.size {
        4 => <[u8; 4]>::try_from(b.as_slice()).is_ok_and(|a| f32::from_le_bytes(a).is_nan()),
        8 => <[u8; 8]>::try_from(b.as_slice()).is_ok_and(|a| f64::from_le_bytes(a).is_nan()),
        _ => false,
    }
}
