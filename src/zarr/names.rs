//! Zarr keys for netCDF/HDF5 names (both versions).
//!
//! Rule (documented in the README): a group or variable name is used verbatim — spaces, any
//! Unicode, leading underscores and dots included — because every such name is a valid Zarr
//! key and file name, and xarray then shows the netCDF name unchanged. Only names that cannot
//! be a directory entry of their own (empty, `.`, `..`) or that would shadow a metadata
//! document of the version served (v2: `.zarray`, `.zattrs`, `.zgroup`, `.zmetadata`; v3:
//! `zarr.json`) get a `_` prefix, repeated until the key is free in its group.

use crate::index::GroupNode;
use std::collections::HashSet;

/// Names a v2 store keeps for itself.
pub const V2_RESERVED: &[&str] = &["", ".", "..", ".zarray", ".zattrs", ".zgroup", ".zmetadata"];
/// Names a v3 store keeps for itself.
pub const V3_RESERVED: &[&str] = &["", ".", "..", "zarr.json"];

/// Replace netCDF names by Zarr keys (see [`zarr_key`]), arrays first, then sub-groups.
pub fn assign_keys(group: &mut GroupNode, reserved: &[&str]) {
    let mut taken = HashSet::new();
    for a in &mut group.arrays {
        a.name = zarr_key(&a.name, &mut taken, reserved);
    }
    for g in &mut group.groups {
        g.name = zarr_key(&g.name, &mut taken, reserved);
        assign_keys(g, reserved);
    }
}

/// The Zarr key for `name` in a group whose keys so far are `taken` (the key is added).
pub fn zarr_key(name: &str, taken: &mut HashSet<String>, reserved: &[&str]) -> String {
    let mut key = name.to_string();
    while reserved.contains(&key.as_str()) || taken.contains(&key) {
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
        let zarr_key = |n: &str, t: &mut HashSet<String>| zarr_key(n, t, V2_RESERVED);
        assert_eq!(zarr_key("Data Fields", &mut taken), "Data Fields");
        assert_eq!(zarr_key("h\u{e9}", &mut taken), "h\u{e9}");
        assert_eq!(zarr_key(".zattrs", &mut taken), "_.zattrs");
        assert_eq!(zarr_key("_.zattrs", &mut taken), "__.zattrs");
        assert_eq!(zarr_key("..", &mut taken), "_..");
        assert_eq!(zarr_key("", &mut taken), "_");
        assert_eq!(zarr_key("_nc4_thing", &mut taken), "_nc4_thing");
        assert_eq!(zarr_key(".zmetadata", &mut taken), "_.zmetadata");
        let mut v3 = HashSet::new();
        assert_eq!(super::zarr_key(".zattrs", &mut v3, V3_RESERVED), ".zattrs");
        assert_eq!(super::zarr_key("zarr.json", &mut v3, V3_RESERVED), "_zarr.json");
    }
}
