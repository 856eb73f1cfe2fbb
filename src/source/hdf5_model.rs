//! The data model of an HDF5 file read with libhdf5 alone, for files netCDF-C refuses to open
//! (a dangling soft or external link makes `nc_open` fail with "HDF error"), or that crashed
//! a worker in netcdf-c: groups, datasets and attributes ([`super::hdf5_attrs`]) as h5py sees them, in the same [`ModelGroup`] shape as [`super::nc4`] builds,
//! so [`super::libhdf5_layout`] places the storage exactly as for any other HDF5 file.
//!
//! Links are listed with `H5Literate` and each is checked before it is opened: a link that
//! leads nowhere (dangling soft or external link), and an external link (its data lives in
//! another file, which the chunk references of this file cannot point into), become `Skipped`
//! entries with the reason; an object a hard link leads to that libhdf5 cannot read refuses the
//! file (it is damaged). Dimensions are named as netCDF-C names them ([`super::hdf5_dims`]).

use super::hdf5_attrs::read_attrs;
use super::hdf5_dims::{add_scale, role, Dims, Role, NON_COORD};
use super::hdf5_plain_types::{self, PlainType};
use super::hdf5_strings;
use super::nc4::{join, take_attr, ArraySource, ModelGroup};
use super::phony_dims;
use super::variable_error::leave_out;
use super::{nc4_strings, vlen, SourceError, VariableError};
use crate::index::{ArrayNode, Dtype, ElementKind, GroupNode, StorageKind};
use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use hdf5::{LinkType, LocationType};
use hdf5_sys::h5t::{H5T_class_t, H5Tget_class};
use std::ffi::CString;
use std::path::Path;
use tracing::{debug, warn};

/// Groups nested deeper than this are left out (a hard-link cycle is caught before that).
const MAX_DEPTH: usize = 64;

struct Walk<'a> {
    path: &'a Path,
    /// Groups already read (a hard link back to an ancestor would otherwise loop).
    seen: Vec<hdf5::LocationToken>,
    dims: Dims,
}

/// Read the model of the HDF5 file at `path` with libhdf5 only.
pub fn read_model(path: &Path) -> Result<ModelGroup, SourceError> {
    let h5 = hdf5::File::open(path)
        .map_err(|source| SourceError::Hdf5 { path: path.to_path_buf(), source })?;
    let (phony, next) = phony_dims::plan(&h5);
    let mut walk = Walk { path, seen: Vec::new(), dims: Dims::new(phony, next) };
    walk.find_scales(&h5, 0);
    walk.seen.clear();
    walk.group(&h5, String::new(), "/".to_string(), 0)
}

/// Does the HDF5 file at `path` hold a dataset of a type netCDF-C may pass over that its
/// model `tree` does not list? netCDF-C 4.9.0 silently passes over datasets of an anonymous
/// (uncommitted) compound or vlen type, as h5py and PyTables write them, and over bitfield,
/// opaque and reference datasets; such a file is served from the pure-HDF5 view.
pub fn has_unlisted_dataset(path: &Path, tree: &ModelGroup) -> bool {
    fn listed(g: &ModelGroup, out: &mut std::collections::HashSet<String>) {
        out.extend(g.sources.iter().map(|s| s.hdf5_path.clone()));
        g.children.iter().for_each(|c| listed(c, out));
    }
    fn find(
        g: &hdf5::Group,
        at: &str,
        seen: &std::collections::HashSet<String>,
        depth: usize,
    ) -> bool {
        let Ok(names) = g.member_names() else { return false };
        names.iter().any(|name| {
            let member = join(at, name);
            if let Ok(ds) = g.dataset(name) {
                let passed_over = ds.dtype().is_ok_and(|t| {
                    let _guard = hdf5_sys::LOCK.lock();
                    // SAFETY: a live datatype id; its class is only compared
                    let class = unsafe { H5Tget_class(t.id()) };
                    matches!(
                        class,
                        H5T_class_t::H5T_COMPOUND
                            | H5T_class_t::H5T_VLEN
                            | H5T_class_t::H5T_BITFIELD
                            | H5T_class_t::H5T_OPAQUE
                            | H5T_class_t::H5T_REFERENCE
                    )
                });
                passed_over && !seen.contains(&member)
            } else if let Ok(child) = g.group(name) {
                depth < MAX_DEPTH && find(&child, &member, seen, depth + 1)
            } else {
                false
            }
        })
    }
    let mut seen = std::collections::HashSet::new();
    listed(tree, &mut seen);
    hdf5::File::open(path).is_ok_and(|h5| find(&h5, "/", &seen, 0))
}

