//! Region references (`H5T_STD_REF_DSETREG`, h5py's `RegionReference`: a dataset and a
//! selection of its elements), served as strings naming both, with the attribute
//! `_cloudify_reference: "region"` (object references: [`super::hdf5_plain_types`]).
//!
//! The string is the referenced dataset's path (h5py's `f[ref].name`) followed by its
//! selection (`h5py.h5r.get_region(ref, f.id)`), every number an element index:
//!
//! - a hyperslab selection: each block as `[start:stop,…]` (stop exclusive, one `start:stop`
//!   per axis, as a NumPy slice), blocks in libhdf5's order, end to end:
//!   `/grp/data[0:2,1:3]`, `/data[0:1][4:6]`;
//! - a point selection: the points in their order, each as its coordinates in parentheses,
//!   in braces: `/data{(0,1),(2,3)}` (one axis: `/data{(1),(3)}`);
//! - the whole dataset: one block over its extent (`/data[0:4]`; a scalar: `/data[]`);
//! - no element: `/data{}`.
//!
//! A null reference (all zero bytes) is `""`, as is one whose dataset cannot be opened.

use super::hdf5_plain_types::object_name;
use super::nc4_strings::MAX_STRING_BYTES;
use super::VariableError;
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5o::H5Oclose;
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5r::{H5R_type_t, H5Rdereference2, H5Rget_region};
use hdf5_sys::h5s::{
    H5S_sel_type, H5Sclose, H5Sget_select_elem_npoints, H5Sget_select_elem_pointlist,
    H5Sget_select_hyper_blocklist, H5Sget_select_hyper_nblocks, H5Sget_select_type,
    H5Sget_simple_extent_dims, H5Sget_simple_extent_ndims,
};
use std::fmt::Write;

/// Bytes of a region reference (`hdset_reg_ref_t`).
pub const REGION_REFERENCE_SIZE: usize = 12;

/// The string of every region reference in `raw` (stored end to end, read from a dataset of
/// the file `loc` is in), bounded as string variables are.
pub fn describe_all(loc: hid_t, raw: &[u8]) -> Result<Vec<String>, VariableError> {
    let mut bytes = 0;
    let mut out = Vec::with_capacity(raw.len() / REGION_REFERENCE_SIZE);
    for r in raw.chunks_exact(REGION_REFERENCE_SIZE) {
        let text = describe(loc, r)?;
        bytes += text.len() + 4;
        if bytes > MAX_STRING_BYTES {
            return Err(VariableError::StringsTooLarge);
        }
        out.push(text);
    }
    Ok(out)
}

/// The string of one region reference `r` (12 bytes), `""` for a null one.
fn describe(loc: hid_t, r: &[u8]) -> Result<String, VariableError> {
    if r.iter().all(|b| *b == 0) {
        return Ok(String::new());
    }
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: `r` holds one region reference (12 bytes, checked by the caller's chunking);
    // every id opened here is closed here
    unsafe {
        let object =
            H5Rdereference2(loc, H5P_DEFAULT, H5R_type_t::H5R_DATASET_REGION, r.as_ptr().cast());
        if object < 0 {
            return Ok(String::new());
        }
        let mut text = object_name(object);
        H5Oclose(object);
        let space = H5Rget_region(loc, H5R_type_t::H5R_DATASET_REGION, r.as_ptr().cast());
        if space < 0 {
            return Err(VariableError::Hdf5Status("cannot read a region reference's selection"));
        }
        let selection = selection(space, &mut text);
        H5Sclose(space);
        selection?;
        Ok(text)
    }
}

/// Append the selection of dataspace `space` to `text` (the module's form).
///
/// # Safety
/// `space` is a valid dataspace id; the library lock is held.
unsafe fn selection(space: hid_t, text: &mut String) -> Result<(), VariableError> {
    let rank = usize::try_from(H5Sget_simple_extent_ndims(space))
        .map_err(|_| VariableError::Hdf5Status("a region reference's dataspace has no rank"))?;
    let too_large = |n: usize| n.saturating_mul(rank.max(1)).saturating_mul(16) > MAX_STRING_BYTES;
    match H5Sget_select_type(space) {
        H5S_sel_type::H5S_SEL_NONE => text.push_str("{}"),
        H5S_sel_type::H5S_SEL_ALL => {
            let mut dims = vec![0u64; rank];
            H5Sget_simple_extent_dims(space, dims.as_mut_ptr(), std::ptr::null_mut());
            let axes: Vec<String> = dims.iter().map(|d| format!("0:{d}")).collect();
            let _ = write!(text, "[{}]", axes.join(","));
        }
        H5S_sel_type::H5S_SEL_HYPERSLABS => {
            let n = usize::try_from(H5Sget_select_hyper_nblocks(space))
                .map_err(|_| VariableError::Hdf5Status("cannot count a region's blocks"))?;
            if too_large(2 * n) {
                return Err(VariableError::StringsTooLarge);
            }
            let mut buf = vec![0u64; 2 * n * rank];
            if n > 0 && H5Sget_select_hyper_blocklist(space, 0, n as u64, buf.as_mut_ptr()) < 0 {
                return Err(VariableError::Hdf5Status("cannot read a region's blocks"));
            }
            push_blocks(text, &buf, rank);
        }
        H5S_sel_type::H5S_SEL_POINTS => {
            let n = usize::try_from(H5Sget_select_elem_npoints(space))
                .map_err(|_| VariableError::Hdf5Status("cannot count a region's points"))?;
            if too_large(n) {
                return Err(VariableError::StringsTooLarge);
            }
            let mut buf = vec![0u64; n * rank];
            if n > 0 && H5Sget_select_elem_pointlist(space, 0, n as u64, buf.as_mut_ptr()) < 0 {
                return Err(VariableError::Hdf5Status("cannot read a region's points"));
            }
            text.push('{');
            for (i, point) in buf.chunks(rank.max(1)).enumerate().take(n) {
                let coords: Vec<String> = point.iter().map(u64::to_string).collect();
                let _ = write!(text, "{}({})", if i > 0 { "," } else { "" }, coords.join(","));
            }
            text.push('}');
        }
        _ => return Err(VariableError::Hdf5Status("a region reference of an unknown selection")),
    }
    Ok(())
}

/// Append each block of `buf` (per block: its first corner, then its last, inclusive) as
/// `[start:stop,…]`.
fn push_blocks(text: &mut String, buf: &[u64], rank: usize) {
    for block in buf.chunks_exact(2 * rank) {
        let (start, last) = block.split_at(rank);
        let axes: Vec<String> =
            start.iter().zip(last).map(|(s, l)| format!("{s}:{}", l + 1)).collect();
        let _ = write!(text, "[{}]", axes.join(","));
    }
}
