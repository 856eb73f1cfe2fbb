//! Zarr keys for netCDF/HDF5 names.
//!
//! Rule (documented in the README): a group or variable name is used verbatim — spaces, any
//! Unicode, leading underscores and dots included — because every such name is a valid Zarr v2
//! key and file name, and xarray then shows the netCDF name unchanged. Only names that cannot
//! be a directory entry of their own (empty, `.`, `..`) or that would shadow a Zarr metadata
//! document (`.zarray`, `.zattrs`, `.zgroup`, `.zmetadata`) get a `_` prefix, repeated until
//! the key is free in its group.

use crate::index::GroupNode;
use std::collections::HashSet;

const RESERVED: [&str; 6] = ["", ".", "..", ".zarray", ".zattrs", ".zgroup"];

/// Replace netCDF names by Zarr keys (see [`zarr_key`]), arrays first, then sub-groups.
pub fn assign_keys(group: &mut GroupNode) {
    let mut taken = HashSet::new();
    for a in &mut group.arrays {
        a.name = zarr_key(&a.name, &mut taken);
    }
    for g in &mut group.groups {
        g.name = zarr_key(&g.name, &mut taken);
        assign_keys(g);
    }
}

/// The Zarr key for `name` in a group whose keys so far are `taken` (the key is added).
pub fn zarr_key(name: &str, taken: &mut HashSet<String>) -> String {
    let mut key = name.to_string();
    while RESERVED.contains(&key.as_str()) || key == ".zmetadata" || taken.contains(&key) {
        key.insert(0, '_');
    }
    taken.insert(key.clone());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_table() {
        let mut taken = HashSet::new();
        assert_eq!(zarr_key("Data Fields", &mut taken), "Data Fields");
        assert_eq!(zarr_key("h\u{e9}", &mut taken), "h\u{e9}");
        assert_eq!(zarr_key(".zattrs", &mut taken), "_.zattrs");
        assert_eq!(zarr_key("_.zattrs", &mut taken), "__.zattrs");
        assert_eq!(zarr_key("..", &mut taken), "_..");
        assert_eq!(zarr_key("", &mut taken), "_");
        assert_eq!(zarr_key("_nc4_thing", &mut taken), "_nc4_thing");
    }
}
