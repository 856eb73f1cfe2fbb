//! netCDF-C's reserved attribute names: the attributes it never lists (`NC_findreserved`),
//! whether it calls them hidden or read-only. Both HDF5 readers without netCDF-C (the native
//! reader and the libhdf5-only view) hide them the same way.

/// Attributes netcdf-c never lists.
pub(crate) const HIDDEN: &[&str] = &[
    "CLASS",
    "DIMENSION_LIST",
    "NAME",
    "REFERENCE_LIST",
    "_ARRAY_DIMENSIONS",
    "_Codecs",
    "_Format",
    "_IsNetcdf4",
    "_NCProperties",
    "_Netcdf4Coordinates",
    "_Netcdf4Dimid",
    "_SuperblockVersion",
    "_nc3_strict",
];
