//! HDF5 types with no netCDF counterpart, served as h5py reads them (the pure-HDF5 view,
//! [`super::hdf5_model`]; netCDF-C does not list such datasets):
//!
//! - **bitfield** (`H5T_STD_B8`…`B64`): h5py reads unsigned integers of the same size; the
//!   stored bytes are served as they are (`|u1`, `<u2`, `>u4`, …).
//! - **opaque** (`H5T_OPAQUE`): h5py reads NumPy void `|V<n>`; the stored bytes are served as
//!   `|V<n>` (Zarr v2; v3's `raw_bytes`), which zarr-python 2 and 3 and xarray read as the same
//!   bytes. The opaque tag is kept in the attribute `_cloudify_opaque_tag`.
//! - **object references** (`H5T_STD_REF_OBJ`): h5py reads Reference objects, which mean
//!   nothing outside the file; served as the path of the object each refers to (h5py's
//!   `f[ref].name`, `""` for a null reference), as strings (`vlen-utf8`), with the attribute
//!   `_cloudify_reference: "object"`.
//! - **region references** (`H5T_STD_REF_DSETREG`): a dataset and a selection of it, served as
//!   strings naming both ([`super::region_refs`]), `_cloudify_reference: "region"`.

use super::nc4_strings::{set_strings, MAX_STRING_BYTES};
use super::region_refs::{describe_all, REGION_REFERENCE_SIZE};
use super::VariableError;
use crate::index::{ArrayNode, AttrValue, Dtype, ElementKind};
use hdf5::types::{Reference, TypeDescriptor};
use hdf5::{ObjectReference, ObjectReference1, ReferencedObject};
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::H5S_ALL;
use hdf5_sys::h5t::{H5T_class_t, H5Tget_class, H5Tget_tag};
use std::ffi::CStr;

/// A type this module serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlainType {
    Bitfield,
    Opaque,
    Reference,
}

impl PlainType {
    /// The kind of `t`, if it is one of this module's.
    pub fn of(t: &hdf5::Datatype) -> Option<PlainType> {
        let _guard = hdf5_sys::LOCK.lock();
        // SAFETY: a live datatype id; its class is only compared
        match unsafe { H5Tget_class(t.id()) } {
            H5T_class_t::H5T_BITFIELD => Some(PlainType::Bitfield),
            H5T_class_t::H5T_OPAQUE => Some(PlainType::Opaque),
            H5T_class_t::H5T_REFERENCE => Some(PlainType::Reference),
            _ => None,
        }
    }
}

/// Make `array` (name, shape, dimensions and attributes set) serve dataset `ds` of type `t`
/// and kind `kind`: bitfields and opaque types placed by pass 2 as any number, references
/// read now as strings.
pub fn serve(
    ds: &hdf5::Dataset,
    t: &hdf5::Datatype,
    kind: PlainType,
    array: &mut ArrayNode,
) -> Result<(), VariableError> {
    match kind {
        PlainType::Bitfield => array.dtype = Dtype::le(ElementKind::UInt, t.size()),
        PlainType::Opaque => {
            array.dtype = Dtype::le(ElementKind::Opaque, t.size());
            array.fill_element = vec![0; t.size()];
            if let Some(tag) = opaque_tag(t) {
                array.attrs.push(("_cloudify_opaque_tag".into(), AttrValue::Str(tag)));
            }
        }
        PlainType::Reference => {
            let descriptor = t
                .to_descriptor()
                .map_err(|source| VariableError::Hdf5 { what: "reference type", source })?;
            let (kind, texts) = match descriptor {
                TypeDescriptor::Reference(Reference::Object) => ("object", reference_paths(ds)?),
                TypeDescriptor::Reference(Reference::Region) => ("region", region_texts(ds, t)?),
                _ => return Err(VariableError::Type("reference (of HDF5 1.12's kind)")),
            };
            array.attrs.push(("_cloudify_reference".into(), AttrValue::Str(kind.into())));
            set_strings(array, &texts)?;
        }
    }
    Ok(())
}

/// The string of each region reference of `ds` (of type `t`, row-major).
fn region_texts(ds: &hdf5::Dataset, t: &hdf5::Datatype) -> Result<Vec<String>, VariableError> {
    let count = ds.size();
    if count.saturating_mul(REGION_REFERENCE_SIZE) > MAX_STRING_BYTES {
        return Err(VariableError::StringsTooLarge);
    }
    let mut raw = vec![0u8; count * REGION_REFERENCE_SIZE];
    let status = {
        let _guard = hdf5_sys::LOCK.lock();
        // SAFETY: live ids; `raw` holds `count` elements of the memory type (the dataset's own
        // region-reference type, 12 bytes each)
        unsafe {
            hdf5_sys::h5d::H5Dread(
                ds.id(),
                t.id(),
                H5S_ALL,
                H5S_ALL,
                H5P_DEFAULT,
                raw.as_mut_ptr().cast(),
            )
        }
    };
    if count > 0 && status < 0 {
        return Err(VariableError::Hdf5Status("cannot read region references"));
    }
    describe_all(ds.id(), &raw)
}

/// The tag of an opaque type (`H5Tset_tag`), if it has one.
fn opaque_tag(t: &hdf5::Datatype) -> Option<String> {
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: a live opaque datatype id; the tag libhdf5 allocates is copied, then freed
    unsafe {
        let tag = H5Tget_tag(t.id());
        if tag.is_null() {
            return None;
        }
        let text = CStr::from_ptr(tag).to_string_lossy().into_owned();
        hdf5_sys::h5::H5free_memory(tag.cast());
        (!text.is_empty()).then_some(text)
    }
}

/// The path of the object each reference of `ds` refers to (row-major), `""` for a null or
/// dangling reference.
fn reference_paths(ds: &hdf5::Dataset) -> Result<Vec<String>, VariableError> {
    if ds.size().saturating_mul(8) > MAX_STRING_BYTES {
        return Err(VariableError::StringsTooLarge);
    }
    let refs = ds
        .read_raw::<ObjectReference1>()
        .map_err(|source| VariableError::Hdf5 { what: "reading references", source })?;
    let mut bytes = 0;
    let mut out = Vec::with_capacity(refs.len());
    for r in refs {
        let name = path_of(&r, ds);
        bytes += name.len() + 4;
        if bytes > MAX_STRING_BYTES {
            return Err(VariableError::StringsTooLarge);
        }
        out.push(name);
    }
    Ok(out)
}

/// The path of the object `r` (a reference in a dataset of `file`) refers to, as h5py's
/// `f[ref].name`; `""` for a null or dangling reference.
pub(super) fn path_of(r: &ObjectReference1, file: &hdf5::Dataset) -> String {
    match r.dereference(file) {
        Ok(ReferencedObject::Group(g)) => g.name(),
        Ok(ReferencedObject::Dataset(d)) => d.name(),
        Ok(ReferencedObject::Datatype(t)) => object_name(t.id()),
        Err(_) => String::new(),
    }
}

/// The path of an open object (`H5Iget_name`), `""` if it has none.
pub(super) fn object_name(id: hdf5_sys::h5i::hid_t) -> String {
    let _guard = hdf5_sys::LOCK.lock();
    let mut buf = vec![0u8; 1024];
    // SAFETY: a live object id and a buffer of the size passed; the name is NUL-terminated
    let n = unsafe { hdf5_sys::h5i::H5Iget_name(id, buf.as_mut_ptr().cast(), buf.len()) };
    if n <= 0 {
        return String::new();
    }
    buf.truncate((n as usize).min(buf.len() - 1));
    String::from_utf8_lossy(&buf).into_owned()
}
