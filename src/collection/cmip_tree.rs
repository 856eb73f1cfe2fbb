//! `--union-parent`: directories whose sub-directories are CMIP/CORDEX-style variable trees,
//! recognised from directory listings alone (nothing is opened), to be shown as one store that
//! merges the variables' aggregates.
//!
//! A directory P is a union parent when at least two of its sub-directories are variable
//! trees. A sub-directory V (its name letters and digits only, as `variable_id`s are) is a
//! variable tree in one of three layouts, tried in this order:
//!
//! ```text
//!  P/V/V_*                      files directly in V (CMIP5's <version>/<variable>/)
//!  P/V/<version>/V_*            CORDEX: <frequency>/<variable>/<version>/
//!  P/V/<grid>/<version>/V_*     CMIP6: <table_id>/<variable_id>/<grid_label>/<version>/
//! ```
//!
//! A version is `v` and digits (`v20190710`, `v1`); the greatest number holding files named
//! `V_*` is taken; other names (`latest`, `files`, symbolic links) are not looked at. A grid is
//! a name starting with `g` (`gn`, `gr`, `gr1`, ...). Members are the regular files named
//! `V_*` of the version taken (symbolic links are not followed). Grids cannot be merged: one
//! store per grid label. A store is named by the members' file names without `V_` and without
//! the time range (`tas_day_M_historical_r1i1p1f1_gn_18500101-18691231.nc` →
//! `day_M_historical_r1i1p1f1_gn.zarr`) when all members agree on that, else by the directory
//! (`<P>_<grid>.zarr`, or `<P>.zarr` without grids).

use super::by_name::split;
use super::{Combine, Rule};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// How a union parent's members are combined: each variable joined along time, the variables
/// merged, those that disagree with the others left out (with the reason).
pub fn combine() -> Combine {
    Combine { join: "time".into(), union: Some(Rule::Compatible) }
}

/// One variable's tree: where its members were taken from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariableTree {
    pub variable: String,
    pub grid: Option<String>,
    /// The version taken, and the other versions seen (not taken).
    pub version: Option<String>,
    pub older: Vec<String>,
    /// The members (archive-relative), in name order.
    pub files: Vec<PathBuf>,
}

/// One store of a union parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnionStore {
    /// The store's name in P (ends in `.zarr`).
    pub name: OsString,
    pub grid: Option<String>,
    pub variables: Vec<VariableTree>,
}

impl UnionStore {
    /// Every member (archive-relative), in path order.
    pub fn members(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.variables.iter().flat_map(|v| v.files.clone()).collect();
        out.sort();
        out
    }
}

/// What the listings of a directory's sub-trees say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recognised {
    pub stores: Vec<UnionStore>,
    /// Every directory listed to find them (archive-relative): a change in any of them can
    /// change the stores.
    pub looked_at: Vec<PathBuf>,
    /// Sub-directories that looked like variable trees but hold no member files.
    pub notes: Vec<String>,
}

/// The union stores of archive directory `rel` (under the archive `root`), whose
/// sub-directories are `subdirs`.
pub fn recognise(root: &Path, rel: &Path, subdirs: &[OsString]) -> Recognised {
    let mut out = Recognised::default();
    let mut trees: Vec<VariableTree> = Vec::new();
    let mut candidates: Vec<&OsString> = subdirs.iter().filter(|d| is_variable(d)).collect();
    candidates.sort();
    for v in candidates {
        trees.extend(variable_trees(root, &rel.join(v), &mut out));
    }
    let variables: std::collections::BTreeSet<&str> =
        trees.iter().map(|t| t.variable.as_str()).collect();
    if variables.len() < 2 {
        out.stores.clear();
        return out;
    }
    let mut by_grid: BTreeMap<Option<String>, Vec<VariableTree>> = BTreeMap::new();
    for t in trees {
        by_grid.entry(t.grid.clone()).or_default().push(t);
    }
    let dir_name = rel.file_name().or(root.file_name()).unwrap_or(OsStr::new("union"));
    for (grid, variables) in by_grid {
        let name = store_name(&variables, dir_name, grid.as_deref());
        out.stores.push(UnionStore { name, grid, variables });
    }
    out
}

/// A `variable_id`: letters and digits only.
fn is_variable(name: &OsStr) -> bool {
    !name.is_empty() && name.as_bytes().iter().all(u8::is_ascii_alphanumeric)
}

/// The number of a version directory `v<digits>`.
pub fn version_number(name: &[u8]) -> Option<u64> {
    let digits = name.strip_prefix(b"v")?;
    let ok = !digits.is_empty() && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit);
    ok.then(|| std::str::from_utf8(digits).ok()?.parse().ok()).flatten()
}

fn is_grid(name: &[u8]) -> bool {
    name.first() == Some(&b'g') && name.iter().all(u8::is_ascii_alphanumeric)
}

