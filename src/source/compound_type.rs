//! A compound variable's HDF5 type read with libhdf5 and flattened into leaves: each leaf
//! member's dotted name, offset, element type and array shape (or why it cannot be served),
//! whether it is a variable-length string or sequence, a reference, a null-terminated string.
//! `compound.rs` turns the leaves into served arrays.

use super::compound_refs;
use super::compound_strings;
use super::VariableError;
use crate::index::{Dtype, ElementKind};
use hdf5_sys::h5::H5free_memory;
use hdf5_sys::h5d::H5Dget_type;
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5t::{
    H5T_class_t, H5T_order_t, H5T_sign_t, H5Tclose, H5Tget_array_dims2, H5Tget_array_ndims,
    H5Tget_class, H5Tget_member_name, H5Tget_member_offset, H5Tget_member_type, H5Tget_nmembers,
    H5Tget_offset, H5Tget_order, H5Tget_precision, H5Tget_sign, H5Tget_size, H5Tget_super,
    H5Tis_variable_str,
};
use std::ffi::CStr;

/// Nested compounds deeper than this are not followed (a member left out).
const MAX_DEPTH: usize = 8;

/// One leaf member of a compound type, or why it cannot be served.
pub struct Leaf {
    /// Dotted path below the variable (`m`, `outer.inner`).
    pub name: String,
    pub offset: u64,
    /// Its element type (byte order as stored) and array shape; or the reason it is left out.
    pub kind: Result<(Dtype, Vec<u64>), String>,
    /// Inside a nested compound.
    pub nested: bool,
    /// A variable-length string (its bytes are in the global heap, not in the element).
    pub vlen_string: bool,
    /// Variable-length (a string or a sequence): the stored element is not the type's layout.
    pub variable: bool,
    /// An object or region reference: its size (served as strings, read when indexing).
    pub reference: Option<usize>,
    /// Null-terminated fixed-length strings (cut at the first NUL, as h5py reads them).
    pub null_terminated: bool,
}

impl Leaf {
    /// A member of a nested compound left out for `why`.
    fn refused(name: String, offset: u64, why: &str) -> Leaf {
        Leaf {
            name,
            offset,
            kind: Err(why.to_string()),
            nested: true,
            vlen_string: false,
            variable: false,
            reference: None,
            null_terminated: false,
        }
    }
}

/// The members of the compound type of dataset `ds`, flattened.
pub fn leaves(ds: &hdf5::Dataset) -> Result<Vec<Leaf>, VariableError> {
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: every id is checked and closed; names are freed with H5free_memory.
    unsafe {
        let tid = H5Dget_type(ds.id());
        if tid < 0 {
            return Err(VariableError::Hdf5Status("cannot read the dataset's type"));
        }
        let mut out = Vec::new();
        let walked = walk(tid, "", 0, 0, &mut out);
        H5Tclose(tid);
        walked.map(|()| out)
    }
}

/// # Safety
/// `tid` is a valid compound type id; the library lock is held.
unsafe fn walk(
    tid: hid_t,
    prefix: &str,
    base: u64,
    depth: usize,
    out: &mut Vec<Leaf>,
) -> Result<(), VariableError> {
    let n = H5Tget_nmembers(tid);
    if n < 0 {
        return Err(VariableError::Hdf5Status("cannot read the compound type's members"));
    }
    for i in 0..n as u32 {
        let raw = H5Tget_member_name(tid, i);
        if raw.is_null() {
            return Err(VariableError::Hdf5Status("cannot read a compound member's name"));
        }
        let name = CStr::from_ptr(raw).to_string_lossy().into_owned();
        H5free_memory(raw.cast());
        let name = format!("{prefix}{name}");
        let offset = base + H5Tget_member_offset(tid, i) as u64;
        let mtid = H5Tget_member_type(tid, i);
        if mtid < 0 {
            return Err(VariableError::Hdf5Status("cannot read a compound member's type"));
        }
        let nested = depth > 0;
        if H5Tget_class(mtid) == H5T_class_t::H5T_COMPOUND {
            let r = if depth + 1 >= MAX_DEPTH {
                out.push(Leaf::refused(name, offset, "nested too deep"));
                Ok(())
            } else {
                walk(mtid, &format!("{name}."), offset, depth + 1, out)
            };
            H5Tclose(mtid);
            r?;
            continue;
        }
        let kind = leaf_type(mtid);
        let vlen_string =
            H5Tget_class(mtid) == H5T_class_t::H5T_STRING && H5Tis_variable_str(mtid) > 0;
        let variable = vlen_string || H5Tget_class(mtid) == H5T_class_t::H5T_VLEN;
        let reference = (H5Tget_class(mtid) == H5T_class_t::H5T_REFERENCE)
            .then(|| H5Tget_size(mtid))
            .filter(|size| compound_refs::served_size(*size));
        let null_terminated = compound_strings::null_terminated(mtid);
        H5Tclose(mtid);
        out.push(Leaf {
            name,
            offset,
            kind,
            nested,
            vlen_string,
            variable,
            reference,
            null_terminated,
        });
    }
    Ok(())
}

