//! From a request and the variable to the plan of the computation: which input dimensions
//! are reduced or grouped, the output's dimensions and shape, and each input index's output
//! cell and position (`compute::Plan`).

use super::compute::Plan;
use super::error::DeriveError;
use super::groups::{by_value, groups, Labels};
use super::input::{self, Array};
use super::request::Over;
use crate::vfs::Vfs;
use serde_json::{Map, Value};
use std::path::Path;

/// The planned output.
pub struct Shaped {
    pub plan: Plan,
    pub out_dims: Vec<String>,
    /// The group coordinate (its name and labels), for a groupby.
    pub group: Option<(String, Labels)>,
}

fn dims_text(a: &Array) -> String {
    if a.dims.is_empty() {
        "none".to_string()
    } else {
        a.dims.join(", ")
    }
}

/// Plan `over` for `array` of the store of `meta`.
pub fn plan(
    vfs: &Vfs,
    store: &Path,
    (meta, array): (&Map<String, Value>, &Array),
    over: &Over,
) -> Result<Shaped, DeriveError> {
    let nd = array.dims.len();
    // per input dimension: Some(labels) grouped, None kept; reduced dims listed apart
    let mut reduced = vec![false; nd];
    let mut grouped: Option<(usize, Vec<Option<usize>>, String, Labels)> = None;
    match over {
        Over::Dims(dims) => {
            for d in dims {
                let i = array.dims.iter().position(|x| x == d).ok_or_else(|| {
                    DeriveError::Request(format!(
                        "variable '{}' has no dimension '{d}': its dimensions are {}",
                        array.name,
                        dims_text(array)
                    ))
                })?;
                reduced[i] = true;
            }
        }
        Over::Group { coord, component } => {
            let c = input::array(meta, coord)?;
            let along = match c.dims.as_slice() {
                [d] => array.dims.iter().position(|x| x == d),
                _ => None,
            };
            let along = along.ok_or_else(|| {
                DeriveError::Request(format!(
                    "'{coord}' is not a 1-D coordinate along a dimension of '{}' (its \
                     dimensions: {})",
                    array.name,
                    dims_text(array)
                ))
            })?;
            if c.shape[0] != array.shape[along] {
                return Err(DeriveError::Request(format!(
                    "'{coord}' has {} values, '{}' {} along {}",
                    c.shape[0], array.name, array.shape[along], array.dims[along]
                )));
            }
            let values = values_of(vfs, store, &c)?;
            grouped = Some(match component {
                Some(component) => {
                    let (of, labels) = groups(&values, &c.attrs, *component)?;
                    (along, of, component.name().to_string(), labels)
                }
                None => {
                    let (of, distinct) = by_value(&values);
                    let labels = Labels::Values(distinct, c.decoded(), c.attrs.clone());
                    (along, of, coord.clone(), labels)
                }
            });
        }
    }
    // output dimensions and strides
    let mut out_dims = Vec::new();
    let mut out_shape = Vec::new();
    for (d, name) in array.dims.iter().enumerate() {
        match &grouped {
            Some((g, _, gname, labels)) if *g == d => {
                out_dims.push(gname.clone());
                out_shape.push(labels.len() as u64);
            }
            _ if reduced[d] => {}
            _ => {
                out_dims.push(name.clone());
                out_shape.push(array.shape[d]);
            }
        }
    }
    let mut out_stride = vec![0u64; nd];
    let mut s = 1u64;
    let mut k = out_shape.len();
    for d in (0..nd).rev() {
        if reduced[d] {
            continue;
        }
        k -= 1;
        out_stride[d] = s;
        s *= out_shape[k];
    }
    // positions along the reduced (or grouped) dimensions, C order
    let mut pos_stride = vec![0u64; nd];
    let mut p = 1u64;
    for d in (0..nd).rev() {
        let is_grouped = grouped.as_ref().is_some_and(|(g, ..)| *g == d);
        if reduced[d] || is_grouped {
            pos_stride[d] = p;
            p *= array.shape[d];
        }
    }
    let mut out_of = Vec::with_capacity(nd);
    let mut pos_of = Vec::with_capacity(nd);
    for d in 0..nd {
        let n = array.shape[d];
        pos_of.push((0..n).map(|i| i * pos_stride[d]).collect());
        out_of.push(match &grouped {
            Some((g, of, ..)) if *g == d => {
                of.iter().map(|k| k.map(|k| k as u64 * out_stride[d])).collect()
            }
            _ if reduced[d] => vec![Some(0); n as usize],
            _ => (0..n).map(|i| Some(i * out_stride[d])).collect(),
        });
    }
    let group = grouped.map(|(_, _, name, labels)| (name, labels));
    let plan = Plan { out_shape, out_of, pos_of };
    Ok(Shaped { plan, out_dims, group })
}

/// Every value of 1-D array `c`.
pub fn values_of(vfs: &Vfs, store: &Path, c: &Array) -> Result<Vec<f64>, DeriveError> {
    let n = c.shape.first().copied().unwrap_or(1);
    let per = c.chunks.first().copied().unwrap_or(1);
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n.div_ceil(per) {
        out.extend(c.chunk(vfs, store, &[i])?);
    }
    out.truncate(n as usize);
    Ok(out)
}