/// The sub-directories and regular files of archive directory `rel` (links not followed).
fn list(root: &Path, rel: &Path, out: &mut Recognised) -> (Vec<OsString>, Vec<OsString>) {
    let (mut dirs, mut files) = (Vec::new(), Vec::new());
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else { return (dirs, files) };
    out.looked_at.push(rel.to_path_buf());
    for e in entries.flatten() {
        match e.file_type() {
            Ok(t) if t.is_dir() => dirs.push(e.file_name()),
            Ok(t) if t.is_file() => files.push(e.file_name()),
            _ => {}
        }
    }
    dirs.sort();
    files.sort();
    (dirs, files)
}

/// The files of `files` named `<variable>_…`.
fn own_files(variable: &[u8], files: Vec<OsString>) -> Vec<OsString> {
    let prefix = [variable, b"_"].concat();
    files.into_iter().filter(|f| f.as_bytes().starts_with(&prefix)).collect()
}

/// The variable trees of sub-directory `v` (archive-relative): one, or one per grid.
fn variable_trees(root: &Path, v: &Path, out: &mut Recognised) -> Vec<VariableTree> {
    let variable = v.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let (dirs, files) = list(root, v, out);
    let own = own_files(variable.as_bytes(), files);
    let tree = |grid: Option<String>, version, older, dir: &Path, own: Vec<OsString>| {
        let files = own.iter().map(|f| dir.join(f)).collect();
        VariableTree { variable: variable.clone(), grid, version, older, files }
    };
    if !own.is_empty() {
        return vec![tree(None, None, vec![], v, own)];
    }
    if let Some((version, older, own)) = latest(root, v, &variable, &dirs, out) {
        return vec![tree(None, Some(version.clone()), older, &v.join(version), own)];
    }
    let mut trees = Vec::new();
    for g in dirs.iter().filter(|d| is_grid(d.as_bytes())) {
        let gdir = v.join(g);
        let (versions, _) = list(root, &gdir, out);
        match latest(root, &gdir, &variable, &versions, out) {
            Some((version, older, own)) => {
                let grid = Some(g.to_string_lossy().into_owned());
                trees.push(tree(grid, Some(version.clone()), older, &gdir.join(version), own));
            }
            None if versions.iter().any(|d| version_number(d.as_bytes()).is_some()) => {
                out.notes.push(format!(
                    "{}: no version directory holds {variable}_* files",
                    gdir.display()
                ));
            }
            None => {}
        }
    }
    trees
}

/// The greatest version directory among `dirs` (of `dir`) holding files of `variable`: its
/// name, the other versions' names, and its files.
fn latest(
    root: &Path,
    dir: &Path,
    variable: &str,
    dirs: &[OsString],
    out: &mut Recognised,
) -> Option<(String, Vec<String>, Vec<OsString>)> {
    let mut versions: Vec<(u64, &OsString)> =
        dirs.iter().filter_map(|d| Some((version_number(d.as_bytes())?, d))).collect();
    versions.sort_by(|a, b| b.cmp(a));
    for (_, v) in &versions {
        let (_, files) = list(root, &dir.join(v), out);
        let own = own_files(variable.as_bytes(), files);
        if !own.is_empty() {
            let name = v.to_string_lossy().into_owned();
            let older: Vec<String> = versions
                .iter()
                .map(|(_, o)| o.to_string_lossy().into_owned())
                .filter(|o| *o != name)
                .collect();
            return Some((name, older, own));
        }
    }
    if !versions.is_empty() {
        out.notes.push(format!("{}: no version directory holds {variable}_* files", dir.display()));
    }
    None
}

