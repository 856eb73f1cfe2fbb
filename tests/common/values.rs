//! Reading arrays two independent ways in the integration tests: through zarrs (a Zarr
//! reader of its own) and through the netcdf crate (netCDF-C). Included by `mod common;`.

use cloudify_mount::index::{Dtype, ElementKind};
use std::path::Path;
use std::sync::Arc;
use zarrs::array::Array;
use zarrs::storage::ReadableStorageTraits;

/// All elements through zarrs, as native-endian bytes.
pub fn zarrs_values<S: ReadableStorageTraits + ?Sized + 'static>(
    store: &Arc<S>,
    path: &str,
    dtype: Dtype,
) -> Vec<u8> {
    let array = Array::open(store.clone(), &format!("/{path}"))
        .unwrap_or_else(|e| panic!("zarrs cannot open {path}: {e}"));
    let all = array.subset_all();
    macro_rules! read {
        ($t:ty) => {
            array
                .retrieve_array_subset::<Vec<$t>>(&all)
                .unwrap_or_else(|e| panic!("zarrs cannot read {path}: {e}"))
                .iter()
                .flat_map(|x| x.to_ne_bytes())
                .collect()
        };
    }
    match (dtype.kind, dtype.size) {
        (ElementKind::Int, 1) => read!(i8),
        (ElementKind::Int, 2) => read!(i16),
        (ElementKind::Int, 4) => read!(i32),
        (ElementKind::Int, 8) => read!(i64),
        (ElementKind::UInt, 1) => read!(u8),
        (ElementKind::UInt, 2) => read!(u16),
        (ElementKind::UInt, 4) => read!(u32),
        (ElementKind::UInt, 8) => read!(u64),
        (ElementKind::Float, 4) => read!(f32),
        (ElementKind::Float, 8) => read!(f64),
        other => panic!("unexpected dtype {other:?}"),
    }
}

/// All elements of `array_path` (a group path with `/`) as netCDF-C reads them.
pub fn netcdf_values(path: &Path, array_path: &str) -> Vec<u8> {
    let file = netcdf::open(path).expect("netcdf open");
    match array_path.rsplit_once('/') {
        None => file.variable(array_path).expect("variable").get_raw_values(..).expect("values"),
        Some((groups, name)) => {
            let g = file.group(groups).expect("group").expect("group exists");
            g.variable(name).expect("variable").get_raw_values(..).expect("values")
        }
    }
}
