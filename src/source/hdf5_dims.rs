//! Dimensions of the pure-HDF5 view ([`super::hdf5_model`]), named as netCDF-C names those of
//! HDF5 datasets: a dimension scale (`CLASS = "DIMENSION_SCALE"`) is a dimension of its group
//! named by its link; an axis takes the name of the first scale attached to it
//! (`DIMENSION_LIST`), and a dataset without any the names netCDF-C gives it
//! ([`super::phony_dims`]: a dimension of its group of that length, or a `phony_dim_N`).

use crate::index::GroupNode;
use hdf5::types::{FixedAscii, TypeDescriptor, VarLenArray};
use hdf5::{LocationToken, ObjectReference1, ReferencedObject};
use std::collections::HashMap;

/// netcdf-c's `NAME` of a dimension scale that is not also a variable.
const DIM_WITHOUT_VARIABLE: &str = "This is a netCDF dimension but not a netCDF variable";

/// netCDF-4's prefix of a variable named like a dimension it is not the coordinate of.
pub const NON_COORD: &str = "_nc4_non_coord_";

/// What the file's dimension scales are, found before the view is built.
#[derive(Default)]
pub struct Dims {
    /// Each scale's object and its dimension name.
    scales: Vec<(LocationToken, String)>,
    /// The axis names of the datasets without attached scales, by HDF5 path.
    planned: HashMap<String, Vec<String>>,
    /// The next dimension number (for an axis no scale of a `DIMENSION_LIST` names).
    next_phony: usize,
}

/// What a dataset is to the netCDF model.
#[derive(PartialEq)]
pub enum Role {
    /// An ordinary variable.
    Variable,
    /// A dimension scale that is also a (coordinate) variable.
    Coordinate,
    /// A dimension scale netCDF-4 wrote for a dimension only (no variable).
    DimensionOnly,
}

impl Dims {
    /// Dimensions whose scales are still to be noted, the axes of datasets without scales
    /// named as `planned` says, then numbered from `next_phony`.
    pub fn new(planned: HashMap<String, Vec<String>>, next_phony: usize) -> Dims {
        Dims { scales: Vec::new(), planned, next_phony }
    }

    /// Note `ds`, reached as `name`, if it is a dimension scale.
    pub fn note(&mut self, ds: &hdf5::Dataset, name: &str) {
        if role(ds) != Role::Variable {
            if let Ok(info) = ds.loc_info() {
                let name = name.strip_prefix(NON_COORD).unwrap_or(name);
                self.scales.push((info.token, name.to_string()));
            }
        }
    }

    /// The dimension names of `ds`'s axes (`ds` at `hdf5_path`), each new one added to `group`.
    pub fn names(
        &mut self,
        ds: &hdf5::Dataset,
        hdf5_path: &str,
        group: &mut GroupNode,
    ) -> Vec<String> {
        let shape = ds.shape();
        let attached = self.attached(ds, shape.len());
        let planned = self.planned.get(hdf5_path).filter(|p| p.len() == shape.len());
        let mut dims: Vec<String> = Vec::new();
        for (axis, &len) in shape.iter().enumerate() {
            let len = len as u64;
            let name = match (&attached[axis], planned) {
                (Some(name), _) => name.clone(),
                (None, Some(planned)) => planned[axis].clone(),
                (None, None) => {
                    let phony = group.dimensions.iter().find(|(d, l)| {
                        *l == len && d.starts_with("phony_dim_") && !dims.contains(d)
                    });
                    match phony {
                        Some((d, _)) => d.clone(),
                        None => {
                            self.next_phony += 1;
                            format!("phony_dim_{}", self.next_phony - 1)
                        }
                    }
                }
            };
            if !group.dimensions.iter().any(|(d, _)| *d == name) && attached[axis].is_none() {
                group.dimensions.push((name.clone(), len));
            }
            dims.push(name);
        }
        dims
    }

    /// The scale attached to each axis of `ds` (its own name for a 1-D scale).
    fn attached(&self, ds: &hdf5::Dataset, rank: usize) -> Vec<Option<String>> {
        let mut out = vec![None; rank];
        let own = ds.loc_info().ok().map(|i| i.token);
        if let (1, Some(own)) = (rank, own) {
            if let Some((_, name)) = self.scales.iter().find(|(t, _)| *t == own) {
                out[0] = Some(name.clone());
                return out;
            }
        }
        let Ok(list) = ds.attr("DIMENSION_LIST") else { return out };
        let Ok(refs) = list.read_raw::<VarLenArray<ObjectReference1>>() else { return out };
        for (axis, refs) in refs.iter().enumerate().take(rank) {
            let Some(first) = refs.first() else { continue };
            let Ok(ReferencedObject::Dataset(scale)) = ds.dereference(first) else { continue };
            let Ok(token) = scale.loc_info().map(|i| i.token) else { continue };
            out[axis] = self.scales.iter().find(|(t, _)| *t == token).map(|(_, n)| n.clone());
        }
        out
    }
}

/// Add the dimension of scale `ds` (named `name`) to `group`.
pub fn add_scale(ds: &hdf5::Dataset, name: &str, group: &mut GroupNode) {
    let name = name.strip_prefix(NON_COORD).unwrap_or(name);
    let len = ds.shape().first().map_or(1, |l| *l as u64);
    if !group.dimensions.iter().any(|(d, _)| d == name) {
        group.dimensions.push((name.to_string(), len));
    }
}

/// Whether `ds` is a dimension scale, and whether it is a variable as well.
pub fn role(ds: &hdf5::Dataset) -> Role {
    let class = fixed_string(ds, "CLASS");
    if class.as_deref() != Some("DIMENSION_SCALE") {
        return Role::Variable;
    }
    match fixed_string(ds, "NAME") {
        Some(name) if name.starts_with(DIM_WITHOUT_VARIABLE) => Role::DimensionOnly,
        _ => Role::Coordinate,
    }
}

/// A scalar fixed-length string attribute (as HDF5's dimension scale API writes them).
fn fixed_string(ds: &hdf5::Dataset, name: &str) -> Option<String> {
    let attr = ds.attr(name).ok()?;
    let t = attr.dtype().ok()?.to_descriptor().ok()?;
    if !matches!(t, TypeDescriptor::FixedAscii(n) if n <= 256) {
        return None;
    }
    let v = attr.read_raw::<FixedAscii<256>>().ok()?;
    // as bytes: the crate's as_str() assumes ASCII without checking
    v.first().map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned())
}
