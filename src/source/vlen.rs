//! Variable-length sequences of numbers (an HDF5 vlen of integers or floats, netCDF's
//! `NC_VLEN`; netCDF4-python and h5py read them as object arrays of NumPy arrays), served as a
//! CF contiguous ragged array (CF 1.11 §9.3.3): the variable `v` holds every sequence's
//! values end to end along a new dimension `v.values`, and `v.count` (the variable's own
//! dimensions, int32) the length of each sequence, with `sample_dimension` naming `v.values`.
//! Element `i` is `v[sum(count[:i]) : sum(count[:i+1])]` (row-major).
//!
//! Where the group already has an array or dimension named `v.count` or `v.values` (before or
//! after `v`), the pair takes the first free `v.count_<k>` / `v.values_<k>` (k = 1, 2, …, the
//! same k for both); `_cloudify_vlen_count` and `sample_dimension` name the names chosen.
//! A null dataspace (`H5S_NULL`, h5py's `Empty`: no element at all) is served as null strings
//! and numbers are: a scalar `v.count` without a chunk (read as its fill value 0, no
//! sequence values) and `v` of length 0.
//!
//! Why not Zarr v2's `|O` dtype with numcodecs' `vlen-array` filter: zarr-python 3 refuses
//! such metadata and xarray cannot decode the object array, so one such array would make the
//! whole store unreadable for them; the ragged pair reads everywhere (zarr-python 2 and 3,
//! Zarr v3, xarray, NCZarr). Values are read when indexing (libhdf5 converts them to native
//! byte order) and held in the index, bounded as string variables are.

use super::nc4_strings::MAX_STRING_BYTES;
use super::VariableError;
use crate::index::{ArrayNode, AttrValue, ChunkRef, Dtype, ElementKind, GroupNode, StorageKind};
use hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenArray};

/// Suffix of the array of sequence lengths (`v.count`).
pub const COUNT: &str = ".count";
/// Suffix of the dimension the values lie along (`v.values`).
pub const VALUES: &str = ".values";

/// The served element type of the numbers in a vlen type, or why it is not served.
pub fn base_dtype(t: &TypeDescriptor) -> Result<Dtype, VariableError> {
    let TypeDescriptor::VarLenArray(base) = t else {
        return Err("not a variable-length sequence".into());
    };
    let (kind, size) = match base.as_ref() {
        TypeDescriptor::Integer(s) => (ElementKind::Int, *s as usize),
        TypeDescriptor::Unsigned(s) => (ElementKind::UInt, *s as usize),
        TypeDescriptor::Float(FloatSize::U4) => (ElementKind::Float, 4),
        TypeDescriptor::Float(FloatSize::U8) => (ElementKind::Float, 8),
        TypeDescriptor::Enum(e) => {
            (if e.signed { ElementKind::Int } else { ElementKind::UInt }, e.size as usize)
        }
        _ => return Err(VariableError::Type("vlen of a type other than numbers")),
    };
    Ok(Dtype { kind, size, big_endian: cfg!(target_endian = "big") })
}

/// Serve `pending` (a vlen variable: name, shape, dimensions and attributes set, its dtype the
/// numbers' type) from dataset `ds` as the ragged pair, added to `group`; `reserved` names
/// the group's arrays not yet added to it.
pub fn expand(
    ds: &hdf5::Dataset,
    pending: ArrayNode,
    group: &mut GroupNode,
    reserved: &[String],
) -> Result<(), VariableError> {
    let descriptor = ds
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(|source| VariableError::Hdf5 { what: "vlen datatype", source })?;
    let dtype = base_dtype(&descriptor)?;
    let null = ds.space().is_ok_and(|s| s.is_null());
    if null {
        let scalar = ArrayNode { shape: vec![], dims: vec![], ..pending };
        return add_pair(scalar, dtype, &[], vec![], group, reserved);
    }
    let (counts, values) = read(ds, &descriptor)?;
    add_pair(pending, dtype, &counts, values, group, reserved)
}

/// The names of the count array and the values dimension of vlen variable `name`: `name.count`
/// and `name.values`, or the first `_<k>` suffix for which neither is an array or dimension of
/// `group` or in `reserved`.
pub fn pair_names(name: &str, group: &GroupNode, reserved: &[String]) -> (String, String) {
    let free = |n: &str| {
        !group.arrays.iter().any(|a| a.name == n)
            && !group.dimensions.iter().any(|(d, _)| d == n)
            && !reserved.iter().any(|r| r == n)
    };
    (0..)
        .map(|k| match k {
            0 => (format!("{name}{COUNT}"), format!("{name}{VALUES}")),
            k => (format!("{name}{COUNT}_{k}"), format!("{name}{VALUES}_{k}")),
        })
        .find(|(count, values)| free(count) && free(values))
        .expect("a free suffix")
}

