//! Members of a compound variable that are variable-length sequences of numbers (an HDF5
//! vlen member; h5py reads `ds['m']` as an object array of NumPy arrays): read when indexing
//! by a libhdf5 partial compound read (a memory compound of that one member, a vlen of the
//! numbers' native type), and served as the CF contiguous ragged pair `v.m` + `v.m.count`
//! that [`super::vlen`] serves for vlen variables.

use super::compound_strings::member_type;
use super::vlen::{self, TooLarge};
use super::VariableError;
use crate::index::{ArrayNode, Dtype, ElementKind, GroupNode};
use hdf5_sys::h5d::{H5Dget_space, H5Dread, H5Dvlen_reclaim};
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5Sclose, H5Sget_simple_extent_npoints, H5S_ALL};
use hdf5_sys::h5t::{
    hvl_t, H5T_class_t, H5T_direction_t, H5T_sign_t, H5Tclose, H5Tcreate, H5Tget_class,
    H5Tget_native_type, H5Tget_sign, H5Tget_size, H5Tget_super, H5Tinsert, H5Tvlen_create,
};
use std::ffi::CString;

/// Add the ragged pair of top-level vlen member `member` of compound dataset `ds` to `group`;
/// `pending` is the member's array (name `v.m`, the variable's shape, dimensions, attributes).
pub fn add(
    ds: &hdf5::Dataset,
    member: &str,
    pending: ArrayNode,
    group: &mut GroupNode,
) -> Result<(), VariableError> {
    let count = pending.shape.iter().product::<u64>();
    if count * std::mem::size_of::<hvl_t>() as u64 > super::nc4_strings::MAX_STRING_BYTES as u64 {
        return Err(TooLarge.into());
    }
    let (dtype, counts, values) = read(ds, member, count as usize)?;
    vlen::add_pair(pending, dtype, &counts, values, group, &[])
}

/// The numbers' type, each sequence's length and every value end to end (native order).
fn read(
    ds: &hdf5::Dataset,
    member: &str,
    count: usize,
) -> Result<(Dtype, Vec<i32>, Vec<u8>), VariableError> {
    let name = CString::new(member).map_err(|_| "a member name with a NUL byte")?;
    let mut seqs = vec![hvl_t { len: 0, p: std::ptr::null_mut() }; count];
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: every id is checked and closed; `seqs` holds `count` elements of the memory
    // type (one hvl_t each, the dataset's element count checked); the sequences libhdf5
    // allocated are copied within their lengths, then reclaimed by it.
    unsafe {
        let own = member_type(ds, &name);
        let is_vlen = own >= 0 && H5Tget_class(own) == H5T_class_t::H5T_VLEN;
        let base = if is_vlen { H5Tget_super(own) } else { -1 };
        let native =
            if base >= 0 { H5Tget_native_type(base, H5T_direction_t::H5T_DIR_DEFAULT) } else { -1 };
        let dtype = if native >= 0 { number_type(native) } else { None };
        let seq = if dtype.is_some() { H5Tvlen_create(native) } else { -1 };
        let mem = H5Tcreate(H5T_class_t::H5T_COMPOUND, std::mem::size_of::<hvl_t>());
        let space = H5Dget_space(ds.id());
        let ok = seq >= 0
            && mem >= 0
            && space >= 0
            && H5Sget_simple_extent_npoints(space) == count as i64
            && H5Tinsert(mem, name.as_ptr(), 0, seq) >= 0;
        let read = ok
            && H5Dread(ds.id(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, seqs.as_mut_ptr().cast()) >= 0;
        let out = match dtype {
            Some(dtype) if read => copy(&seqs, dtype).map(|(c, v)| (dtype, c, v)),
            None if is_vlen => Err("a variable-length member of other than numbers".into()),
            _ => Err(VariableError::Hdf5Status("cannot read a variable-length member")),
        };
        if read {
            H5Dvlen_reclaim(mem, space, H5P_DEFAULT, seqs.as_mut_ptr().cast());
        }
        if space >= 0 {
            H5Sclose(space);
        }
        for id in [mem, seq, native, base, own] {
            if id >= 0 {
                H5Tclose(id);
            }
        }
        if own >= 0 && !is_vlen {
            return Err("not a variable-length member".into());
        }
        out
    }
}

/// The served type of a native integer or float type, if it is one.
///
/// # Safety
/// `tid` is a valid type id; the library lock is held.
unsafe fn number_type(tid: hdf5_sys::h5i::hid_t) -> Option<Dtype> {
    let size = H5Tget_size(tid);
    let kind = match H5Tget_class(tid) {
        H5T_class_t::H5T_FLOAT if size == 4 || size == 8 => ElementKind::Float,
        H5T_class_t::H5T_INTEGER if H5Tget_sign(tid) == H5T_sign_t::H5T_SGN_NONE => {
            ElementKind::UInt
        }
        H5T_class_t::H5T_INTEGER => ElementKind::Int,
        _ => return None,
    };
    (1..=8).contains(&size).then_some(Dtype { kind, size, big_endian: cfg!(target_endian = "big") })
}

/// The lengths and values of the sequences libhdf5 read.
///
/// # Safety
/// Each sequence points at `len` elements of `dtype` (or is empty).
unsafe fn copy(seqs: &[hvl_t], dtype: Dtype) -> Result<(Vec<i32>, Vec<u8>), VariableError> {
    let mut counts = Vec::with_capacity(seqs.len());
    let mut values = Vec::new();
    for s in seqs {
        counts.push(i32::try_from(s.len).map_err(|_| TooLarge)?);
        let n = s.len * dtype.size;
        if values.len() + n > super::nc4_strings::MAX_STRING_BYTES {
            return Err(TooLarge.into());
        }
        if n > 0 {
            if s.p.is_null() {
                return Err(VariableError::Hdf5Status("a variable-length member without values"));
            }
            values.extend_from_slice(std::slice::from_raw_parts(s.p.cast::<u8>(), n));
        }
    }
    Ok((counts, values))
}