/// Every link of `g` (`H5Literate`), by name, with its type; what each leads to is checked
/// by the caller.
fn links(path: &Path, g: &hdf5::Group, hdf5_path: &str) -> Vec<(String, LinkType)> {
    let mut links = Vec::new();
    let listed = g.iter_visit_default(|name, info| {
        links.push((name.to_string(), info.link_type));
        Ok(())
    });
    if let Err(e) = listed {
        warn!(file = %path.display(), group = %hdf5_path, "links not listed: {e}");
    }
    links
}

/// The names of the links of `g` that lead to an object of this file (not external, not
/// dangling), in the view's order.
pub(super) fn hard_and_soft_links(g: &hdf5::Group) -> Vec<String> {
    let mut names = Vec::new();
    let _ = g.iter_visit_default(|name, info| {
        names.push((name.to_string(), info.link_type));
        Ok(())
    });
    names
        .into_iter()
        .filter(|(name, t)| *t != LinkType::External && leads_somewhere(g, name))
        .map(|(name, _)| name)
        .collect()
}

impl Walk<'_> {
    /// Note every dimension scale below `g` (before any variable names its dimensions).
    fn find_scales(&mut self, g: &hdf5::Group, depth: usize) {
        if let Ok(info) = g.loc_info() {
            self.seen.push(info.token);
        }
        for (name, link_type) in links(self.path, g, "") {
            if link_type == LinkType::External || !leads_somewhere(g, &name) {
                continue;
            }
            if let Ok(ds) = g.dataset(&name) {
                self.dims.note(&ds, &name);
            } else if let Ok(child) = g.group(&name) {
                let seen = child.loc_info().is_ok_and(|i| self.seen.contains(&i.token));
                if !seen && depth < MAX_DEPTH {
                    self.find_scales(&child, depth + 1);
                }
            }
        }
    }

    fn group(
        &mut self,
        g: &hdf5::Group,
        name: String,
        hdf5_path: String,
        depth: usize,
    ) -> Result<ModelGroup, SourceError> {
        if let Ok(info) = g.loc_info() {
            self.seen.push(info.token);
        }
        let attrs = read_attrs(self.path, &hdf5_path, g);
        let mut group = GroupNode { name, attrs, ..GroupNode::default() };
        let (mut sources, mut children) = (Vec::new(), Vec::new());
        for (name, link_type) in links(self.path, g, &hdf5_path) {
            let member = join(&hdf5_path, &name);
            let skip = |group: &mut GroupNode, reason: VariableError| {
                leave_out(group, self.path, &member, name.clone(), reason)
            };
            if link_type != LinkType::Hard && !leads_somewhere(g, &name) {
                let kind = if link_type == LinkType::External { "external" } else { "soft" };
                let what = format!("{kind} link that leads nowhere (its target does not exist)");
                skip(&mut group, VariableError::Unsupported(what));
                continue;
            }
            if link_type == LinkType::External {
                let what = "external link (its data lives in another file)".to_string();
                skip(&mut group, VariableError::Unsupported(what));
                continue;
            }
            // an object a hard link leads to that libhdf5 cannot read (a damaged header):
            // the file is damaged, refused as a whole as libhdf5 refuses it
            let failed = |source| SourceError::Hdf5 { path: self.path.to_path_buf(), source };
            let object = g.loc_info_by_name(&name).map_err(failed)?;
            if object.loc_type == LocationType::Dataset {
                let ds = g.dataset(&name).map_err(failed)?;
                let role = role(&ds);
                if role != Role::Variable {
                    add_scale(&ds, &name, &mut group);
                }
                if role == Role::DimensionOnly {
                    continue;
                }
                let name = name.strip_prefix(NON_COORD).unwrap_or(&name);
                match self.array(&ds, name, &member, &mut group) {
                    Ok((array, fill_from_storage)) => {
                        group.arrays.push(array);
                        let source = ArraySource {
                            hdf5_path: member,
                            fill_from_storage,
                            unread_strings: None,
                        };
                        sources.push(source);
                    }
                    Err(reason) => leave_out(&mut group, self.path, &member, name.into(), reason),
                }
            } else if object.loc_type == LocationType::Group {
                let child = g.group(&name).map_err(failed)?;
                let seen = child.loc_info().is_ok_and(|i| self.seen.contains(&i.token));
                if seen || depth >= MAX_DEPTH {
                    let what = "group already shown elsewhere (a link cycle)".to_string();
                    skip(&mut group, VariableError::Unsupported(what));
                    continue;
                }
                children.push(self.group(&child, name, member, depth + 1)?);
            } else {
                // a named datatype: a type, not a variable (netCDF-C lists it as a type)
                debug!(file = %self.path.display(), object = %member, "named datatype");
            }
        }
        Ok(ModelGroup { group, sources, children })
    }

    /// The array of dataset `ds`, its dimensions named (and added to `group`) as netCDF-C does.
    fn array(
        &mut self,
        ds: &hdf5::Dataset,
        name: &str,
        hdf5_path: &str,
        group: &mut GroupNode,
    ) -> Result<(ArrayNode, bool), VariableError> {
        let h5type =
            ds.dtype().map_err(|source| VariableError::Hdf5 { what: "datatype", source })?;
        let shape: Vec<u64> = ds.shape().iter().map(|s| *s as u64).collect();
        let dims = self.dims.names(ds, hdf5_path, group);
        let mut attrs = read_attrs(self.path, name, ds);
        // netCDF's fill value; one of an enum type (unreadable here) is the dataset's own HDF5
        // fill value, which netCDF-4 sets to the same value: pass 2 takes that
        let fill_value = take_attr(&mut attrs, "_FillValue");
        let fill_from_storage = fill_value.is_none() && ds.attr("_FillValue").is_ok();
        if let Some(kind) = PlainType::of(&h5type) {
            let byte = Dtype::le(ElementKind::UInt, 1);
            let mut array =
                ArrayNode::unplaced(name.to_string(), byte, shape, dims, fill_value, attrs);
            hdf5_plain_types::serve(ds, &h5type, kind, &mut array)?;
            return Ok((array, fill_from_storage));
        }
        let compound = {
            let _guard = hdf5_sys::LOCK.lock();
            // SAFETY: a live datatype id; its class is only compared
            unsafe { H5Tget_class(h5type.id()) == H5T_class_t::H5T_COMPOUND }
        };
        if compound {
            // its members are read from the HDF5 type in pass 2 (`compound.rs`), whatever
            // their types (the hdf5 crate describes no opaque or bitfield member)
            let array = ArrayNode::unplaced(
                name.to_string(),
                super::nc4::COMPOUND,
                shape,
                dims,
                fill_value,
                attrs,
            );
            return Ok((array, fill_from_storage));
        }
        let descriptor = h5type
            .to_descriptor()
            .map_err(|source| VariableError::Hdf5 { what: "datatype", source })?;
        let strings = hdf5_strings::is_string(&descriptor);
        let ragged = matches!(descriptor, TypeDescriptor::VarLenArray(_));
        let dtype = if strings {
            Dtype::le(ElementKind::UInt, 1)
        } else if ragged {
            vlen::base_dtype(&descriptor)?
        } else {
            number_dtype(&descriptor)?
        };
        let mut array =
            ArrayNode::unplaced(name.to_string(), dtype, shape, dims, fill_value, attrs);
        if ragged {
            array.storage = StorageKind::Ragged; // pass 2 reads the sequences (`vlen.rs`)
        }
        if strings {
            nc4_strings::set_strings(&mut array, &hdf5_strings::read_strings(ds, &descriptor)?)?;
        }
        Ok((array, fill_from_storage))
    }
}

