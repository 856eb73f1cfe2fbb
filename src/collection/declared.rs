//! Declared collections (`--collections FILE`, TOML): datasets of many files named by the
//! data manager, beside the automatic rule.
//!
//! ```toml
//! [[collection]]
//! name = "cmip6/MPI-ESM1-2-LR/historical.zarr"   # the store's path in the mount
//! members = ["cmip6/MPI-ESM1-2-LR/historical/*/day/*/gn/*/*.nc"]  # globs, archive-relative
//! join = "time"    # join along the time coordinate's dimension, or any dimension named
//! union = true     # one store of all variables (members grouped by their variables)
//! ```
//!
//! A glob's components match names: `*` any run of characters but `/`, `?` one character,
//! `**` any number of directories. A declared collection wins over the automatic rule for
//! its members. Its directory (the name's parent) must be a directory of the archive.

use super::declared_derived::DeclaredDerived;
use serde::Deserialize;
use std::path::{Component, Path, PathBuf};

/// One declared collection.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    /// The store's path in the mount, ending in `.zarr`.
    pub name: PathBuf,
    /// Globs of its members, relative to the archive.
    pub members: Vec<String>,
    /// The dimension joined along: "time" (the time coordinate's dimension, whatever its
    /// name) or any other dimension of the members (see `collection::join_along`).
    #[serde(default)]
    pub join: Option<String>,
    /// Members with different variables make one store of all of them.
    #[serde(default)]
    pub union: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    collection: Vec<Declared>,
    #[serde(default)]
    derived: Vec<DeclaredDerived>,
}

/// Why a collections file is refused (at start: the mount is not made).
#[derive(Debug, thiserror::Error)]
pub enum DeclaredError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("{}: {name}: {why}", path.display())]
    Invalid { path: PathBuf, name: String, why: &'static str },
}

/// The collections of the TOML file at `path`.
pub fn load(path: &Path) -> Result<Vec<Declared>, DeclaredError> {
    Ok(load_all(path)?.0)
}

/// The collections and the derived datasets (`[[derived]]`, see `declared_derived.rs`) of the
/// TOML file at `path`.
pub fn load_all(path: &Path) -> Result<(Vec<Declared>, Vec<DeclaredDerived>), DeclaredError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| DeclaredError::Read { path: path.to_path_buf(), source })?;
    let file: File = toml::from_str(&text)
        .map_err(|source| DeclaredError::Parse { path: path.to_path_buf(), source })?;
    for c in &file.collection {
        let invalid = |why| DeclaredError::Invalid {
            path: path.to_path_buf(),
            name: c.name.display().to_string(),
            why,
        };
        let relative = c.name.components().all(|x| matches!(x, Component::Normal(_)));
        if !relative || c.name.extension().is_none_or(|e| e != "zarr") {
            return Err(invalid("name must be a relative path ending in .zarr"));
        }
        if c.members.is_empty() || c.members.iter().any(|g| g.starts_with('/') || g.contains(".."))
        {
            return Err(invalid("members must be archive-relative globs"));
        }
        if c.join.is_none() && !c.union {
            return Err(invalid("says neither join nor union"));
        }
    }
    for d in &file.derived {
        if let Some(why) = d.malformed() {
            let name = d.name.display().to_string();
            return Err(DeclaredError::Invalid { path: path.to_path_buf(), name, why });
        }
    }
    Ok((file.collection, file.derived))
}

impl Declared {
    /// True when archive-relative `path` is a member by one of the globs.
    pub fn claims(&self, path: &Path) -> bool {
        let parts: Vec<&[u8]> = parts_of(path);
        self.members.iter().any(|g| {
            let pattern: Vec<&[u8]> =
                g.split('/').filter(|p| !p.is_empty()).map(str::as_bytes).collect();
            matches_path(&pattern, &parts)
        })
    }

    /// The members found under `root` (absolute), archive-relative: the first glob's matches
    /// in path order, then the next glob's (a file matched twice counts where first matched).
    /// Members joined along a dimension without a coordinate variable keep this order.
    pub fn find(&self, root: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for g in &self.members {
            let pattern: Vec<&str> = g.split('/').filter(|p| !p.is_empty()).collect();
            let mut found = Vec::new();
            walk(root, &pattern, &mut found);
            found.sort();
            out.extend(found.into_iter().filter(|f| seen.insert(f.clone())));
        }
        out
    }
}

