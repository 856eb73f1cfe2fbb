//! Which quick-look image stands for a dataset (`--thumbnails`): the first data variable of
//! the root group whose last two dimensions are horizontal (x/y coordinates, or 2-D
//! latitude/longitude named by its `coordinates`) is drawn as a map at the last step of every
//! other dimension; without one, the first whose last two dimensions are of more than one
//! step and not time (a swath, a section, a grid without coordinates: a map on its indexes);
//! without one, the first numeric data variable as a line (an area mean along time);
//! nothing plottable, no thumbnail. A pure function of the index, so that the
//! item that names the image and the image itself make the same choice.

use super::cf::{all_vars, named_by, Var};
use crate::zarr::DatasetView;

/// What a thumbnail file's name ends with, in place of the store's `.zarr`.
pub const THUMBNAIL_SUFFIX: &str = ".thumbnail.png";

/// The colormap of thumbnails (matplotlib's name).
pub const THUMBNAIL_CMAP: &str = "viridis";

/// The image that stands for a dataset.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Thumbnail {
    /// The variable drawn (a root-group array's name).
    pub var: String,
    /// A map (else a line).
    pub map: bool,
}

impl Thumbnail {
    /// The plot route's segments after `plot/` that draw the same image.
    pub fn plot_path(&self) -> String {
        let kind = if self.map { "map" } else { "line" };
        format!("{}/{kind}/{THUMBNAIL_CMAP}", self.var)
    }
}

/// The thumbnail of the dataset of `view`, if anything in it can be plotted.
pub fn choose(view: &DatasetView) -> Option<Thumbnail> {
    let vars = all_vars(view);
    let aux = named_by(&vars, &["coordinates", "bounds", "climatology", "grid_mapping"]);
    let data: Vec<&Var<'_>> = vars
        .iter()
        .filter(|v| v.group.is_empty() && !v.is_dim_coord() && !aux.contains(&v.key()))
        .filter(|v| !(v.is_latitude() || v.is_longitude() || v.is_time()))
        .filter(|v| v.node.dtype.is_number() && !v.node.shape.is_empty())
        .filter(|v| v.node.shape.iter().all(|n| *n > 0))
        .collect();
    let map = data
        .iter()
        .find(|v| horizontal_last_two(v, &vars))
        .or_else(|| data.iter().find(|v| plane_last_two(v, &vars)));
    let pick = map.or(data.first())?;
    Some(Thumbnail { var: pick.node.name.clone(), map: map.is_some() })
}

/// Whether the last two dimensions of `v` have more than one step each and neither is time.
fn plane_last_two(v: &Var<'_>, vars: &[Var<'_>]) -> bool {
    let n = v.node.dims.len();
    if n < 2 || v.node.shape[n - 2..].iter().any(|len| *len < 2) {
        return false;
    }
    let time = |d: &String| {
        vars.iter()
            .any(|c| c.group.is_empty() && c.node.name == *d && c.is_dim_coord() && c.is_time())
    };
    !v.node.dims[n - 2..].iter().any(time)
}

/// Whether the last two dimensions of `v` are a horizontal grid.
fn horizontal_last_two(v: &Var<'_>, vars: &[Var<'_>]) -> bool {
    let dims = &v.node.dims;
    if dims.len() < 2 {
        return false;
    }
    let (y, x) = (&dims[dims.len() - 2], &dims[dims.len() - 1]);
    let axis = |d: &str| {
        vars.iter()
            .find(|c| c.group.is_empty() && c.node.name == d && c.is_dim_coord())
            .and_then(Var::spatial_axis)
    };
    if matches!((axis(y), axis(x)), (Some('y'), Some('x'))) {
        return true;
    }
    // a curvilinear grid: 2-D longitude and latitude over (y, x), named by `coordinates`
    let over_yx =
        |c: &&Var<'_>| c.node.dims.len() == 2 && c.node.dims[0] == *y && c.node.dims[1] == *x;
    let named: Vec<&Var<'_>> = v
        .attr("coordinates")
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|n| vars.iter().find(|c| c.group.is_empty() && c.node.name == n))
        .filter(over_yx)
        .collect();
    named.iter().any(|c| c.is_latitude()) && named.iter().any(|c| c.is_longitude())
}
