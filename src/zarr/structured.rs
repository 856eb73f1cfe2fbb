//! Structured arrays (a compound variable served as one array of records, beside its
//! members `v.m`) are in a store only on request (`--structured-arrays`): netCDF-C 4.9.0's
//! NCZarr (`ncdump "file://…#mode=zarr,file"`, and so CDO and Fortran models) dies with a
//! segmentation fault on a store that holds one, and a member array per field serves every
//! value anyway. A view-time choice, like the chunk mode: the index holds them either way.

use crate::index::{DatasetIndex, ElementKind, GroupNode};

/// `index` without its structured arrays.
pub fn hide(index: &mut DatasetIndex) {
    hide_group(&mut index.root);
}

fn hide_group(g: &mut GroupNode) {
    g.arrays.retain(|a| a.dtype.kind != ElementKind::Compound);
    g.groups.iter_mut().for_each(hide_group);
}
