//! Derived datasets declared in the `--collections` file: a reduction or groupby reduction of
//! a store of the tree, shown in the mount as a read-only Zarr v2 store of its own.
//!
//! ```toml
//! [[derived]]
//! name = "run1/tas_monthly_clim.zarr"  # the derived store's path in the mount
//! dataset = "run1/tas_day.zarr"        # the store it is computed from (its path in the mount)
//! variable = "tas"
//! derive = "groupby"                   # groupby (by = "time.month", …) or reduce (dims = […])
//! by = "time.month"
//! action = "mean"
//! ```
//!
//! Only the shape of a declaration is checked here; whether its dataset, variable, grouping
//! and action exist is checked at start-up by the layer that computes it (`crate::derive`).

use serde::Deserialize;
use std::path::{Component, Path, PathBuf};

/// One declared derived dataset.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredDerived {
    /// The derived store's path in the mount, ending in `.zarr`.
    pub name: PathBuf,
    /// The input store's path in the mount (`a/b.zarr`).
    pub dataset: PathBuf,
    pub variable: String,
    /// `groupby` or `reduce`.
    pub derive: String,
    /// groupby: `time.month` (any time component) or a coordinate's name.
    #[serde(default)]
    pub by: Option<String>,
    /// reduce: the dimensions reduced.
    #[serde(default)]
    pub dims: Vec<String>,
    /// mean, min, max, sum, count, std, var, median, first, last.
    pub action: String,
}

impl DeclaredDerived {
    /// The grouping or dimensions as the URL spells them (`time.month`, `lat,lon`).
    pub fn what(&self) -> String {
        match self.derive.as_str() {
            "groupby" => self.by.clone().unwrap_or_default(),
            _ => self.dims.join(","),
        }
    }

    /// Why the declaration is malformed, if it is (its meaning is checked at start-up).
    pub fn malformed(&self) -> Option<&'static str> {
        let store = |p: &Path| {
            p.components().all(|c| matches!(c, Component::Normal(_)))
                && p.extension().is_some_and(|e| e == "zarr")
        };
        if !store(&self.name) {
            return Some("name must be a relative path ending in .zarr");
        }
        if !store(&self.dataset) {
            return Some("dataset must be a store's relative path in the mount, ending in .zarr");
        }
        match (self.derive.as_str(), &self.by, self.dims.is_empty()) {
            ("groupby", Some(_), true) => None,
            ("groupby", _, _) => Some(
                "derive = \"groupby\" needs by = \"time.month\" (or a \
                                       coordinate's name) and no dims",
            ),
            ("reduce", None, false) => None,
            ("reduce", _, _) => Some("derive = \"reduce\" needs dims = [\"time\", …] and no by"),
            _ => Some("derive must be \"groupby\" or \"reduce\""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::declared::load_all;

    #[test]
    fn derived_declarations_are_read_and_their_shape_checked() {
        let dir = std::env::temp_dir().join(format!("declared-derived-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |text: &str| {
            let p = dir.join("d.toml");
            std::fs::write(&p, text).unwrap();
            load_all(&p)
        };
        let groupby = "[[derived]]\nname = \"c/clim.zarr\"\ndataset = \"tas.zarr\"\n\
                       variable = \"tas\"\nderive = \"groupby\"\nby = \"time.month\"\n\
                       action = \"mean\"\n";
        let (collections, derived) = write(groupby).unwrap();
        assert!(collections.is_empty());
        assert_eq!(
            (derived[0].what(), derived[0].name.to_str()),
            ("time.month".into(), Some("c/clim.zarr"))
        );
        let reduce = groupby
            .replace("groupby", "reduce")
            .replace("by = \"time.month\"", "dims = [\"lat\", \"lon\"]");
        assert_eq!(write(&reduce).unwrap().1[0].what(), "lat,lon");
        for (bad, words) in [
            (groupby.replace("c/clim.zarr", "/abs.zarr"), "name must"),
            (groupby.replace("tas.zarr", "tas.nc"), "dataset must"),
            (groupby.replace("by = \"time.month\"\n", ""), "needs by"),
            (reduce.replace("dims = [\"lat\", \"lon\"]\n", ""), "needs dims"),
            (groupby.replace("groupby", "rolling"), "derive must"),
            (format!("{groupby}bogus = 1\n"), "bogus"),
        ] {
            let e = write(&bad).unwrap_err().to_string();
            assert!(e.contains(words), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
