//! Object-reference members of compound variables (h5py reads `ds['m']` as `Reference`
//! objects): read when indexing by a libhdf5 partial compound read (a memory compound of that
//! one member, in its own reference type), each reference resolved to the path of the object
//! it refers to, served as strings as object-reference variables are
//! ([`super::hdf5_plain_types`]): `vlen-utf8`, `_cloudify_reference: "object"`.

use super::compound_strings::member_type;
use super::hdf5_plain_types::path_of;
use super::nc4_strings::{set_strings, MAX_STRING_BYTES};
use super::VariableError;
use crate::index::{ArrayNode, AttrValue};
use hdf5::ObjectReference1;
use hdf5_sys::h5d::{H5Dget_space, H5Dread};
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5Sclose, H5Sget_simple_extent_npoints, H5S_ALL};
use hdf5_sys::h5t::{H5T_class_t, H5Tclose, H5Tcreate, H5Tget_class, H5Tget_size, H5Tinsert};
use std::ffi::CString;

/// Bytes of an object reference (`hobj_ref_t`); a region reference takes 12.
pub const OBJECT_REFERENCE_SIZE: usize = 8;

/// Make `array` (the member's array: the variable's shape and dimensions) the paths of the
/// objects top-level member `member` of compound dataset `ds` refers to.
pub fn fill(ds: &hdf5::Dataset, member: &str, array: &mut ArrayNode) -> Result<(), VariableError> {
    let count = usize::try_from(array.shape.iter().product::<u64>())
        .ok()
        .filter(|n| n.saturating_mul(OBJECT_REFERENCE_SIZE) <= MAX_STRING_BYTES)
        .ok_or(VariableError::StringsTooLarge)?;
    let refs = read(ds, member, count)?;
    let mut bytes = 0;
    let mut paths = Vec::with_capacity(count);
    for r in &refs {
        let path = path_of(r, ds);
        bytes += path.len() + 4;
        if bytes > MAX_STRING_BYTES {
            return Err(VariableError::StringsTooLarge);
        }
        paths.push(path);
    }
    array.attrs.push(("_cloudify_reference".into(), AttrValue::Str("object".into())));
    set_strings(array, &paths)
}

/// The references of member `member` of every element of `ds` (`count` of them).
fn read(
    ds: &hdf5::Dataset,
    member: &str,
    count: usize,
) -> Result<Vec<ObjectReference1>, VariableError> {
    let name = CString::new(member).map_err(|_| "a member name with a NUL byte")?;
    // SAFETY: an object reference is a plain file address (`hobj_ref_t`): all zeros is the
    // null reference
    let mut refs: Vec<ObjectReference1> =
        (0..count).map(|_| unsafe { std::mem::zeroed() }).collect();
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: every id is checked and closed; `refs` holds `count` elements of the memory type
    // (one 8-byte object reference each; the member's type and the element count checked).
    unsafe {
        let own = member_type(ds, &name);
        let object_ref = own >= 0
            && H5Tget_class(own) == H5T_class_t::H5T_REFERENCE
            && H5Tget_size(own) == OBJECT_REFERENCE_SIZE;
        let mem = H5Tcreate(H5T_class_t::H5T_COMPOUND, OBJECT_REFERENCE_SIZE);
        let space = H5Dget_space(ds.id());
        let ok = object_ref
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
            return Err(VariableError::Hdf5Status("cannot read an object-reference member"));
        }
    }
    Ok(refs)
}
