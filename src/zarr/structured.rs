//! Structured arrays (a compound variable served as one array of records, beside its
//! members `v.m`) are in a store only on request (`--structured-arrays`): netCDF-C 4.9.0's
//! NCZarr (`ncdump "file://…#mode=zarr,file"`, and so CDO and Fortran models) dies with a
//! segmentation fault on a store that holds one, and a member array per field serves every
//! value anyway. Zarr v3 has no structured data type, so a v3 store never holds one; its
//! members say so (`cloudify_structured_array`). A view-time choice, like the chunk mode: the
//! index holds them either way.

use crate::index::{AttrValue, DatasetIndex, ElementKind, GroupNode};

/// Why a v3 store has no structured arrays (the members' `cloudify_structured_array`).
pub const NO_V3_TYPE: &str = "not served: Zarr v3 has no structured data type";

/// `index` without its structured arrays; `reason`: said on each hidden one's members.
pub fn hide(index: &mut DatasetIndex, reason: Option<&str>) {
    hide_group(&mut index.root, reason);
}

fn hide_group(g: &mut GroupNode, reason: Option<&str>) {
    let hidden: Vec<String> = g
        .arrays
        .iter()
        .filter(|a| a.dtype.kind == ElementKind::Compound)
        .map(|a| a.name.clone())
        .collect();
    g.arrays.retain(|a| a.dtype.kind != ElementKind::Compound);
    if let Some(why) = reason {
        for a in &mut g.arrays {
            let of = a.attrs.iter().find_map(|(k, v)| match v {
                AttrValue::Str(s) if k == "cloudify_compound_of" => Some(s.clone()),
                _ => None,
            });
            if of.is_some_and(|of| hidden.contains(&of)) {
                a.attrs.push(("cloudify_structured_array".to_string(), AttrValue::Str(why.into())));
            }
        }
    }
    g.groups.iter_mut().for_each(|sub| hide_group(sub, reason));
}