/// Add to `group` the ragged pair of `pending` (name, shape, dimensions and attributes set)
/// whose sequences have the lengths `counts` (row-major) and the `values` end to end, of
/// type `dtype`; no count at all for a scalar `pending` is a null dataspace. `reserved`
/// names the group's arrays not yet added to it.
pub fn add_pair(
    pending: ArrayNode,
    dtype: Dtype,
    counts: &[i32],
    values: Vec<u8>,
    group: &mut GroupNode,
    reserved: &[String],
) -> Result<(), VariableError> {
    let (count_name, values_dim) = pair_names(&pending.name, group, reserved);
    let null = counts.is_empty() && pending.shape.is_empty();
    if !null && counts.len() as u64 != pending.shape.iter().product::<u64>() {
        // a null dataspace (h5py's `Empty`) read as no element at all, or a damaged one
        return Err(VariableError::Unsupported(format!(
            "variable-length sequences: {} read for a shape of {:?}",
            counts.len(),
            pending.shape
        )));
    }
    let total = (values.len() / dtype.size) as u64;
    let mut attrs = pending.attrs.clone();
    attrs.push(("_cloudify_vlen_count".into(), AttrValue::Str(count_name.clone())));
    let mut value_array = ArrayNode::unplaced(
        pending.name.clone(),
        dtype,
        vec![total],
        vec![values_dim.clone()],
        pending.fill_value.clone(),
        attrs,
    );
    held(&mut value_array, values);
    let count_attrs = vec![
        (
            "long_name".into(),
            AttrValue::Str(format!("length of each sequence of {}", pending.name)),
        ),
        ("sample_dimension".into(), AttrValue::Str(values_dim.clone())),
    ];
    let count_type = Dtype { kind: ElementKind::Int, size: 4, ..dtype };
    let mut count_array = ArrayNode::unplaced(
        count_name,
        count_type,
        pending.shape.clone(),
        pending.dims.clone(),
        None,
        count_attrs,
    );
    let count_bytes = counts.iter().flat_map(|c| c.to_ne_bytes()).collect();
    held(&mut count_array, count_bytes);
    if null {
        count_array.chunk_refs = vec![None]; // no value: read as the fill value, 0
    }
    group.dimensions.push((values_dim, total));
    group.arrays.push(value_array);
    group.arrays.push(count_array);
    Ok(())
}

/// Make `array` one chunk over its shape holding `bytes` (no chunk file when empty).
fn held(array: &mut ArrayNode, bytes: Vec<u8>) {
    array.chunks = array.shape.iter().map(|s| (*s).max(1)).collect();
    array.storage = StorageKind::Ragged;
    let elements: u64 = array.shape.iter().product();
    array.chunk_refs = if elements == 0 { vec![] } else { vec![Some(ChunkRef::Inline { bytes })] };
}

/// Every sequence of `ds`: their lengths (row-major) and their values end to end, native
/// byte order.
fn read(ds: &hdf5::Dataset, t: &TypeDescriptor) -> Result<(Vec<i32>, Vec<u8>), VariableError> {
    let elements = ds.size() as u64;
    // a vlen element in memory is a length and a pointer
    if elements * 16 > MAX_STRING_BYTES as u64 {
        return Err(TooLarge.into());
    }
    let TypeDescriptor::VarLenArray(base) = t else { unreachable!("checked by base_dtype") };
    macro_rules! read_as {
        ($t:ty) => {{
            let items = ds
                .read_raw::<VarLenArray<$t>>()
                .map_err(|source| VariableError::Hdf5 { what: "reading vlen data", source })?;
            let (mut counts, mut values) = (Vec::with_capacity(items.len()), Vec::new());
            for item in &items {
                counts.push(i32::try_from(item.len()).map_err(|_| TooLarge)?);
                if values.len() + item.len() * std::mem::size_of::<$t>() > MAX_STRING_BYTES {
                    return Err(TooLarge.into());
                }
                values.extend(item.iter().flat_map(|x| x.to_ne_bytes()));
            }
            (counts, values)
        }};
    }
    Ok(match base.as_ref() {
        TypeDescriptor::Integer(IntSize::U1) => read_as!(i8),
        TypeDescriptor::Integer(IntSize::U2) => read_as!(i16),
        TypeDescriptor::Integer(IntSize::U4) => read_as!(i32),
        TypeDescriptor::Integer(IntSize::U8) => read_as!(i64),
        TypeDescriptor::Unsigned(IntSize::U1) => read_as!(u8),
        TypeDescriptor::Unsigned(IntSize::U2) => read_as!(u16),
        TypeDescriptor::Unsigned(IntSize::U4) => read_as!(u32),
        TypeDescriptor::Unsigned(IntSize::U8) => read_as!(u64),
        TypeDescriptor::Float(FloatSize::U4) => read_as!(f32),
        TypeDescriptor::Float(FloatSize::U8) => read_as!(f64),
        TypeDescriptor::Enum(e) => match (e.signed, e.size) {
            (true, IntSize::U1) => read_as!(i8),
            (true, IntSize::U2) => read_as!(i16),
            (true, IntSize::U4) => read_as!(i32),
            (true, IntSize::U8) => read_as!(i64),
            (false, IntSize::U1) => read_as!(u8),
            (false, IntSize::U2) => read_as!(u16),
            (false, IntSize::U4) => read_as!(u32),
            (false, IntSize::U8) => read_as!(u64),
        },
        _ => return Err(VariableError::Type("vlen of a type other than numbers")),
    })
}

/// More values than an index holds.
#[derive(Debug)]
pub(super) struct TooLarge;

impl From<TooLarge> for VariableError {
    fn from(_: TooLarge) -> Self {
        VariableError::Unsupported(format!(
            "variable-length sequences of more than {MAX_STRING_BYTES} bytes in all are not served"
        ))
    }
}
