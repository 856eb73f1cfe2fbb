//! Second pass through libhdf5: the facts about each variable's HDF5 storage (type byte order,
//! fill value, layout, filters, chunk addresses) that [`super::placement`] turns into Zarr chunk
//! references. Chunk addresses come from the B-tree read directly ([`super::btree`]) or, when
//! that is not possible, from `H5Dget_chunk_info`.

use super::btree::{header_addr, library_entries, read_chunk_index, ChunkEntry};
use super::compound;
use super::nc4::ModelGroup;
use super::placement::{place, Placement, Target};
use super::variable_error::leave_out;
use super::{vlen, IndexOptions, SourceError, VariableError};
use crate::index::{ArrayNode, ElementKind, StorageKind};
use hdf5::dataset::Layout;
use hdf5::datatype::ByteOrder;
use std::fs::File;
use std::path::Path;
use tracing::warn;

struct Ctx<'a> {
    h5: hdf5::File,
    target: Target<'a>,
    /// Compound datasets placed so far (their arrays' `Compound::id`).
    compounds: std::cell::Cell<u32>,
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
        .map_err(|source| SourceError::Hdf5 { path: path.to_path_buf(), source })?;
    let io = |source| SourceError::Io { path: path.to_path_buf(), source };
    let raw = File::open(path).map_err(io)?;
    let file_len = raw.metadata().map_err(io)?.len();
    let target = Target::new(path, &raw, file_len, user_block, options);
    let ctx = Ctx { h5, target, compounds: std::cell::Cell::new(0) };
    walk(&ctx, tree);
    Ok(())
}

fn walk(ctx: &Ctx<'_>, g: &mut ModelGroup) {
    let arrays = std::mem::take(&mut g.group.arrays);
    let sources = std::mem::take(&mut g.sources);
    let names: Vec<String> = arrays.iter().map(|a| a.name.clone()).collect();
    for (mut array, source) in arrays.into_iter().zip(sources) {
        let hdf5_path = source.hdf5_path;
        if array.storage == StorageKind::Strings {
            match source.unread_strings {
                Some(reason) if !null_dataspace(&ctx.h5, &hdf5_path) => {
                    leave_out(&mut g.group, ctx.target.path, &hdf5_path, array.name, reason)
                }
                _ => g.group.arrays.push(array),
            }
            continue;
        }
        if array.storage == StorageKind::Ragged {
            let name = array.name.clone();
            let expanded = open_dataset(&ctx.h5, &hdf5_path)
                .and_then(|ds| vlen::expand(&ds, array, &mut g.group, &names));
            if let Err(reason) = expanded {
                leave_out(&mut g.group, ctx.target.path, &hdf5_path, name, reason);
            }
            continue;
        }
        let placed = locate(ctx, &hdf5_path, source.fill_from_storage, &mut array);
        match placed {
            Ok(()) if array.dtype.kind == ElementKind::Compound => {
                let name = array.name.clone();
                if let Err(reason) = expand_compound(ctx, &hdf5_path, array, &mut g.group) {
                    leave_out(&mut g.group, ctx.target.path, &hdf5_path, name, reason)
                }
            }
            Ok(()) => g.group.arrays.push(array),
            Err(reason) => leave_out(&mut g.group, ctx.target.path, &hdf5_path, array.name, reason),
        }
    }
    for child in &mut g.children {
        walk(ctx, child);
    }
}

/// The arrays served for the compound dataset `stored` (placed): its members and the
/// structured array (`super::compound`).
fn expand_compound(
    ctx: &Ctx<'_>,
    hdf5_path: &str,
    stored: ArrayNode,
    group: &mut crate::index::GroupNode,
) -> Result<(), VariableError> {
    let ds = open_dataset(&ctx.h5, hdf5_path)?;
    let id = ctx.compounds.get();
    ctx.compounds.set(id + 1);
    let room = |n| ctx.target.take(n);
    compound::expand(&ds, stored, id, group, ctx.target.path, hdf5_path, &room)
}

/// Has the dataset a null dataspace (no elements at all, h5py's `Empty`)?
fn null_dataspace(h5: &hdf5::File, path: &str) -> bool {
    let space = open_dataset(h5, path).ok().and_then(|ds| ds.space().ok());
    space.is_some_and(|s| s.is_null())
}

