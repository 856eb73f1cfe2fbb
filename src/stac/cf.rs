//! CF conventions as the STAC item needs them: which variables are latitude, longitude, time,
//! vertical, projection coordinates, and which are auxiliary. Pure functions of the index.

use super::values::attr_str;
use crate::index::ArrayNode;
use crate::zarr::DatasetView;

/// One array of the dataset with its place.
#[derive(Clone)]
pub struct Var<'a> {
    /// Group path ("" for the root, "a/b" below).
    pub group: String,
    pub node: &'a ArrayNode,
}

impl<'a> Var<'a> {
    /// Key in the datacube: the name in the root group, `<group>/<name>` below.
    pub fn key(&self) -> String {
        qualified(&self.group, &self.node.name)
    }

    pub fn attr(&self, name: &str) -> Option<&'a str> {
        attr_str(&self.node.attrs, name)
    }

    fn standard_name(&self) -> String {
        self.attr("standard_name").unwrap_or("").trim().to_ascii_lowercase()
    }

    fn units(&self) -> &'a str {
        self.attr("units").unwrap_or("").trim()
    }

    /// A coordinate variable: 1-D and named like its dimension.
    pub fn is_dim_coord(&self) -> bool {
        self.node.dims.len() == 1 && self.node.dims[0] == self.node.name
    }

    pub fn is_latitude(&self) -> bool {
        let units =
            ["degrees_north", "degree_north", "degrees_N", "degree_N", "degreesN", "degreeN"];
        self.standard_name() == "latitude" || units.contains(&self.units())
    }

    pub fn is_longitude(&self) -> bool {
        let units = ["degrees_east", "degree_east", "degrees_E", "degree_E", "degreesE", "degreeE"];
        self.standard_name() == "longitude" || units.contains(&self.units())
    }

    pub fn is_grid_latitude(&self) -> bool {
        self.standard_name() == "grid_latitude"
    }

    pub fn is_grid_longitude(&self) -> bool {
        self.standard_name() == "grid_longitude"
    }

    /// A time coordinate: identified by `<unit> since <date>` units alone (CF 4.4).
    pub fn is_time(&self) -> bool {
        self.units().to_ascii_lowercase().contains(" since ")
    }

    /// Not CF, but common in satellite products (HDF-EOS, GPM): named `lat`/`latitude` with
    /// units `deg…` or none. Used only when no CF latitude/longitude exists.
    pub fn is_named_latitude(&self) -> bool {
        let name = self.node.name.to_ascii_lowercase();
        (name == "lat" || name == "latitude") && self.degrees_or_no_units()
    }

    /// See [`Var::is_named_latitude`]: `lon`/`long`/`longitude`.
    pub fn is_named_longitude(&self) -> bool {
        let name = self.node.name.to_ascii_lowercase();
        matches!(name.as_str(), "lon" | "long" | "longitude") && self.degrees_or_no_units()
    }

    fn degrees_or_no_units(&self) -> bool {
        let u = self.units().to_ascii_lowercase();
        u.is_empty() || u.starts_with("deg")
    }

    /// The axis a dimension coordinate stands for: 'x', 'y' or 'z'.
    pub fn spatial_axis(&self) -> Option<char> {
        let sn = self.standard_name();
        let axis = self.attr("axis").map(|a| a.trim().to_ascii_lowercase());
        if self.is_longitude() || self.is_grid_longitude() || sn == "projection_x_coordinate" {
            return Some('x');
        }
        if self.is_latitude() || self.is_grid_latitude() || sn == "projection_y_coordinate" {
            return Some('y');
        }
        let vertical = ["height", "depth", "altitude", "air_pressure", "model_level_number"];
        if self.attr("positive").is_some()
            || vertical
                .iter()
                .any(|v| sn == *v || sn.starts_with("atmosphere_") && sn.contains("coordinate"))
        {
            return Some('z');
        }
        match axis.as_deref() {
            Some("x") => Some('x'),
            Some("y") => Some('y'),
            Some("z") => Some('z'),
            _ => None,
        }
    }

    /// How well a time variable stands for the data's time axis (lower is better): a
    /// dimension coordinate (0), a time by `standard_name time` or `axis T` such as a scalar
    /// or 2-D valid time (1), any other time by its units (2), a `forecast_reference_time`
    /// (3: when the forecast was issued, not when the data are valid). `None`: not a time.
    pub fn time_rank(&self) -> Option<u8> {
        if !self.is_time() {
            return None;
        }
        let sn = self.standard_name();
        let axis_t = self.attr("axis").is_some_and(|a| a.trim().eq_ignore_ascii_case("t"));
        Some(match () {
            _ if sn == "forecast_reference_time" => 3,
            _ if self.is_dim_coord() => 0,
            _ if sn == "time" || axis_t => 1,
            _ => 2,
        })
    }

    /// The variable named by this one's `bounds` attribute, or by `climatology` (CF 7.4: a
    /// climatological time's cell bounds, the period the statistics cover).
    pub fn bounds(&self, all: &[Var<'a>]) -> Option<Var<'a>> {
        let name = self.attr("bounds").or_else(|| self.attr("climatology"))?;
        resolve(all, &self.group, name.trim()).cloned()
    }
}

/// `name` inside group `group`.
pub fn qualified(group: &str, name: &str) -> String {
    if group.is_empty() {
        name.to_string()
    } else {
        format!("{group}/{name}")
    }
}

/// Every array of the dataset, in store order.
pub fn all_vars(view: &DatasetView) -> Vec<Var<'_>> {
    let group = |path: &str| path.rsplit_once('/').map(|(g, _)| g.to_string()).unwrap_or_default();
    view.arrays.iter().map(|a| Var { group: group(&a.path), node: &a.node }).collect()
}

/// The variable `name` refers to from group `group`: an absolute path (`/a/b/x`), a path
/// relative to the group (`b/x`), or a bare name found in the group or its nearest ancestor
/// (CF 1.8 "search by proximity").
pub fn resolve<'v, 'a>(all: &'v [Var<'a>], group: &str, name: &str) -> Option<&'v Var<'a>> {
    let find = |key: &str| all.iter().find(|v| v.key() == key);
    if let Some(abs) = name.strip_prefix('/') {
        return find(abs);
    }
    let mut g = group.to_string();
    loop {
        if let Some(v) = find(&qualified(&g, name)) {
            return Some(v);
        }
        if g.is_empty() || name.contains('/') {
            return None;
        }
        g = g.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default();
    }
}

/// Keys of the variables other variables name in `attrs` (e.g. `coordinates`), resolved.
/// `grid_mapping` may use the `name: coords …` form.
pub fn named_by(all: &[Var<'_>], attrs: &[&str]) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for v in all {
        for attr in attrs {
            for word in v.attr(attr).unwrap_or("").split_whitespace() {
                if let Some(target) = resolve(all, &v.group, word.trim_end_matches(':')) {
                    out.insert(target.key());
                }
            }
        }
    }
    out
}
