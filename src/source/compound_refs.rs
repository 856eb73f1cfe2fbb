//! Reference members of compound variables (h5py reads `ds['m']` as `Reference` or
//! `RegionReference` objects): read when indexing by a libhdf5 partial compound read (a memory
//! compound of that one member, in its own reference type), each reference resolved to the
//! path of the object it refers to (object references, [`super::hdf5_plain_types`]) or to the
//! path and selection of the region ([`super::region_refs`]), served as strings as reference
//! variables are: `vlen-utf8`, `_cloudify_reference: "object"` or `"region"`.

use super::compound_strings::member_type;
use super::hdf5_plain_types::path_of;
use super::nc4_strings::{set_strings, MAX_STRING_BYTES};
use super::region_refs::{describe_all, REGION_REFERENCE_SIZE};
use super::VariableError;
use crate::index::{ArrayNode, AttrValue};
use hdf5::ObjectReference1;
use hdf5_sys::h5d::{H5Dget_space, H5Dread};
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5Sclose, H5Sget_simple_extent_npoints, H5S_ALL};
use hdf5_sys::h5t::{H5T_class_t, H5Tclose, H5Tcreate, H5Tget_class, H5Tget_size, H5Tinsert};
use std::ffi::CString;

/// Bytes of an object reference (`hobj_ref_t`).
pub const OBJECT_REFERENCE_SIZE: usize = 8;

/// Is a reference type of `size` bytes one this module serves (object or region)?
pub fn served_size(size: usize) -> bool {
    size == OBJECT_REFERENCE_SIZE || size == REGION_REFERENCE_SIZE
}

/// Make `array` (the member's array: the variable's shape and dimensions) the strings of the
/// references in top-level member `member` (of `size` bytes: an object or a region reference)
/// of compound dataset `ds`.
pub fn fill(
    ds: &hdf5::Dataset,
    member: &str,
    size: usize,
    array: &mut ArrayNode,
) -> Result<(), VariableError> {
    let count = usize::try_from(array.shape.iter().product::<u64>())
        .ok()
        .filter(|n| n.saturating_mul(size) <= MAX_STRING_BYTES && served_size(size))
        .ok_or(VariableError::StringsTooLarge)?;
    let raw = read(ds, member, size, count)?;
    let (kind, texts) = if size == REGION_REFERENCE_SIZE {
        ("region", describe_all(ds.id(), &raw)?)
    } else {
        let mut bytes = 0;
        let mut paths = Vec::with_capacity(count);
        for r in raw.chunks_exact(OBJECT_REFERENCE_SIZE) {
            let address = u64::from_ne_bytes(r.try_into().expect("8 bytes"));
            // SAFETY: an object reference is a plain file address (`hobj_ref_t`)
            let r: ObjectReference1 = unsafe { std::mem::transmute(address) };
            let path = path_of(&r, ds);
            bytes += path.len() + 4;
            if bytes > MAX_STRING_BYTES {
                return Err(VariableError::StringsTooLarge);
            }
            paths.push(path);
        }
        ("object", paths)
    };
    array.attrs.push(("_cloudify_reference".into(), AttrValue::Str(kind.into())));
    set_strings(array, &texts)
}

/// The references (`size` bytes each) of member `member` of every element of `ds` (`count`
/// of them), end to end.
fn read(
    ds: &hdf5::Dataset,
    member: &str,
    size: usize,
    count: usize,
) -> Result<Vec<u8>, VariableError> {
    let name = CString::new(member).map_err(|_| "a member name with a NUL byte")?;
    let mut refs = vec![0u8; count * size];
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: every id is checked and closed; `refs` holds `count` elements of the memory type
    // (one reference of `size` bytes each; the member's type and the element count checked).
    unsafe {
        let own = member_type(ds, &name);
        let reference =
            own >= 0 && H5Tget_class(own) == H5T_class_t::H5T_REFERENCE && H5Tget_size(own) == size;
        let mem = H5Tcreate(H5T_class_t::H5T_COMPOUND, size);
        let space = H5Dget_space(ds.id());
        let ok = reference
            && mem >= 0
            && space >= 0
            && H5Sget_simple_extent_npoints(space) == count as i64
            && H5Tinsert(mem, name.as_ptr(), 0, own) >= 0
            && H5Dread(ds.id(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, refs.as_mut_ptr().cast()) >= 0;
        if space >= 0 {
            H5Sclose(space);
        }
        for id in [mem, own] {
            if id >= 0 {
                H5Tclose(id);
            }
        }
        if !ok {
            return Err(VariableError::Hdf5Status("cannot read a reference member"));
        }
    }
    Ok(refs)
}
