//! Second pass: where each variable's bytes are in the HDF5 file, and which Zarr codecs describe
//! them. Chunk addresses come from libhdf5 (`H5Dget_chunk_info`); nothing here reads chunk data,
//! except the rare chunk whose filter mask says a filter was skipped (it is re-encoded once to
//! learn its exact size).

use super::btree::{header_addr, library_entries, read_chunk_index, ChunkEntry};
use super::contiguous::{contiguous_refs, grid_len, split_contiguous};
use super::nc4::ModelGroup;
use super::pipeline::{map_pipeline, Mode};
use super::{IndexOptions, SourceError};
use crate::index::{ArrayNode, ChunkRef, Dtype, Skipped, SourceFilter, StorageKind};
use crate::zarr::codec;
use hdf5::dataset::Layout;
use hdf5::datatype::ByteOrder;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use tracing::warn;

/// Largest decoded chunk a dataset may declare (a hostile header must not make the daemon
/// allocate more).
const MAX_CHUNK_BYTES: u64 = 1 << 30;

struct Ctx<'a> {
    path: &'a Path,
    h5: hdf5::File,
    raw: File,
    file_len: u64,
    /// HDF5 addresses are relative to the superblock, which a user block shifts.
    base: u64,
    options: &'a IndexOptions,
}

/// Fill in dtype byte order, codecs and chunk references of every array in `tree`; arrays whose
/// storage cannot be presented move to `skipped` with the reason.
pub fn fill_storage(
    path: &Path,
    user_block: u64,
    tree: &mut ModelGroup,
    options: &IndexOptions,
) -> Result<(), SourceError> {
    let h5 = hdf5::File::open(path)
        .map_err(|e| SourceError::Hdf5 { path: path.to_path_buf(), message: e.to_string() })?;
    let io = |source| SourceError::Io { path: path.to_path_buf(), source };
    let raw = File::open(path).map_err(io)?;
    let file_len = raw.metadata().map_err(io)?.len();
    let ctx = Ctx { path, h5, raw, file_len, base: user_block, options };
    walk(&ctx, tree);
    Ok(())
}

fn walk(ctx: &Ctx<'_>, g: &mut ModelGroup) {
    let arrays = std::mem::take(&mut g.group.arrays);
    let sources = std::mem::take(&mut g.sources);
    for (mut array, source) in arrays.into_iter().zip(sources) {
        let hdf5_path = source.hdf5_path;
        if array.storage == StorageKind::Strings {
            g.group.arrays.push(array);
            continue;
        }
        match locate(ctx, &hdf5_path, source.fill_from_storage, &mut array) {
            Ok(()) => g.group.arrays.push(array),
            Err(reason) => {
                warn!(file = %ctx.path.display(), variable = %hdf5_path, "left out: {reason}");
                g.group.skipped.push(Skipped { name: array.name, reason });
            }
        }
    }
    for child in &mut g.children {
        walk(ctx, child);
    }
}

fn open_dataset(h5: &hdf5::File, path: &str) -> Result<hdf5::Dataset, String> {
    if let Ok(ds) = h5.dataset(path) {
        return Ok(ds);
    }
    // netCDF-4 stores a variable that shares a dimension's name without being its coordinate
    // variable under a prefixed name.
    let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
    h5.dataset(&format!("{parent}/_nc4_non_coord_{name}"))
        .map_err(|e| format!("no HDF5 dataset behind the variable: {e}"))
}

fn locate(
    ctx: &Ctx<'_>,
    hdf5_path: &str,
    fill_from_storage: bool,
    array: &mut ArrayNode,
) -> Result<(), String> {
    let ds = open_dataset(&ctx.h5, hdf5_path)?;
    let mut dtype = Dtype::parse(&array.dtype).ok_or("unsupported dtype")?;
    let h5type = ds.dtype().map_err(|e| format!("datatype: {e}"))?;
    if h5type.size() != dtype.size {
        return Err(format!("HDF5 type has {} bytes, netCDF type {}", h5type.size(), dtype.size));
    }
    dtype.big_endian = dtype.size > 1 && matches!(h5type.byte_order(), ByteOrder::BigEndian);
    array.dtype = dtype.to_numpy();
    array.fill_element = raw::fill_element(&ds, dtype.size)?;
    if fill_from_storage {
        array.fill_value = dtype.decode(&array.fill_element);
    }
    if raw::external_count(&ds) > 0 {
        return Err("external storage (data in other files) is not supported".into());
    }
    let h5shape: Vec<u64> = ds.shape().iter().map(|s| *s as u64).collect();
    if h5shape.len() != array.shape.len() {
        return Err(format!("HDF5 rank {} differs from netCDF rank", h5shape.len()));
    }
    match ds.layout() {
        Layout::Chunked => chunked(ctx, &ds, array)?,
        Layout::Contiguous => {
            if h5shape != array.shape {
                return Err("contiguous dataset shape differs from its netCDF dimensions".into());
            }
            contiguous(ctx, &ds, array)?
        }
        Layout::Compact => compact(&ds, array)?,
        #[allow(unreachable_patterns)]
        _ => return Err("virtual datasets are not supported".into()),
    }
    materialise_fill(array, dtype);
    Ok(())
}