/// The files a glob (`*`, `?` within a name, `**` for any directories) names: absolute, or
/// relative to the working directory; in path order. Symbolic links are not followed.
pub fn expand(glob: &str) -> Vec<PathBuf> {
    let (root, rest) = match glob.strip_prefix('/') {
        Some(rest) => (Path::new("/"), rest),
        None => (Path::new("."), glob.strip_prefix("./").unwrap_or(glob)),
    };
    let pattern: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let mut out = Vec::new();
    if !pattern.is_empty() {
        walk(root, &pattern, &mut out);
    }
    let mut out: Vec<PathBuf> = match root == Path::new("/") {
        true => out.into_iter().map(|p| root.join(p)).collect(),
        false => out,
    };
    out.sort();
    out
}

fn parts_of(path: &Path) -> Vec<&[u8]> {
    use std::os::unix::ffi::OsStrExt;
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.as_bytes()),
            _ => None,
        })
        .collect()
}

/// Files below `root` matching `pattern`: the directories of its literal prefix, then every
/// file below (to the pattern's depth, or any depth with `**`), each matched as a path.
/// Symbolic links are not followed.
fn walk(root: &Path, pattern: &[&str], out: &mut Vec<PathBuf>) {
    let literal = pattern.iter().take_while(|p| !p.contains(['*', '?'])).count();
    let prefix: PathBuf = pattern[..literal.min(pattern.len().saturating_sub(1))].iter().collect();
    let depth = match pattern.contains(&"**") {
        true => usize::MAX,
        false => pattern.len() - prefix.components().count(),
    };
    let bytes: Vec<&[u8]> = pattern.iter().map(|p| p.as_bytes()).collect();
    let mut stack = vec![(prefix, 0usize)];
    while let Some((rel, level)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&rel)) else { continue };
        for e in entries.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            let child = rel.join(e.file_name());
            if kind.is_dir() && level + 1 < depth {
                stack.push((child, level + 1));
            } else if kind.is_file() && matches_path(&bytes, &parts_of(&child)) {
                out.push(child);
            }
        }
    }
}

/// A path's components against a pattern's (`**`: any number of components).
fn matches_path(pattern: &[&[u8]], parts: &[&[u8]]) -> bool {
    match pattern.split_first() {
        None => parts.is_empty(),
        Some((p, rest)) if *p == b"**" => {
            (0..=parts.len()).any(|skip| matches_path(rest, &parts[skip..]))
        }
        Some((p, rest)) => {
            !parts.is_empty() && matches_name(p, parts[0]) && matches_path(rest, &parts[1..])
        }
    }
}

/// One name against one component pattern (`*`, `?`).
fn matches_name(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => matches_name(&p[1..], s) || (!s.is_empty() && matches_name(p, &s[1..])),
        (Some(b'?'), Some(_)) => matches_name(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => matches_name(&p[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_names_and_paths() {
        assert!(matches_name(b"tas_*.nc", b"tas_1850-1859.nc"));
        assert!(!matches_name(b"tas_*.nc", b"pr_1850.nc"));
        assert!(matches_name(b"?as*", b"tas"));
        let d = Declared {
            name: "all.zarr".into(),
            members: vec!["a/**/tas_*.nc".into(), "b/*.nc".into()],
            join: Some("time".into()),
            union: false,
        };
        assert!(d.claims(Path::new("a/tas_1.nc")));
        assert!(d.claims(Path::new("a/x/y/tas_1.nc")));
        assert!(d.claims(Path::new("b/pr.nc")));
        assert!(!d.claims(Path::new("b/c/pr.nc")));
        assert!(!d.claims(Path::new("c/tas_1.nc")));
    }

    #[test]
    fn a_collections_file_is_checked() {
        let dir = std::env::temp_dir().join(format!("declared-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |text: &str| {
            let p = dir.join("c.toml");
            std::fs::write(&p, text).unwrap();
            load(&p)
        };
        let ok =
            write("[[collection]]\nname = \"x/all.zarr\"\nmembers = [\"x/*.nc\"]\nunion = true\n");
        assert_eq!(ok.unwrap()[0].name, PathBuf::from("x/all.zarr"));
        assert!(write(
            "[[collection]]\nname = \"/abs.zarr\"\nmembers = [\"*.nc\"]\nunion = true\n"
        )
        .is_err());
        assert!(write("[[collection]]\nname = \"a.zarr\"\nmembers = [\"*.nc\"]\n").is_err());
        assert!(write(
            "[[collection]]\nname = \"a.zarr\"\nmembers = [\"*.nc\"]\nunion = true\nbogus = 1\n"
        )
        .is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
