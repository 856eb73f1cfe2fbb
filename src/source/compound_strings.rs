//! Members of a compound variable that has variable-length members: the strings' bytes live in
//! the HDF5 global heap, and the stored elements hold heap references whose size is not the
//! type's memory layout, so no member can be cut out of the stored chunks. Each member is read
//! when indexing, as string variables are (`nc4_strings`): one libhdf5 partial compound read
//! (a memory compound type of that one member, in its own file type: a string as a C string
//! pointer, a number in its stored byte order), held in the index as one chunk (`vlen-utf8`
//! for strings), bounded like a string variable.

use super::nc4_strings::{set_strings, MAX_STRING_BYTES};
use super::VariableError;
use crate::index::cut_at_first_nul;
use crate::index::{ArrayNode, ChunkRef, StorageKind};
use hdf5_sys::h5d::{H5Dget_space, H5Dget_type, H5Dread, H5Dvlen_reclaim};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5Sclose, H5Sget_simple_extent_npoints, H5S_ALL};
use hdf5_sys::h5t::{
    H5T_class_t, H5T_str_t, H5Tclose, H5Tcreate, H5Tget_class, H5Tget_member_index,
    H5Tget_member_type, H5Tget_size, H5Tget_strpad, H5Tget_super, H5Tinsert, H5Tis_variable_str,
};
use std::ffi::{c_char, CStr, CString};

/// Fill `array` (the member's array, shape set) with the strings of top-level member `member`
/// of compound dataset `ds`.
pub fn fill(ds: &hdf5::Dataset, member: &str, array: &mut ArrayNode) -> Result<(), VariableError> {
    let count = usize::try_from(array.shape.iter().product::<u64>())
        .map_err(|_| VariableError::StringsTooLarge)?;
    if count as u64 * std::mem::size_of::<usize>() as u64 > MAX_STRING_BYTES as u64 {
        return Err(VariableError::StringsTooLarge);
    }
    let strings = read(ds, member, count)?;
    if strings.iter().map(|s| s.len() as u64 + 4).sum::<u64>() > MAX_STRING_BYTES as u64 {
        return Err(VariableError::StringsTooLarge);
    }
    set_strings(array, &strings)
}

/// Fill `array` (the member's array: its type, shape with trailing array dimensions, and
/// dimensions set) with the values of the fixed-size top-level member `member` of `ds`;
/// `null_terminated` strings end at their first NUL ([`null_terminated`]).
pub fn fill_fixed(
    ds: &hdf5::Dataset,
    member: &str,
    null_terminated: bool,
    array: &mut ArrayNode,
) -> Result<(), VariableError> {
    let nbytes = array
        .shape
        .iter()
        .try_fold(array.dtype.size as u64, |n, d| n.checked_mul(*d))
        .filter(|n| *n <= MAX_STRING_BYTES as u64)
        .ok_or_else(|| {
            VariableError::Unsupported(format!(
                "member of a compound with variable-length members larger than \
                 {MAX_STRING_BYTES} bytes"
            ))
        })?;
    let mut bytes = read_member(ds, member, nbytes as usize)?;
    if null_terminated {
        cut_at_first_nul(&mut bytes, array.dtype.size);
    }
    array.chunks = array.shape.iter().map(|s| (*s).max(1)).collect();
    array.codecs = vec![];
    array.storage = StorageKind::Compact;
    array.fill_element = vec![0; array.dtype.size];
    array.chunk_refs = vec![(nbytes > 0).then_some(ChunkRef::Inline { bytes })];
    Ok(())
}

/// Is `tid` a null-terminated fixed-length string type (`H5T_STR_NULLTERM`), or an array of
/// them? libhdf5 ends such a string at its first NUL when it converts it to NumPy's
/// null-padded strings, so h5py reads `b"ab"` from a stored `ab\0cd` (a null-padded or
/// space-padded one is read whole). netCDF4-python misreads fixed-length string members
/// altogether, so h5py is the reference.
///
/// # Safety
/// `tid` is a valid datatype id; the library lock is held.
pub unsafe fn null_terminated(tid: hid_t) -> bool {
    match H5Tget_class(tid) {
        H5T_class_t::H5T_STRING => {
            H5Tis_variable_str(tid) == 0 && H5Tget_strpad(tid) == H5T_str_t::H5T_STR_NULLTERM
        }
        H5T_class_t::H5T_ARRAY => {
            let base = H5Tget_super(tid);
            let cut = base >= 0 && null_terminated(base);
            if base >= 0 {
                H5Tclose(base);
            }
            cut
        }
        _ => false,
    }
}