fn chunked(ctx: &Ctx<'_>, ds: &hdf5::Dataset, array: &mut ArrayNode) -> Result<(), String> {
    let pipeline = map_pipeline(&ds.filters(), array.element_size())?;
    let source = &pipeline.source;
    let trailer = if source.contains(&SourceFilter::Fletcher32) { 4 } else { 0 };
    let active: u32 = if source.len() >= 32 { u32::MAX } else { (1u32 << source.len()) - 1 };
    array.source_filters = pipeline.source.clone();
    array.filters = pipeline.filters;
    array.compressor = pipeline.compressor;
    array.storage = match pipeline.mode {
        Mode::ZeroCopy => StorageKind::ChunkedPassThrough,
        Mode::Decode => StorageKind::ChunkedDecoded,
        Mode::Library => {
            array.library_path = Some(ds.name());
            StorageKind::ChunkedLibrary
        }
    };
    let chunk = ds.chunk().ok_or("chunked dataset without chunk dimensions")?;
    array.chunks = chunk.iter().map(|c| *c as u64).collect();
    if array.chunks.contains(&0) {
        return Err("chunk dimension of size 0".into());
    }
    if array.chunk_nbytes() > MAX_CHUNK_BYTES {
        return Err(format!("chunks of {} bytes are larger than served", array.chunk_nbytes()));
    }
    array.chunk_refs = vec![None; grid_len(array)?];
    for info in chunk_entries(ctx, ds, array.shape.len())? {
        let coords: Vec<u64> = info.offset.iter().zip(&array.chunks).map(|(o, c)| o / c).collect();
        let Some(pos) = array.chunk_position(&coords) else {
            warn!(file = %ctx.path.display(), array = %array.name, ?coords,
                "chunk outside the netCDF shape ignored");
            continue;
        };
        let (offset, len) = (ctx.base.saturating_add(info.addr), info.size);
        if offset.checked_add(len).is_none_or(|end| end > ctx.file_len) {
            return Err(format!("chunk {coords:?} lies beyond the end of the file (truncated?)"));
        }
        let mask = info.filter_mask & active;
        array.chunk_refs[pos] = Some(if pipeline.mode == Mode::Library {
            ChunkRef::Library { size: array.chunk_nbytes() }
        } else if pipeline.mode == Mode::Decode {
            // Served uncompressed: the size is known without decoding.
            ChunkRef::Reencode { offset, len, mask, size: array.chunk_nbytes() }
        } else if mask == 0 {
            if len < trailer {
                return Err(format!("chunk {coords:?} is shorter than its checksum"));
            }
            ChunkRef::Range { offset, len: len - trailer }
        } else {
            let size = reencode_size(ctx, array, offset, len, mask)
                .map_err(|e| format!("chunk {coords:?} with skipped filters: {e}"))?;
            ChunkRef::Reencode { offset, len, mask, size }
        });
    }
    Ok(())
}

/// Every allocated chunk of `ds`: from the B-tree read directly when possible (one pass),
/// otherwise from libhdf5 (`H5Dget_chunk_info`, O(n²) on HDF5 1.10).
fn chunk_entries(
    ctx: &Ctx<'_>,
    ds: &hdf5::Dataset,
    rank: usize,
) -> Result<Vec<ChunkEntry>, String> {
    if let Some(header) = header_addr(ds) {
        match read_chunk_index(&ctx.raw, ctx.base, header, rank) {
            Ok(Some(entries)) => return Ok(entries),
            Ok(None) => {}
            Err(e) => warn!(file = %ctx.path.display(), dataset = %ds.name(),
                "chunk B-tree not readable directly ({e}); asking libhdf5"),
        }
    }
    library_entries(ds)
}

fn reencode_size(
    ctx: &Ctx<'_>,
    array: &ArrayNode,
    offset: u64,
    len: u64,
    mask: u32,
) -> Result<u64, String> {
    let mut stored = vec![0u8; usize::try_from(len).map_err(|_| "chunk too large")?];
    ctx.raw.read_exact_at(&mut stored, offset).map_err(|e| e.to_string())?;
    let expected = usize::try_from(array.chunk_nbytes()).map_err(|_| "chunk too large")?;
    let raw = codec::decode_hdf5_chunk(stored, &array.source_filters, mask, expected)
        .map_err(|e| e.to_string())?;
    Ok(codec::encode_zarr_chunk(&raw, array).len() as u64)
}

