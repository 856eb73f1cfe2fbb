//! First pass: the netCDF data model of a file (groups, variables, dimensions, attributes), read
//! with netcdf-c exactly as xarray's netcdf4 engine sees it.

use super::variable_error::leave_out;
use super::{attrs, nc4_strings, Format, SourceError, VariableError};
use crate::index::{ArrayNode, AttrValue, Attrs, Dtype, ElementKind, GroupNode, StorageKind};
use netcdf::types::{FloatType, IntType, NcVariableType};
use std::path::Path;
use tracing::warn;

/// Where pass 2 finds an array's storage.
pub struct ArraySource {
    /// HDF5 path of the variable.
    pub hdf5_path: String,
    /// `_FillValue` exists but netcdf could not read it (enum types): take HDF5's fill value,
    /// which netCDF-4 sets to the same value.
    pub fill_from_storage: bool,
    /// A scalar string variable netcdf-c lists but cannot read: pass 2 serves it without a
    /// value if its HDF5 dataspace is null (H5S_NULL, which netcdf-c shows as a scalar and
    /// h5py reads as `Empty`), and leaves it out with this reason otherwise.
    pub unread_strings: Option<VariableError>,
}

/// A group of the model plus, per array, the HDF5 path of its dataset.
pub struct ModelGroup {
    pub group: GroupNode,
    /// Parallel to `group.arrays`.
    pub sources: Vec<ArraySource>,
    pub children: Vec<ModelGroup>,
}

impl ModelGroup {
    /// Drop the HDF5 bookkeeping.
    pub fn into_group(self) -> GroupNode {
        let mut group = self.group;
        group.groups = self.children.into_iter().map(ModelGroup::into_group).collect();
        group
    }
}

/// Read the data model of `path`.
pub fn read_model(path: &Path, format: Format) -> Result<ModelGroup, SourceError> {
    let file = netcdf::open(path)
        .map_err(|source| SourceError::NetCdf { path: path.to_path_buf(), source })?;
    let cdf = matches!(format, Format::Cdf { .. });
    match file.root() {
        Some(root) => Ok(read_group(path, &root, String::new(), "/".to_string(), cdf)),
        None => {
            let attrs = read_attrs(path, "/", file.attributes());
            let dimensions = file.dimensions().filter_map(|d| utf8(|| (d.name(), d.len() as u64)));
            let dimensions = dimensions.collect();
            let mut group = GroupNode { attrs, dimensions, ..GroupNode::default() };
            let mut sources = Vec::new();
            for (i, var) in file.variables().enumerate() {
                add_or_leave_out(path, &var, i, "/", cdf, &mut group, &mut sources);
            }
            Ok(ModelGroup { group, sources, children: vec![] })
        }
    }
}

fn read_group(
    path: &Path,
    g: &netcdf::Group<'_>,
    name: String,
    hdf5_path: String,
    cdf: bool,
) -> ModelGroup {
    let attrs = read_attrs(path, &hdf5_path, g.attributes());
    let dimensions = g.dimensions().filter_map(|d| utf8(|| (d.name(), d.len() as u64))).collect();
    let mut group = GroupNode { name, attrs, dimensions, ..GroupNode::default() };
    let mut sources = Vec::new();
    for (i, var) in g.variables().enumerate() {
        add_or_leave_out(path, &var, i, &hdf5_path, cdf, &mut group, &mut sources);
    }
    let children = g
        .groups()
        .map(|child| {
            let child_name = child.name();
            let child_path = join(&hdf5_path, &child_name);
            read_group(path, &child, child_name, child_path, cdf)
        })
        .collect();
    ModelGroup { group, sources, children }
}

/// netcdf 0.12 panics on a name that is not UTF-8, which netcdf-c accepts (any bytes): such a
/// name costs its dimension, attribute or variable (`None`), never the file.
fn utf8<T>(read: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).ok()
}

/// [`add_variable`], or the variable left out when its name, or one of its dimensions', is not
/// UTF-8 (named by its position then).
fn add_or_leave_out(
    path: &Path,
    var: &netcdf::Variable<'_>,
    index: usize,
    group_path: &str,
    cdf: bool,
    group: &mut GroupNode,
    sources: &mut Vec<ArraySource>,
) {
    let added = utf8(|| add_variable(path, var, group_path, cdf, group, sources));
    if added.is_none() {
        let name = format!("variable #{index}");
        let reason = VariableError::Unsupported("its name, or a dimension's, is not UTF-8".into());
        leave_out(group, path, &join(group_path, &name), name, reason);
    }
}

pub(super) fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

fn read_attrs<'a>(
    path: &Path,
    owner: &str,
    attrs: impl Iterator<Item = netcdf::Attribute<'a>>,
) -> Attrs {
    let mut out = Vec::new();
    for attr in attrs {
        let Some(name) = utf8(|| attr.name().to_string()) else {
            warn!(file = %path.display(), owner, "attribute left out: its name is not UTF-8");
            continue;
        };
        match attr.value() {
            Ok(v) => out.push((name, attrs::convert(v))),
            // an enum-typed _FillValue: add_variable takes it from the HDF5 fill value
            Err(_) if name == "_FillValue" => {}
            Err(e) => warn!(file = %path.display(), owner, attribute = %name,
                "attribute left out: {e}"),
        }
    }
    out
}