/// The element type and shape of a member that is not itself a compound.
///
/// # Safety
/// `tid` is a valid type id; the library lock is held.
unsafe fn leaf_type(tid: hid_t) -> Result<(Dtype, Vec<u64>), String> {
    if H5Tget_class(tid) != H5T_class_t::H5T_ARRAY {
        return scalar_type(tid).map(|d| (d, vec![]));
    }
    let rank = H5Tget_array_ndims(tid);
    if !(1..=32).contains(&rank) {
        return Err("an array member of unreadable rank".into());
    }
    let mut dims = vec![0u64; rank as usize];
    let base = H5Tget_super(tid);
    if H5Tget_array_dims2(tid, dims.as_mut_ptr()) < 0 || base < 0 {
        if base >= 0 {
            H5Tclose(base);
        }
        return Err("an array member whose shape cannot be read".into());
    }
    let d = if H5Tget_class(base) == H5T_class_t::H5T_COMPOUND {
        Err("an array of compounds".to_string())
    } else {
        scalar_type(base)
    };
    H5Tclose(base);
    Ok((d?, dims))
}

/// A number, enum (its base integer) or fixed-width string member.
///
/// # Safety
/// `tid` is a valid type id; the library lock is held.
unsafe fn scalar_type(tid: hid_t) -> Result<Dtype, String> {
    let size = H5Tget_size(tid);
    let class = H5Tget_class(tid);
    match class {
        H5T_class_t::H5T_INTEGER | H5T_class_t::H5T_FLOAT => {
            let full = H5Tget_precision(tid) == 8 * size && H5Tget_offset(tid) == 0;
            if !full {
                return Err("an N-bit member (fewer bits than its bytes)".into());
            }
            let kind = if class == H5T_class_t::H5T_FLOAT {
                if ![2, 4, 8].contains(&size) {
                    return Err(format!("a float member of {size} bytes"));
                }
                ElementKind::Float
            } else if H5Tget_sign(tid) == H5T_sign_t::H5T_SGN_NONE {
                ElementKind::UInt
            } else {
                ElementKind::Int
            };
            if !(1..=8).contains(&size) {
                return Err(format!("a number member of {size} bytes"));
            }
            let big_endian = size > 1 && H5Tget_order(tid) == H5T_order_t::H5T_ORDER_BE;
            Ok(Dtype { kind, size, big_endian })
        }
        H5T_class_t::H5T_ENUM => {
            let base = H5Tget_super(tid);
            if base < 0 {
                return Err("an enum member whose base type cannot be read".into());
            }
            let d = scalar_type(base);
            H5Tclose(base);
            d
        }
        H5T_class_t::H5T_STRING if H5Tis_variable_str(tid) > 0 => {
            Err("a variable-length string member (not stored in the element)".into())
        }
        H5T_class_t::H5T_STRING if size > 0 => Ok(Dtype::le(ElementKind::Char, size)),
        H5T_class_t::H5T_VLEN => Err("a variable-length member (not stored in the element)".into()),
        H5T_class_t::H5T_REFERENCE if compound_refs::served_size(size) => {
            Err("a reference member".into())
        }
        H5T_class_t::H5T_REFERENCE => Err(format!("a reference member of {size} bytes")),
        // h5py reads NumPy void `V<n>` (served as `|V<n>`, never in a structured array)
        H5T_class_t::H5T_OPAQUE if size > 0 => Ok(Dtype::le(ElementKind::Opaque, size)),
        // h5py reads unsigned integers of the same size
        H5T_class_t::H5T_BITFIELD if (1..=8).contains(&size) => {
            let big_endian = size > 1 && H5Tget_order(tid) == H5T_order_t::H5T_ORDER_BE;
            Ok(Dtype { kind: ElementKind::UInt, size, big_endian })
        }
        H5T_class_t::H5T_OPAQUE => Err("an opaque member of no bytes".into()),
        H5T_class_t::H5T_BITFIELD => Err(format!("a bitfield member of {size} bytes")),
        _ => Err("a member of an unknown type class".into()),
    }
}