fn contiguous(ctx: &Ctx<'_>, ds: &hdf5::Dataset, array: &mut ArrayNode) -> Result<(), String> {
    let es = array.element_size() as u64;
    array.chunks = split_contiguous(&array.shape, es, ctx.options.contiguous_chunk_target);
    let nbytes = array.shape.iter().product::<u64>() * es;
    let Some(base) = ds.offset().map(|o| ctx.base.saturating_add(o)) else {
        array.storage = StorageKind::Unallocated;
        array.chunk_refs = vec![None; grid_len(array)?];
        return Ok(());
    };
    array.storage = StorageKind::ContiguousPassThrough;
    if base.checked_add(nbytes).is_none_or(|end| end > ctx.file_len) {
        return Err("contiguous data lies beyond the end of the file (truncated?)".into());
    }
    array.chunk_refs = contiguous_refs(array, base)?;
    Ok(())
}

fn compact(ds: &hdf5::Dataset, array: &mut ArrayNode) -> Result<(), String> {
    array.storage = StorageKind::Compact;
    array.chunks = array.shape.iter().map(|s| (*s).max(1)).collect();
    let nbytes = array.shape.iter().product::<u64>() * array.element_size() as u64;
    if nbytes == 0 {
        array.chunk_refs = vec![None];
        return Ok(());
    }
    if nbytes > 1 << 20 {
        return Err(format!("compact dataset claims {nbytes} bytes (HDF5 allows 64 KiB)"));
    }
    let bytes = raw::read_all(ds, nbytes as usize)?;
    array.chunk_refs = vec![Some(ChunkRef::Inline { bytes })];
    Ok(())
}

/// Give unwritten chunks a chunk file when the Zarr `fill_value` cannot stand for them.
fn materialise_fill(array: &mut ArrayNode, dtype: Dtype) {
    if !array.chunk_refs.iter().any(Option::is_none) || declared_fill_matches(array, dtype) {
        return;
    }
    let elements = usize::try_from(array.chunks.iter().product::<u64>()).unwrap_or(0);
    let raw = array.fill_element.repeat(elements);
    let bytes = codec::encode_zarr_chunk(&raw, array);
    let size = bytes.len() as u64;
    array.fill_chunk = Some(bytes);
    for slot in array.chunk_refs.iter_mut().filter(|s| s.is_none()) {
        *slot = Some(ChunkRef::Fill { size });
    }
}

/// True when `.zarray`'s fill_value (from `_FillValue`) equals what the library returns for
/// unwritten data, so a missing chunk file reads back right.
fn declared_fill_matches(array: &ArrayNode, dtype: Dtype) -> bool {
    let Some(fill) = &array.fill_value else {
        return false;
    };
    if fill.fill_value_json(dtype.is_float()).is_none() {
        return false;
    }
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

/// Direct libhdf5 calls the high-level crate does not offer, under its global lock.
mod raw {
    use hdf5_sys::h5d::{H5Dget_create_plist, H5Dget_type, H5Dread};
    use hdf5_sys::h5p::{H5Pclose, H5Pget_external_count, H5Pget_fill_value, H5P_DEFAULT};
    use hdf5_sys::h5s::H5S_ALL;
    use hdf5_sys::h5t::H5Tclose;

    /// The dataset's fill value as one element in the file's type and byte order.
    pub fn fill_element(ds: &hdf5::Dataset, size: usize) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; size];
        let _guard = hdf5_sys::LOCK.lock();
        // SAFETY: ids come from a live dataset and are closed here; buf holds one element of
        // the type passed.
        let status = unsafe {
            let dcpl = H5Dget_create_plist(ds.id());
            let tid = H5Dget_type(ds.id());
            let r = if dcpl < 0 || tid < 0 {
                -1
            } else {
                H5Pget_fill_value(dcpl, tid, buf.as_mut_ptr().cast())
            };
            if tid >= 0 {
                H5Tclose(tid);
            }
            if dcpl >= 0 {
                H5Pclose(dcpl);
            }
            r
        };
        if status < 0 {
            return Err("cannot read the dataset's fill value".into());
        }
        Ok(buf)
    }

    /// Number of external files of the dataset (0 for ordinary storage).
    pub fn external_count(ds: &hdf5::Dataset) -> i32 {
        let _guard = hdf5_sys::LOCK.lock();
        // SAFETY: the plist id is checked and closed.
        unsafe {
            let dcpl = H5Dget_create_plist(ds.id());
            if dcpl < 0 {
                return 0;
            }
            let n = H5Pget_external_count(dcpl);
            H5Pclose(dcpl);
            n
        }
    }

    /// All elements in the file's own type (no conversion, no byte swapping).
    pub fn read_all(ds: &hdf5::Dataset, nbytes: usize) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; nbytes];
        let _guard = hdf5_sys::LOCK.lock();
        // SAFETY: buf has room for every element of the dataset in its file type.
        let status = unsafe {
            let tid = H5Dget_type(ds.id());
            if tid < 0 {
                return Err("cannot read the dataset's type".into());
            }
            let r = H5Dread(ds.id(), tid, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.as_mut_ptr().cast());
            H5Tclose(tid);
            r
        };
        if status < 0 {
            return Err("cannot read compact data".into());
        }
        Ok(buf)
    }
}