/// Does the link `name` of `g` resolve to an object (`H5Oexists_by_name`, which follows soft
/// and external links)?
fn leads_somewhere(g: &hdf5::Group, name: &str) -> bool {
    let Ok(c_name) = CString::new(name) else { return false };
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: a live group id and a NUL-terminated name; the result is only a status.
    let found = unsafe {
        hdf5_sys::h5o::H5Oexists_by_name(g.id(), c_name.as_ptr(), hdf5_sys::h5p::H5P_DEFAULT)
    };
    found > 0
}

/// The served element type of a numeric or enum HDF5 type (enums as their base integer, as
/// netCDF-C and xarray read them).
fn number_dtype(t: &TypeDescriptor) -> Result<Dtype, VariableError> {
    let int_size = |s: &IntSize| *s as usize;
    let (kind, size) = match t {
        TypeDescriptor::Integer(s) => (ElementKind::Int, int_size(s)),
        TypeDescriptor::Unsigned(s) => (ElementKind::UInt, int_size(s)),
        // h5py's bool: an enum of int8, which netCDF-C reads as its base type
        TypeDescriptor::Boolean => (ElementKind::Int, 1),
        TypeDescriptor::Float(FloatSize::U4) => (ElementKind::Float, 4),
        TypeDescriptor::Float(FloatSize::U8) => (ElementKind::Float, 8),
        TypeDescriptor::Enum(e) => {
            let kind = if e.signed { ElementKind::Int } else { ElementKind::UInt };
            (kind, e.size as usize)
        }
        // its members are read from the HDF5 type in pass 2 (`compound.rs`)
        TypeDescriptor::Compound(_) => return Ok(super::nc4::COMPOUND),
        TypeDescriptor::VarLenArray(_) => return Err(VariableError::Type("vlen")),
        // netCDF char arrays: one-byte strings, one byte per element (as nc4.rs serves them);
        // longer ones are strings (hdf5_strings)
        TypeDescriptor::FixedAscii(1) | TypeDescriptor::FixedUnicode(1) => (ElementKind::Char, 1),
        TypeDescriptor::Reference(_) => return Err(VariableError::Type("reference")),
        _ => return Err(VariableError::Type("HDF5 type")),
    };
    Ok(Dtype::le(kind, size))
}
