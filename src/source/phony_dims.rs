//! netCDF-C's names for the axes of HDF5 datasets without dimension scales (`phony_dim_N`),
//! decided for the whole file before the pure-HDF5 view ([`super::hdf5_model`]) is built, so
//! that its dimension names are the ones netCDF4-python / xarray report.
//!
//! netCDF-C's rule (libhdf5/hdf5open.c, `rec_match_dimscales` and `create_phony_dims`):
//! every dimension scale of the file is a dimension first, numbered in the order the groups
//! are read (a group's datasets in link order, then its child groups); then, children before
//! their parent (post-order), each variable of a group without attached scales takes for each
//! axis the group's first dimension (a scale or an earlier phony one, in the order they were
//! made) of the same length and the same unlimitedness that this variable does not use
//! already, or else a new `phony_dim_<N>`, N being the file's next dimension number.
//!
//! netCDF-C 4.10 (netCDF4-python's, the reference) lists datasets of integer, float, string,
//! enum, opaque, compound, array and vlen types made of those (the system's 4.9 lists fewer,
//! which is why the view is built from the HDF5 file and not from its answer); the datasets
//! it passes over (bitfields, references, compounds holding them) are named by the same rule
//! afterwards, numbered after all of netCDF-C's dimensions.

use super::hdf5_dims::{role, Role};
use super::nc4::join;
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5t::{
    H5T_class_t, H5Tclose, H5Tget_class, H5Tget_member_type, H5Tget_nmembers, H5Tget_super,
};
use std::collections::HashMap;

/// Groups nested deeper than this are not visited (as the view leaves them out).
const MAX_DEPTH: usize = 64;

/// A dimension of a group: name, length, unlimited.
type Dim = (String, u64, bool);

/// A dataset without scales: its path, its axes (length, unlimited), whether netCDF-C lists it.
type Candidate = (String, Vec<(u64, bool)>, bool);

/// The axis names of the datasets of `h5` (by HDF5 path) that have no attached scale and
/// are not scales, and the next dimension number after them.
pub fn plan(h5: &hdf5::File) -> (HashMap<String, Vec<String>>, usize) {
    let mut dims: HashMap<String, Vec<Dim>> = HashMap::new();
    let mut next = 0;
    let mut order = Vec::new(); // groups, post-order, with their candidate datasets
    visit(h5, "/", 0, &mut Vec::new(), &mut dims, &mut next, &mut order);
    let mut out = HashMap::new();
    // the datasets netCDF-C lists, then those it passes over (numbered after all others)
    for listed in [true, false] {
        for (group, datasets) in &order {
            for (path, shape, _) in datasets.iter().filter(|(_, _, l)| *l == listed) {
                let names = axes(dims.entry(group.clone()).or_default(), shape, &mut next);
                out.insert(path.clone(), names);
            }
        }
    }
    (out, next)
}

/// The names of the axes (length, unlimited) of one variable of a group whose dimensions are
/// `dims`, new phony ones added to `dims`.
fn axes(dims: &mut Vec<Dim>, shape: &[(u64, bool)], next: &mut usize) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(shape.len());
    for &(len, unlimited) in shape {
        let found = dims
            .iter()
            .find(|(d, l, u)| *l == len && *u == unlimited && !names.contains(d))
            .map(|(d, _, _)| d.clone());
        let name = found.unwrap_or_else(|| {
            let name = format!("phony_dim_{next}");
            *next += 1;
            dims.push((name.clone(), len, unlimited));
            name
        });
        names.push(name);
    }
    names
}

/// Read group `g` (at `at`) and those below it: its scales (pre-order numbering) into
/// `scales`, then its children, then itself into `order` with its datasets that have no
/// attached scale (post-order).
fn visit(
    g: &hdf5::Group,
    at: &str,
    depth: usize,
    seen: &mut Vec<hdf5::LocationToken>,
    scales: &mut HashMap<String, Vec<Dim>>,
    count: &mut usize,
    order: &mut Vec<(String, Vec<Candidate>)>,
) {
    if let Ok(info) = g.loc_info() {
        seen.push(info.token);
    }
    let mut candidates = Vec::new();
    let mut children = Vec::new();
    for name in super::hdf5_model::hard_and_soft_links(g) {
        let path = join(at, &name);
        if let Ok(ds) = g.dataset(&name) {
            let space = ds.space().ok();
            let shape: Vec<(u64, bool)> = space.map_or_else(Vec::new, |s| {
                s.shape().iter().zip(s.maxdims()).map(|(l, m)| (*l as u64, m.is_none())).collect()
            });
            if role(&ds) != Role::Variable {
                let name = name.strip_prefix(super::hdf5_dims::NON_COORD).unwrap_or(&name);
                let (len, unlimited) = shape.first().copied().unwrap_or((1, false));
                scales.entry(at.to_string()).or_default().push((name.into(), len, unlimited));
                *count += 1;
            } else if !shape.is_empty() && ds.attr("DIMENSION_LIST").is_err() {
                let listed = ds.dtype().is_ok_and(|t| {
                    let _guard = hdf5_sys::LOCK.lock();
                    // SAFETY: a live datatype id, only inspected
                    unsafe { netcdf_type(t.id(), 0) }
                });
                candidates.push((path, shape, listed));
            }
        } else if let Ok(child) = g.group(&name) {
            let looped = child.loc_info().is_ok_and(|i| seen.contains(&i.token));
            if !looped && depth < MAX_DEPTH {
                children.push((child, path));
            }
        }
    }
    let mut below = Vec::new();
    for (child, path) in children {
        visit(&child, &path, depth + 1, seen, scales, count, &mut below);
    }
    order.extend(below);
    order.push((at.to_string(), candidates));
}

/// Does netCDF-C 4.10 read type `tid` (a netCDF type: atomic, enum, opaque, or a compound,
/// array or vlen of such)?
///
/// # Safety
/// `tid` is a valid datatype id; the library lock is held.
unsafe fn netcdf_type(tid: hid_t, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    match H5Tget_class(tid) {
        H5T_class_t::H5T_INTEGER
        | H5T_class_t::H5T_FLOAT
        | H5T_class_t::H5T_STRING
        | H5T_class_t::H5T_ENUM
        | H5T_class_t::H5T_OPAQUE => true,
        H5T_class_t::H5T_COMPOUND => (0..H5Tget_nmembers(tid).max(0) as u32).all(|i| {
            let member = H5Tget_member_type(tid, i);
            let ok = member >= 0 && netcdf_type(member, depth + 1);
            if member >= 0 {
                H5Tclose(member);
            }
            ok
        }),
        H5T_class_t::H5T_ARRAY | H5T_class_t::H5T_VLEN => {
            let base = H5Tget_super(tid);
            let ok = base >= 0 && netcdf_type(base, depth + 1);
            if base >= 0 {
                H5Tclose(base);
            }
            ok
        }
        _ => false,
    }
}