fn numeric_dtype(t: &NcVariableType) -> Option<Dtype> {
    let (kind, size) = match t {
        NcVariableType::Int(i) => match i {
            IntType::I8 => (ElementKind::Int, 1),
            IntType::I16 => (ElementKind::Int, 2),
            IntType::I32 => (ElementKind::Int, 4),
            IntType::I64 => (ElementKind::Int, 8),
            IntType::U8 => (ElementKind::UInt, 1),
            IntType::U16 => (ElementKind::UInt, 2),
            IntType::U32 => (ElementKind::UInt, 4),
            IntType::U64 => (ElementKind::UInt, 8),
        },
        NcVariableType::Float(FloatType::F32) => (ElementKind::Float, 4),
        NcVariableType::Float(FloatType::F64) => (ElementKind::Float, 8),
        // netCDF char arrays: one byte per element; xarray joins the last dimension itself.
        NcVariableType::Char => (ElementKind::Char, 1),
        _ => return None,
    };
    Some(Dtype { kind, size, big_endian: false })
}

/// A compound variable before pass 2 gives it its size and members.
pub(super) const COMPOUND: Dtype =
    Dtype { kind: ElementKind::Compound, size: 0, big_endian: false };

/// Storage byte order of NetCDF-3 data.
fn cdf_order(mut d: Dtype) -> Dtype {
    d.big_endian = d.size > 1;
    d
}

fn type_name(t: &NcVariableType) -> &'static str {
    match t {
        NcVariableType::Compound(_) => "compound",
        NcVariableType::Opaque(_) => "opaque",
        NcVariableType::Enum(_) => "enum",
        NcVariableType::Vlen(_) => "vlen",
        NcVariableType::String => "string",
        NcVariableType::Char => "char",
        NcVariableType::Int(_) | NcVariableType::Float(_) => "numeric",
    }
}

fn add_variable(
    path: &Path,
    var: &netcdf::Variable<'_>,
    group_path: &str,
    cdf: bool,
    group: &mut GroupNode,
    sources: &mut Vec<ArraySource>,
) {
    let name = var.name();
    let skip = |group: &mut GroupNode, reason: VariableError| {
        leave_out(group, path, &join(group_path, &name), name.clone(), reason);
    };
    let vartype = var.vartype();
    let is_string = matches!(vartype, NcVariableType::String);
    let dtype = if is_string {
        Some(Dtype::le(ElementKind::UInt, 1))
    } else {
        numeric_dtype(&vartype).map(|d| if cdf { cdf_order(d) } else { d })
    };
    let dtype = dtype.or_else(|| enum_dtype(&vartype));
    // a compound: its members are read from the HDF5 type in pass 2 (`compound.rs`)
    let dtype = dtype.or(matches!(vartype, NcVariableType::Compound(_)).then_some(COMPOUND));
    // a vlen of numbers: pass 2 reads its sequences (`vlen.rs`)
    let ragged = match &vartype {
        NcVariableType::Vlen(v) => numeric_dtype(&v.basetype).or_else(|| enum_dtype(&v.basetype)),
        _ => None,
    };
    let dtype = dtype.or(ragged);
    let Some(dtype) = dtype else {
        let t = type_name(&vartype);
        return skip(group, VariableError::Type(t));
    };
    let mut attrs = read_attrs(path, &join(group_path, &name), var.attributes());
    let fill_value = take_attr(&mut attrs, "_FillValue");
    let fill_from_storage = fill_value.is_none() && var.attribute("_FillValue").is_some();
    let dims: Vec<String> = var.dimensions().iter().map(|d| d.name()).collect();
    let shape: Vec<u64> = var.dimensions().iter().map(|d| d.len() as u64).collect();
    let mut array = ArrayNode::unplaced(name.clone(), dtype, shape, dims, fill_value, attrs);
    if ragged.is_some() {
        array.storage = StorageKind::Ragged;
    }
    let mut unread_strings = None;
    if is_string {
        match nc4_strings::fill_strings(var, &mut array) {
            Ok(()) => {}
            // perhaps a null dataspace: pass 2 looks at the HDF5 dataset
            Err(reason @ VariableError::NetCdf { .. }) if array.shape.is_empty() && !cdf => {
                if let Err(e) = nc4_strings::set_strings(&mut array, &[]) {
                    return skip(group, e);
                }
                unread_strings = Some(reason);
            }
            Err(reason) => return skip(group, reason),
        }
    }
    group.arrays.push(array);
    let hdf5_path = join(group_path, &name);
    sources.push(ArraySource { hdf5_path, fill_from_storage, unread_strings });
}

pub(super) fn take_attr(attrs: &mut Attrs, key: &str) -> Option<AttrValue> {
    let pos = attrs.iter().position(|(k, _)| k == key)?;
    // the width of an integer taken out (a fill value) is the variable's own
    Some(attrs.remove(pos).1.int64())
}

/// An enum variable is served as its base integer type (xarray keeps the mapping in
/// `encoding["dtype"].metadata`, not in attributes).
fn enum_dtype(t: &NcVariableType) -> Option<Dtype> {
    use netcdf::types::EnumTypeValues as V;
    let NcVariableType::Enum(e) = t else { return None };
    let (kind, size) = match e.fieldvalues {
        V::I8(_) => (ElementKind::Int, 1),
        V::U8(_) => (ElementKind::UInt, 1),
        V::I16(_) => (ElementKind::Int, 2),
        V::U16(_) => (ElementKind::UInt, 2),
        V::I32(_) => (ElementKind::Int, 4),
        V::U32(_) => (ElementKind::UInt, 4),
        V::I64(_) => (ElementKind::Int, 8),
        V::U64(_) => (ElementKind::UInt, 8),
    };
    Some(Dtype { kind, size, big_endian: false })
}