fn open_dataset(h5: &hdf5::File, path: &str) -> Result<hdf5::Dataset, VariableError> {
    // netCDF-4 stores a variable that shares a dimension's name without being its coordinate
    // variable under a prefixed name; the unprefixed dataset is then the dimension's scale.
    let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
    let prefixed = format!("{parent}/_nc4_non_coord_{name}");
    let path = if h5.link_exists(&prefixed) { prefixed.as_str() } else { path };
    h5.dataset(path).map_err(|source| VariableError::Hdf5 {
        what: "no HDF5 dataset behind the variable",
        source,
    })
}

fn locate(
    ctx: &Ctx<'_>,
    hdf5_path: &str,
    fill_from_storage: bool,
    array: &mut ArrayNode,
) -> Result<(), VariableError> {
    let ds = open_dataset(&ctx.h5, hdf5_path)?;
    let mut dtype = array.dtype;
    let h5type = ds.dtype().map_err(|source| VariableError::Hdf5 { what: "datatype", source })?;
    if dtype.kind == ElementKind::Compound {
        // placed as stored, one element a compound element; the members are cut out of it
        dtype.size = h5type.size();
    }
    let bits = raw::number_bits(&ds);
    if h5type.size() == 2 && dtype.is_float() && bits == Some((16, 0)) {
        // IEEE half precision, which netCDF-C reports as float: served as it is (`<f2`), as
        // h5py reads it
        dtype.size = 2;
    }
    let nbit_int = matches!(dtype.kind, ElementKind::Int | ElementKind::UInt)
        && bits.is_some_and(|b| b != (8 * h5type.size(), 0));
    if nbit_int && h5type.size() != dtype.size {
        // an N-bit integer wider than the netCDF type reported for its bits (32 bits in 8
        // bytes: netCDF-C says int): served in its own size, as h5py reads it
        dtype.size = h5type.size();
    }
    if h5type.size() != dtype.size {
        let what = format!("HDF5 type has {} bytes, netCDF type {}", h5type.size(), dtype.size);
        return Err(VariableError::Unsupported(what));
    }
    // an N-bit type (fewer bits than its bytes hold, or at an offset): its stored bytes are
    // not the values; libhdf5 converts them
    let converted = dtype.is_number() && bits.is_some_and(|b| b != (8 * dtype.size, 0));
    let compound = dtype.kind == ElementKind::Compound;
    dtype.big_endian =
        !compound && dtype.size > 1 && matches!(h5type.byte_order(), ByteOrder::BigEndian);
    array.dtype = dtype;
    array.fill_element = raw::fill_element(&ds, dtype)?;
    if fill_from_storage {
        array.fill_value = dtype.decode(&array.fill_element);
    }
    if raw::external_count(&ds) > 0 {
        return Err("external storage (data in other files) is not supported".into());
    }
    let h5shape: Vec<u64> = ds.shape().iter().map(|s| *s as u64).collect();
    if h5shape.len() != array.shape.len() {
        let what = format!("HDF5 rank {} differs from netCDF rank", h5shape.len());
        return Err(VariableError::Unsupported(what));
    }
    let rank = h5shape.len();
    let placement = match ds.layout() {
        Layout::Chunked if converted => Placement::Converted {
            chunk: ds.chunk().map(|c| c.iter().map(|x| *x as u64).collect()),
        },
        _ if converted => Placement::Converted { chunk: None },
        Layout::Chunked => Placement::Chunked {
            filters: raw::with_szip_cd_values(&ds, ds.filters()),
            chunk: ds.chunk().map(|c| c.iter().map(|x| *x as u64).collect()),
            entries: Box::new(|| chunk_entries(ctx, &ds, rank)),
        },
        // H5Dget_offset counts from the file's start (user block included), unlike the
        // chunk addresses: make it relative to the superblock like every other address
        Layout::Contiguous => Placement::Contiguous {
            offset: ds.offset().and_then(|o| o.checked_sub(ctx.target.base)),
        },
        Layout::Compact => Placement::Compact { read: Box::new(|n| raw::read_all(&ds, n)) },
        #[allow(unreachable_patterns)]
        _ => return Err("virtual datasets are not supported".into()),
    };
    place(&ctx.target, array, dtype, &h5shape, &ds.name(), placement)
}

