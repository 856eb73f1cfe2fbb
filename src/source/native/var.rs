//! A variable as the model found it (name, HDF5 path, object header, dataspace, attributes,
//! netCDF dimensions): what [`super::model`] hands to the readers of its storage and of its
//! string values, which therefore need nothing of the model itself.

use super::header::Header;
use super::types::Space;
use crate::index::Attrs;

pub(super) struct Var {
    pub name: String,
    pub hdf5_path: String,
    pub header: Header,
    pub space: Space,
    pub attrs: Attrs,
    /// Its dimensions, as indices into the model's dimension list.
    pub dims: Vec<usize>,
}