/// Every value of member `member` of `ds` (`nbytes` in all), in the member's own type.
fn read_member(ds: &hdf5::Dataset, member: &str, nbytes: usize) -> Result<Vec<u8>, VariableError> {
    let name = CString::new(member).map_err(|_| "a member name with a NUL byte")?;
    let mut buf = vec![0u8; nbytes];
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: every id is checked and closed; `buf` holds every element of the memory type,
    // whose size is the member's (checked against `nbytes` by the caller's shape).
    unsafe {
        let own = member_type(ds, &name);
        let size = if own >= 0 { H5Tget_size(own) } else { 0 };
        let mem = if size > 0 { H5Tcreate(H5T_class_t::H5T_COMPOUND, size) } else { -1 };
        let count = nbytes.checked_div(size).unwrap_or(0);
        // the buffer must hold every element the dataset has, whatever its shape was said to be
        let ok = mem >= 0
            && count * size == nbytes
            && elements(ds) == Some(count as u64)
            && H5Tinsert(mem, name.as_ptr(), 0, own) >= 0
            && H5Dread(ds.id(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.as_mut_ptr().cast()) >= 0;
        for id in [mem, own] {
            if id >= 0 {
                H5Tclose(id);
            }
        }
        if !ok {
            return Err(VariableError::Hdf5Status("cannot read a member of a compound"));
        }
    }
    Ok(buf)
}

/// The number of elements of the dataset's dataspace.
///
/// # Safety
/// The library lock is held.
unsafe fn elements(ds: &hdf5::Dataset) -> Option<u64> {
    let space = H5Dget_space(ds.id());
    if space < 0 {
        return None;
    }
    let n = H5Sget_simple_extent_npoints(space);
    H5Sclose(space);
    u64::try_from(n).ok()
}

fn read(ds: &hdf5::Dataset, member: &str, count: usize) -> Result<Vec<String>, VariableError> {
    let name = CString::new(member).map_err(|_| "a member name with a NUL byte")?;
    let mut ptrs: Vec<*mut c_char> = vec![std::ptr::null_mut(); count];
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: every id is checked and closed; `ptrs` holds `count` elements of the memory type
    // (one pointer each); the strings libhdf5 allocated are copied, then reclaimed by it.
    unsafe {
        // the member's own string type (its character set: libhdf5 converts none between
        // ASCII and UTF-8), held in memory as a C string pointer
        let string = member_type(ds, &name);
        let mem = H5Tcreate(H5T_class_t::H5T_COMPOUND, std::mem::size_of::<*mut c_char>());
        let space = H5Dget_space(ds.id());
        let ok = string >= 0
            && mem >= 0
            && space >= 0
            && H5Sget_simple_extent_npoints(space) == count as i64
            && H5Tis_variable_str(string) > 0
            && H5Tinsert(mem, name.as_ptr(), 0, string) >= 0;
        let read = ok
            && H5Dread(ds.id(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.as_mut_ptr().cast()) >= 0;
        let strings = read.then(|| {
            ptrs.iter()
                .map(|p| {
                    if p.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(*p).to_string_lossy().into_owned()
                    }
                })
                .collect::<Vec<String>>()
        });
        if read {
            H5Dvlen_reclaim(mem, space, H5P_DEFAULT, ptrs.as_mut_ptr().cast());
        }
        for (id, close) in [
            (space, H5Sclose as unsafe extern "C" fn(i64) -> i32),
            (mem, H5Tclose),
            (string, H5Tclose),
        ] {
            if id >= 0 {
                close(id);
            }
        }
        strings.ok_or(VariableError::Hdf5Status("cannot read a variable-length string member"))
    }
}

/// The file type of member `name` of compound dataset `ds` (the caller closes it), or a
/// negative id when the dataset's type or the member cannot be had.
///
/// # Safety
/// libhdf5 calls: the caller holds `hdf5_sys::LOCK`.
pub(super) unsafe fn member_type(ds: &hdf5::Dataset, name: &CStr) -> hdf5_sys::h5i::hid_t {
    let file_type = H5Dget_type(ds.id());
    let index = if file_type >= 0 { H5Tget_member_index(file_type, name.as_ptr()) } else { -1 };
    let own = if index >= 0 { H5Tget_member_type(file_type, index as u32) } else { -1 };
    if file_type >= 0 {
        H5Tclose(file_type);
    }
    own
}