/// Every allocated chunk of `ds`: from the B-tree read directly when possible (one pass),
/// otherwise from libhdf5 (`H5Dget_chunk_info`, O(n²) on HDF5 1.10).
fn chunk_entries(
    ctx: &Ctx<'_>,
    ds: &hdf5::Dataset,
    rank: usize,
) -> Result<Vec<ChunkEntry>, VariableError> {
    if let Some(header) = header_addr(ds) {
        let t = &ctx.target;
        match read_chunk_index(t.raw, t.base, header, rank) {
            Ok(Some(entries)) => return Ok(entries),
            Ok(None) => {}
            Err(e) => warn!(file = %t.path.display(), dataset = %ds.name(),
                "chunk B-tree not readable directly ({e}); asking libhdf5"),
        }
    }
    library_entries(ds)
}

/// Direct libhdf5 calls the high-level crate does not offer, under its global lock.
mod raw {
    use hdf5_sys::h5d::{H5Dget_create_plist, H5Dget_type, H5Dread};
    use hdf5_sys::h5p::{H5Pclose, H5Pget_external_count, H5Pget_fill_value, H5P_DEFAULT};
    use hdf5_sys::h5s::H5S_ALL;
    use hdf5_sys::h5t::{H5T_class_t, H5Tclose, H5Tget_class, H5Tget_offset, H5Tget_precision};

    use super::VariableError;
    use crate::index::Dtype;
    use crate::source::library_chunks::served_type;

    /// Precision and offset in bits of an integer or floating-point dataset type (`None` for
    /// other classes).
    pub fn number_bits(ds: &hdf5::Dataset) -> Option<(usize, usize)> {
        let _guard = hdf5_sys::LOCK.lock();
        // SAFETY: the type id is checked and closed.
        unsafe {
            let tid = H5Dget_type(ds.id());
            if tid < 0 {
                return None;
            }
            let class = H5Tget_class(tid);
            let number = matches!(class, H5T_class_t::H5T_INTEGER | H5T_class_t::H5T_FLOAT);
            let (precision, offset) = (H5Tget_precision(tid), H5Tget_offset(tid));
            H5Tclose(tid);
            (number && offset >= 0).then_some((precision, offset as usize))
        }
    }

    /// The dataset's fill value as one element of the served type (the file's type and byte
    /// order, or what an N-bit type's values are converted to).
    pub fn fill_element(ds: &hdf5::Dataset, dtype: Dtype) -> Result<Vec<u8>, VariableError> {
        let mut buf = vec![0u8; dtype.size];
        let _guard = hdf5_sys::LOCK.lock();
        // SAFETY: ids come from a live dataset and are closed here; buf holds one element of
        // the type passed.
        let status = unsafe {
            let dcpl = H5Dget_create_plist(ds.id());
            let file_type = H5Dget_type(ds.id());
            let tid = if file_type >= 0 { served_type(file_type, dtype.big_endian) } else { -1 };
            if file_type >= 0 {
                H5Tclose(file_type);
            }
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
            return Err(VariableError::Hdf5Status("cannot read the dataset's fill value"));
        }
        Ok(buf)
    }

    /// `filters` with an szip filter given all its cd_values, as `User(4, cd_values)` (the
    /// crate's `SZip` keeps only the coding and block size; decoding needs the bit depth,
    /// byte order and scanline HDF5 stored). Left as it is if they cannot be read.
    pub fn with_szip_cd_values(
        ds: &hdf5::Dataset,
        mut filters: Vec<hdf5::filters::Filter>,
    ) -> Vec<hdf5::filters::Filter> {
        use hdf5::filters::Filter;
        let Some(f) = filters.iter_mut().find(|f| matches!(f, Filter::SZip(..))) else {
            return filters;
        };
        if let Some(cd) = crate::source::szip_cd_values(ds) {
            *f = Filter::User(4, cd);
        }
        filters
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
    pub fn read_all(ds: &hdf5::Dataset, nbytes: usize) -> Result<Vec<u8>, VariableError> {
        let mut buf = vec![0u8; nbytes];
        let _guard = hdf5_sys::LOCK.lock();
        // SAFETY: buf has room for every element of the dataset in its file type.
        let status = unsafe {
            let tid = H5Dget_type(ds.id());
            if tid < 0 {
                return Err(VariableError::Hdf5Status("cannot read the dataset's type"));
            }
            let r = H5Dread(ds.id(), tid, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.as_mut_ptr().cast());
            H5Tclose(tid);
            r
        };
        if status < 0 {
            return Err(VariableError::Hdf5Status("cannot read compact data"));
        }
        Ok(buf)
    }
}
