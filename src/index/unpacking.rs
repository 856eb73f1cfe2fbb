//! How a CF-packed array is served unpacked (`--unpack`): the facts `zarr::unpack` decides
//! and the chunk path applies. Part of a view, never persisted.

use super::{ArrayNode, Dtype};

/// How a CF-packed array's values are served unpacked (`--unpack`), as xarray decodes them:
/// the stored value, read as `stored` (after `_Unsigned`), is NaN when it equals one of
/// `missing` (`_FillValue`, `missing_value`), else `value * scale + offset`, computed in the
/// served float type (single precision when `float32`).
#[derive(Clone, Debug, PartialEq)]
pub struct Unpacking {
    /// The array as it is served packed (its chunk references: the packed chunks).
    pub packed: ArrayNode,
    /// The stored values' type as read (`_Unsigned` applied to `packed.dtype`).
    pub stored: Dtype,
    pub scale: Option<f64>,
    pub offset: Option<f64>,
    pub missing: Vec<f64>,
    pub float32: bool,
    /// An integer `scale_factor` alone (xarray: the result has its type): the served
    /// integer type and the factor; each stored value is cast to that type and multiplied,
    /// both wrapping as NumPy's integers do (no `missing`: xarray cannot mask such data).
    pub integer: Option<(Dtype, i128)>,
}