/// The store's name: the members' common file-name stem without `<variable>_` and the time
/// range, else `<dir>[_<grid>].zarr`.
fn store_name(trees: &[VariableTree], dir: &OsStr, grid: Option<&str>) -> OsString {
    let stem_of = |variable: &str, file: &Path| -> Option<Vec<u8>> {
        let name = file.file_name()?.as_bytes();
        let rest = name.strip_prefix(variable.as_bytes())?.strip_prefix(b"_")?;
        let stem = match split(rest) {
            Some(n) => n.stem.to_vec(),
            None => match rest.iter().rposition(|b| *b == b'.') {
                Some(dot) if dot > 0 => rest[..dot].to_vec(),
                _ => rest.to_vec(),
            },
        };
        (!stem.is_empty()).then_some(stem)
    };
    let stems: Option<Vec<Vec<u8>>> =
        trees.iter().flat_map(|t| t.files.iter().map(|f| stem_of(&t.variable, f))).collect();
    let mut name = match stems {
        Some(s) if !s.is_empty() && s.iter().all(|x| *x == s[0]) => s[0].clone(),
        _ => {
            let mut n = dir.as_bytes().to_vec();
            if let Some(g) = grid {
                n.extend_from_slice(b"_");
                n.extend_from_slice(g.as_bytes());
            }
            n
        }
    };
    name.extend_from_slice(b".zarr");
    OsStr::from_bytes(&name).to_os_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> PathBuf {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("cmip-tree-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            if !f.ends_with('/') {
                std::fs::write(&p, b"x").expect("write");
            }
        }
        root
    }

    fn stores(root: &Path, rel: &str) -> Recognised {
        let mut subdirs: Vec<OsString> = std::fs::read_dir(root.join(rel))
            .expect("list")
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name())
            .collect();
        subdirs.sort();
        recognise(root, Path::new(rel), &subdirs)
    }

    fn names(r: &Recognised) -> Vec<String> {
        r.stores.iter().map(|s| s.name.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn cmip6_table_directory_one_store_per_grid_latest_version() {
        let m = "day_M_historical_r1i1p1f1";
        let root = tree(&[
            &format!("day/tas/gn/v20190101/tas_{m}_gn_18500101-18591231.nc"),
            &format!("day/tas/gn/v20190710/tas_{m}_gn_18500101-18591231.nc"),
            &format!("day/tas/gn/v20190710/tas_{m}_gn_18600101-18691231.nc"),
            &format!("day/tas/gr/v20190101/tas_{m}_gr_18500101-18691231.nc"),
            &format!("day/pr/gn/v20190710/pr_{m}_gn_18500101-18691231.nc"),
            "day/pr/gn/v20200101/", // an empty newer version: not taken
            &format!("day/pr/gn/latest/pr_{m}_gn_18500101-18691231.nc"),
            "day/README/notes.txt",
        ]);
        let r = stores(&root, "day");
        assert_eq!(names(&r), [format!("{m}_gn.zarr"), format!("{m}_gr.zarr")]);
        let gn = &r.stores[0];
        assert_eq!(gn.grid.as_deref(), Some("gn"));
        let taken: Vec<(&str, Option<&str>)> =
            gn.variables.iter().map(|v| (v.variable.as_str(), v.version.as_deref())).collect();
        assert_eq!(taken, [("pr", Some("v20190710")), ("tas", Some("v20190710"))]);
        assert_eq!(gn.variables[1].older, ["v20190101"]);
        assert_eq!(gn.members().len(), 3);
        assert!(gn.members().iter().all(|p| !p.starts_with("day/pr/gn/latest")));
        assert_eq!(r.stores[1].members().len(), 1);
        assert!(r.looked_at.contains(&PathBuf::from("day/tas/gn/v20190710")));
        // the tree below a variable is no union parent itself
        assert!(stores(&root, "day/tas").stores.is_empty());
        assert!(stores(&root, "").stores.is_empty());
        std::fs::remove_dir_all(&root).expect("cleanup");
    }

    #[test]
    fn cordex_and_variable_only_layouts() {
        let c = "EUR-11_D_historical_r1i1p1_R_v1_day";
        let root = tree(&[
            &format!("cordex/day/tas/v20190101/tas_{c}_19500101-19501231.nc"),
            &format!("cordex/day/pr/v20180101/pr_{c}_19500101-19501231.nc"),
            &format!("cordex/day/pr/v20190101/pr_{c}_19500101-19501231.nc"),
            "cmip5/v1/tas/tas_day_M_historical_r1i1p1_18500101-18591231.nc",
            "cmip5/v1/pr/pr_day_M_historical_r1i1p1_18500101-18591231.nc",
            "cmip5/v1/orog/orog_fx_M_historical_r0i0p0.nc",
            // names that do not follow the file rule: the directory names the store
            "plain/v1/tas/tas_a.nc",
            "plain/v1/pr/pr_b.nc",
            // one variable only, or files not named after their directory: nothing
            "one/v1/tas/tas_a.nc",
            "misnamed/x/a/other.nc",
            "misnamed/x/b/other.nc",
        ]);
        let r = stores(&root, "cordex/day");
        assert_eq!(names(&r), [format!("{c}.zarr")]);
        assert_eq!(r.stores[0].variables[0].version.as_deref(), Some("v20190101"));
        assert_eq!(r.stores[0].variables[0].older, ["v20180101"]);
        // orog's fx name differs: the directory names the store
        assert_eq!(names(&stores(&root, "cmip5/v1")), ["v1.zarr"]);
        assert_eq!(names(&stores(&root, "plain/v1")), ["v1.zarr"]);
        assert!(stores(&root, "one/v1").stores.is_empty());
        assert!(stores(&root, "misnamed/x").stores.is_empty());
        std::fs::remove_dir_all(&root).expect("cleanup");
    }

    #[test]
    fn version_names() {
        assert_eq!(version_number(b"v20190710"), Some(20190710));
        assert_eq!(version_number(b"v2"), Some(2));
        for not in [&b"latest"[..], b"v", b"v2019a", b"20190710", b"V1", b"v1234567890123456789"] {
            assert_eq!(version_number(not), None);
        }
        assert!(is_grid(b"gn") && is_grid(b"gr1") && !is_grid(b"tas") && !is_grid(b"g-n"));
    }
}
