//! String values of HDF5 datasets and attributes read with libhdf5 alone, as h5py reads them,
//! for the pure-HDF5 view ([`super::hdf5_model`], [`super::hdf5_attrs`]).
//!
//! Variable-length strings (ASCII or UTF-8) are read as they are. A fixed-length string is
//! read as h5py reads it into a NumPy `S<n>` array: converted by libhdf5 to the null-padded
//! string type of the same size and character set (so a space-padded string loses its
//! trailing spaces and a null-terminated one ends at its first NUL), then cut after its last
//! non-NUL byte (NumPy's rule; a NUL inside the string stays). Bytes that are not UTF-8 are
//! replaced with U+FFFD, as the netCDF-C path's strings are (`to_string_lossy`). A null
//! dataspace (`H5S_NULL`, h5py's `Empty`) holds no string at all.

use super::nc4_strings::MAX_STRING_BYTES;
use super::VariableError;
use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::Container;
use hdf5_sys::h5i::{H5I_type_t, H5Iget_type};
use hdf5_sys::h5s::H5S_ALL;
use hdf5_sys::h5t::{H5T_str_t, H5Tclose, H5Tcopy, H5Tset_strpad};

/// Is `t` a string type the view serves as strings? A fixed-length string of one byte is
/// not: netCDF-C and so this view read it as a char array (`|S1`).
pub fn is_string(t: &TypeDescriptor) -> bool {
    match t {
        TypeDescriptor::VarLenAscii | TypeDescriptor::VarLenUnicode => true,
        TypeDescriptor::FixedAscii(n) | TypeDescriptor::FixedUnicode(n) => *n > 1,
        _ => false,
    }
}

/// The strings of `obj` (a dataset or an attribute of string type `t`, row-major), as long
/// as they come to at most [`MAX_STRING_BYTES`] (4 bytes counted per string, as the
/// `vlen-utf8` encoding takes them).
pub fn read_strings(obj: &Container, t: &TypeDescriptor) -> Result<Vec<String>, VariableError> {
    let failed = |source| VariableError::Hdf5 { what: "strings", source };
    let count = obj.space().map_err(failed)?.size();
    if count.saturating_mul(4) > MAX_STRING_BYTES {
        return Err(VariableError::StringsTooLarge);
    }
    let strings: Vec<String> = match t {
        TypeDescriptor::VarLenUnicode => {
            let v = obj.read_raw::<VarLenUnicode>().map_err(failed)?;
            v.iter().map(|s| lossy(s.as_bytes())).collect()
        }
        TypeDescriptor::VarLenAscii => {
            let v = obj.read_raw::<VarLenAscii>().map_err(failed)?;
            v.iter().map(|s| lossy(s.as_bytes())).collect()
        }
        _ => read_fixed(obj, count)?,
    };
    let bytes: usize = strings.iter().map(|s| s.len() + 4).sum();
    if bytes > MAX_STRING_BYTES {
        return Err(VariableError::StringsTooLarge);
    }
    Ok(strings)
}

/// Fixed-length strings: `count` elements read as null-padded strings of the stored size.
fn read_fixed(obj: &Container, count: usize) -> Result<Vec<String>, VariableError> {
    let file_type =
        obj.dtype().map_err(|source| VariableError::Hdf5 { what: "strings", source })?;
    let size = file_type.size();
    if count == 0 || size == 0 {
        return Ok(vec![]);
    }
    // the stored bytes may be mostly padding: read them if they are not much more than kept
    let total = size.checked_mul(count).filter(|t| *t <= 4 * MAX_STRING_BYTES);
    let total = total.ok_or(VariableError::StringsTooLarge)?;
    let mut buf = vec![0u8; total];
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: a live datatype id copied into a type we close; a live dataset or attribute id;
    // `buf` holds `count` elements of `size` bytes, the memory type's size (same as stored).
    let status = unsafe {
        let mem = H5Tcopy(file_type.id());
        if mem < 0 {
            return Err(VariableError::Hdf5Status("H5Tcopy failed"));
        }
        let mut status = H5Tset_strpad(mem, H5T_str_t::H5T_STR_NULLPAD);
        if status >= 0 {
            status = if H5Iget_type(obj.id()) == H5I_type_t::H5I_ATTR {
                hdf5_sys::h5a::H5Aread(obj.id(), mem, buf.as_mut_ptr().cast())
            } else {
                let plist = hdf5_sys::h5p::H5P_DEFAULT;
                let out = buf.as_mut_ptr().cast();
                hdf5_sys::h5d::H5Dread(obj.id(), mem, H5S_ALL, H5S_ALL, plist, out)
            };
        }
        H5Tclose(mem);
        status
    };
    if status < 0 {
        return Err(VariableError::Hdf5Status("reading fixed-length strings failed"));
    }
    Ok(buf.chunks_exact(size).map(|b| lossy(trim_nuls(b))).collect())
}

/// `b` up to its last non-NUL byte (NumPy's reading of an `S<n>` element).
fn trim_nuls(b: &[u8]) -> &[u8] {
    &b[..b.iter().rposition(|c| *c != 0).map_or(0, |p| p + 1)]
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_nuls_go_inner_ones_stay() {
        assert_eq!(trim_nuls(b"ab\0cd\0\0"), b"ab\0cd");
        assert_eq!(trim_nuls(b"\0\0"), b"");
        assert_eq!(trim_nuls(b"ab  "), b"ab  ");
    }
}
