//! Which entries of an archive directory appear in the mount, and under which names.
//!
//! Rule (documented in the README): every NetCDF/HDF5 file (recognised by its magic bytes)
//! appears as `<file name with its last extension replaced by .zarr>`; a name without extension
//! gets `.zarr` appended. When two entries of one directory would get the same name (`x.nc`
//! and `x.h5`, or a file `x.nc` beside a directory `x.zarr`), each such file keeps its full name
//! (`x.nc.zarr`, `x.h5.zarr`). Sub-directories keep their names. Other files are not shown.
//! Symbolic links are followed only when their target lies inside the archive, or anywhere with
//! `--follow-symlinks`; a link back to a directory it is reached through is never followed.
//! With STAC on, every directory also shows `catalog.json` and every store `<stem>.zarr` an item
//! `<stem>.stac.json`; a sub-directory of the same name hides them.
//!
//! Collections (`crate::collection::by_name`): data files `<stem>_<start>[-<end>].<ext>` of
//! one directory, two or more with one stem and extension, also appear together as
//! `<stem>.zarr` (and its item). A file whose own store would have that name keeps its full
//! name; no collection is made where a file of the directory is itself named `<stem>.zarr`
//! (its store's key would be ambiguous) or a sub-directory is.
//!
//! NcML aggregations (`crate::collection::ncml`): a file `X.ncml` appears as the store `X.zarr`
//! (and its item), or `X.ncml.zarr` when `X.zarr` is taken; the file itself is not shown. It
//! is read when the store is first used, not here.

use crate::collection::by_name;
use crate::collection::declared::Declared;
use crate::collection::ncml::is_ncml;
use crate::collection::Combine;
use crate::source::sniff_path;
use crate::stac::CATALOG_FILE;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::warn;

/// One visible entry of an archive directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArchiveEntry {
    /// A sub-directory, shown under its own name.
    Dir { name: OsString },
    /// A data file (`file` is its name in the archive), shown as `<name>.zarr/`.
    Dataset { name: OsString, file: OsString },
    /// Data files shown together as one store `name` (a collection): its members
    /// (archive-relative), and how they are combined.
    Collection { name: OsString, members: Arc<[PathBuf]>, how: Combine },
    /// An NcML aggregation file `file` of the directory, shown as the store `name`.
    Ncml { name: OsString, file: OsString },
    /// The STAC item of data file `file` (of a collection: its store's name), whose store is
    /// shown as `store`.
    Item { name: OsString, file: OsString, store: OsString },
    /// The directory's STAC catalog.
    Catalog { name: OsString },
    /// The quick-look image of data file `file` (of a collection: its store's name), whose
    /// store is shown as `store` (`--thumbnails`; see `generated.rs`).
    Thumbnail { name: OsString, file: OsString, store: OsString },
    /// A derived store declared in the `--collections` file (`generated.rs`).
    Derived { name: OsString },
}

impl ArchiveEntry {
    /// The name in the mount.
    pub fn name(&self) -> &OsString {
        match self {
            ArchiveEntry::Dir { name }
            | ArchiveEntry::Dataset { name, .. }
            | ArchiveEntry::Collection { name, .. }
            | ArchiveEntry::Ncml { name, .. }
            | ArchiveEntry::Item { name, .. }
            | ArchiveEntry::Thumbnail { name, .. }
            | ArchiveEntry::Derived { name }
            | ArchiveEntry::Catalog { name } => name,
        }
    }
}

/// What a store's name ends with (the one place that says so).
pub const STORE_SUFFIX: &str = ".zarr";

/// What a STAC item's name ends with, in place of the store's [`STORE_SUFFIX`].
pub const ITEM_SUFFIX: &str = ".stac.json";

/// The mount name of a data file by the short rule.
pub fn short_name(file: &[u8]) -> Vec<u8> {
    let stem = match file.iter().rposition(|b| *b == b'.') {
        Some(0) | None => file,
        Some(dot) => &file[..dot],
    };
    [stem, STORE_SUFFIX.as_bytes()].concat()
}

/// The mount name of a data file by the collision rule.
pub fn full_name(file: &[u8]) -> Vec<u8> {
    [file, STORE_SUFFIX.as_bytes()].concat()
}

/// A store's name (or path) without its [`STORE_SUFFIX`]: `x.zarr` → `x` (the item's id).
pub fn store_stem(store: &[u8]) -> &[u8] {
    store.strip_suffix(STORE_SUFFIX.as_bytes()).unwrap_or(store)
}

/// The item file name beside store `store` (`x.zarr` → `x.stac.json`).
pub fn item_name(store: &[u8]) -> Vec<u8> {
    [store_stem(store), ITEM_SUFFIX.as_bytes()].concat()
}

/// What a listing shows besides the data files and directories.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// `catalog.json` and `<stem>.stac.json` files.
    pub stac: bool,
    /// Follow symbolic links that lead outside the archive (`--follow-symlinks`).
    pub follow_symlinks: bool,
    /// Files shown in a collection are not shown as stores of their own (`--members hide`).
    pub hide_members: bool,
    /// Directories of variable trees also show their union (`--union-parent`, `vfs/union_parent.rs`).
    pub union_parent: bool,
}

/// List the visible entries of archive directory `dir`, sorted by mount name.
/// `archive_root` must be canonical. Symbolic links are shown as what they point to when
/// their target lies inside the archive, or anywhere with `follow_symlinks`; never when the
/// target is the directory itself or one of the directories the path came through (a cycle
/// would make the tree infinite); dangling links are not shown.
pub fn list_dir(
    archive_root: &Path,
    dir: &Path,
    options: ListOptions,
    declared: &[Declared],
) -> io::Result<Vec<ArchiveEntry>> {
    let mut dirs: Vec<OsString> = Vec::new();
    let mut files: Vec<OsString> = Vec::new();
    let mut ncml: Vec<OsString> = Vec::new();
    let mut visited: Option<Vec<PathBuf>> = None;
    for entry in std::fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let Ok(ftype) = entry.file_type() else {
            continue;
        };
        // what a link leads to needs a `stat`; anything else is what the directory says
        let (mut is_dir, mut is_file) = (ftype.is_dir(), ftype.is_file());
        if ftype.is_symlink() {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            (is_dir, is_file) = (meta.is_dir(), meta.is_file());
            let Ok(target) = path.canonicalize() else { continue };
            let refused = if !target.starts_with(archive_root) && !options.follow_symlinks {
                Some("symlink leaves the archive (see --follow-symlinks)")
            } else if is_dir
                && visited
                    .get_or_insert_with(|| came_through(archive_root, dir))
                    .iter()
                    .any(|v| v.starts_with(&target))
            {
                Some("symlink loops back")
            } else {
                None
            };
            if let Some(cause) = refused {
                if crate::telemetry::log_limit::allow(&path, cause).is_some() {
                    warn!(link = %path.display(), target = %target.display(), "not shown: {cause}");
                }
                continue;
            }
        }
        if is_dir {
            dirs.push(entry.file_name());
        } else if is_file {
            match sniff_path(&path) {
                Ok(Some(_)) => files.push(entry.file_name()),
                Ok(None) if is_ncml(entry.file_name().as_bytes()) => ncml.push(entry.file_name()),
                Ok(None) => {}
                Err(e) => warn!(file = %path.display(), "not shown: {e}"),
            }
        }
    }
    let rel = dir.strip_prefix(archive_root).unwrap_or(Path::new(""));
    // a declared collection wins over the automatic rule for its members
    let claimed = |f: &OsStr| declared.iter().any(|d| d.claims(&rel.join(f)));
    let mut entries = assign_names(rel, dirs, files, options.stac, options.hide_members, &claimed);
    if options.hide_members {
        entries.retain(|e| match e {
            ArchiveEntry::Dataset { file, .. } | ArchiveEntry::Item { file, .. } => !claimed(file),
            _ => true,
        });
    }
    for d in declared.iter().filter(|d| d.name.parent() == Some(rel)) {
        add_declared(&mut entries, d, archive_root, options.stac);
    }
    add_ncml(&mut entries, ncml, options.stac);
    entries.sort_by(|a, b| a.name().cmp(b.name()));
    Ok(entries)
}

/// The store (and item) of declared collection `d` in its directory's `entries`, unless a
/// name is taken (logged).
fn add_declared(entries: &mut Vec<ArchiveEntry>, d: &Declared, root: &Path, stac: bool) {
    let Some(name) = d.name.file_name().map(OsStr::to_os_string) else { return };
    if entries.iter().any(|e| *e.name() == name) {
        warn!(collection = %d.name.display(), "declared collection not shown: its name is taken");
        return;
    }
    let members = d.find(root);
    if stac {
        let item = OsString::from_vec(item_name(name.as_bytes()));
        if !entries.iter().any(|e| *e.name() == item) {
            entries.push(ArchiveEntry::Item {
                name: item,
                file: name.clone(),
                store: name.clone(),
            });
        }
    }
    let how = Combine::declared(d.join.as_deref(), d.union);
    entries.push(ArchiveEntry::Collection { name, members: members.into(), how });
}

/// The stores (and items) of the NcML files `ncml` of a directory: `X.ncml` as `X.zarr`, or
/// `X.ncml.zarr` when that is taken (logged when both are).
fn add_ncml(entries: &mut Vec<ArchiveEntry>, mut ncml: Vec<OsString>, stac: bool) {
    ncml.sort();
    for file in ncml {
        let taken = |e: &[ArchiveEntry], n: &[u8]| {
            let item = item_name(n);
            e.iter().any(|x| x.name().as_bytes() == n || (stac && x.name().as_bytes() == item))
        };
        let name = [short_name(file.as_bytes()), full_name(file.as_bytes())]
            .into_iter()
            .find(|n| !taken(entries, n));
        let Some(name) = name.map(OsString::from_vec) else {
            warn!(file = ?file, "NcML aggregation not shown: its store names are taken");
            continue;
        };
        if stac {
            let item = OsString::from_vec(item_name(name.as_bytes()));
            entries.push(ArchiveEntry::Item {
                name: item,
                file: name.clone(),
                store: name.clone(),
            });
        }
        entries.push(ArchiveEntry::Ncml { name, file });
    }
}

/// The real paths of `dir` and of every directory between it and the archive root, as the
/// path reached them (through links): a link to any of them (or to a parent of one) is a cycle.
fn came_through(archive_root: &Path, dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![archive_root.to_path_buf()];
    let mut prefix = archive_root.to_path_buf();
    if let Ok(rel) = dir.strip_prefix(archive_root) {
        for c in rel.components() {
            prefix.push(c);
            if let Ok(real) = prefix.canonicalize() {
                out.push(real);
            }
        }
    }
    out
}

/// Apply the naming rule to the directories and data files of one directory.
pub fn assign_names(
    rel: &Path,
    dirs: Vec<OsString>,
    files: Vec<OsString>,
    stac: bool,
    hide_members: bool,
    claimed: &dyn Fn(&OsStr) -> bool,
) -> Vec<ArchiveEntry> {
    let mut count: HashMap<Vec<u8>, usize> = HashMap::new();
    for d in &dirs {
        *count.entry(d.as_bytes().to_vec()).or_default() += 1;
    }
    for f in &files {
        *count.entry(short_name(f.as_bytes())).or_default() += 1;
    }
    let mut out: Vec<ArchiveEntry> =
        dirs.iter().map(|d| ArchiveEntry::Dir { name: d.clone() }).collect();
    let taken: std::collections::HashSet<Vec<u8>> =
        dirs.iter().map(|d| d.as_bytes().to_vec()).collect();
    let file_names: std::collections::HashSet<&[u8]> = files.iter().map(|f| f.as_bytes()).collect();
    let mut hidden: std::collections::HashSet<OsString> = std::collections::HashSet::new();
    let automatic = files.iter().map(|f| f.as_os_str()).filter(|f| !claimed(f));
    for g in by_name::groups(automatic) {
        let store = [g.stem.as_bytes(), STORE_SUFFIX.as_bytes()].concat();
        if taken.contains(&store) || file_names.contains(store.as_slice()) {
            warn!(store = ?OsStr::from_bytes(&store), "collection not shown: its name is taken");
            continue;
        }
        // a file whose store would have this name keeps its full name
        *count.entry(store.clone()).or_default() += 1;
        let name = OsString::from_vec(store);
        if stac {
            let item = OsString::from_vec(item_name(name.as_bytes()));
            if !taken.contains(item.as_bytes()) {
                out.push(ArchiveEntry::Item {
                    name: item,
                    file: name.clone(),
                    store: name.clone(),
                });
            }
        }
        if hide_members {
            hidden.extend(g.members.iter().cloned());
        }
        let members: Vec<PathBuf> = g.members.iter().map(|m| rel.join(m)).collect();
        out.push(ArchiveEntry::Collection { name, members: members.into(), how: Combine::time() });
    }
    let files: Vec<OsString> = files.iter().filter(|f| !hidden.contains(*f)).cloned().collect();
    for f in files {
        let short = short_name(f.as_bytes());
        let name = if count.get(&short).copied().unwrap_or(0) > 1 {
            full_name(f.as_bytes())
        } else {
            short
        };
        if taken.contains(&name) {
            warn!(file = ?f, "not shown: its mount name is taken by a directory");
            continue;
        }
        if stac {
            let item = OsString::from_vec(item_name(&name));
            if taken.contains(item.as_bytes()) {
                warn!(file = ?f, "STAC item not shown: its name is taken by a directory");
            } else {
                let store = OsString::from_vec(name.clone());
                out.push(ArchiveEntry::Item { name: item, file: f.clone(), store });
            }
        }
        out.push(ArchiveEntry::Dataset { name: OsString::from_vec(name), file: f });
    }
    if stac && !taken.contains(CATALOG_FILE.as_bytes()) {
        out.push(ArchiveEntry::Catalog { name: CATALOG_FILE.into() });
    }
    out.sort_by(|a, b| a.name().cmp(b.name()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dirs: &[&str], files: &[&str]) -> Vec<(String, Option<String>)> {
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assign_names(Path::new(""), os(dirs), os(files), false, false, &|_| false)
            .into_iter()
            .map(|e| match e {
                ArchiveEntry::Dataset { name, file } => {
                    (name.to_string_lossy().into(), Some(file.to_string_lossy().into()))
                }
                other => (other.name().to_string_lossy().into(), None),
            })
            .collect()
    }

    #[test]
    fn rule_table() {
        let s = |a: &str, b: &str| (a.to_string(), Some(b.to_string()));
        assert_eq!(names(&[], &["tas.nc"]), vec![s("tas.zarr", "tas.nc")]);
        assert_eq!(names(&[], &["a.b.nc4"]), vec![s("a.b.zarr", "a.b.nc4")]);
        assert_eq!(names(&[], &["noext"]), vec![s("noext.zarr", "noext")]);
        assert_eq!(names(&[], &[".hidden"]), vec![s(".hidden.zarr", ".hidden")]);
        assert_eq!(
            names(&[], &["x.nc", "x.h5", "y.nc"]),
            vec![s("x.h5.zarr", "x.h5"), s("x.nc.zarr", "x.nc"), s("y.zarr", "y.nc")]
        );
        assert_eq!(
            names(&["x.zarr"], &["x.nc"]),
            vec![s("x.nc.zarr", "x.nc"), ("x.zarr".to_string(), None)]
        );
        // the full name is taken by a directory too: the file is not shown
        assert_eq!(names(&["x.zarr", "x.nc.zarr"], &["x.nc"]).len(), 2);
    }

    #[test]
    fn stac_files() {
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        let shown = |dirs: &[&str], files: &[&str]| -> Vec<String> {
            let entries = assign_names(Path::new(""), os(dirs), os(files), true, false, &|_| false);
            entries.iter().map(|e| e.name().to_string_lossy().into_owned()).collect()
        };
        assert_eq!(
            shown(&["sub"], &["tas.nc"]),
            vec!["catalog.json", "sub", "tas.stac.json", "tas.zarr"]
        );
        // a directory named like a STAC file hides it
        assert_eq!(
            shown(&["catalog.json", "x.stac.json"], &["x.nc"]),
            vec!["catalog.json", "x.stac.json", "x.zarr"]
        );
    }

    #[test]
    fn ncml_files_show_as_stores() {
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        let mut entries =
            assign_names(Path::new(""), os(&[]), os(&["x.nc"]), true, false, &|_| false);
        add_ncml(&mut entries, os(&["y.ncml", "x.ncml"]), true);
        entries.sort_by(|a, b| a.name().cmp(b.name()));
        let ncml: Vec<(String, String)> = entries
            .iter()
            .filter_map(|e| match e {
                ArchiveEntry::Ncml { name, file } => {
                    Some((name.to_string_lossy().into(), file.to_string_lossy().into()))
                }
                _ => None,
            })
            .collect();
        // x.zarr is the data file's: the NcML file keeps its full name
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(ncml, [pair("x.ncml.zarr", "x.ncml"), pair("y.zarr", "y.ncml")]);
        let names: Vec<_> =
            entries.iter().map(|e| e.name().to_string_lossy().into_owned()).collect();
        assert!(
            names.contains(&"x.ncml.stac.json".into()) && names.contains(&"y.stac.json".into())
        );
        assert!(is_ncml(b"a.ncml") && !is_ncml(b".ncml") && !is_ncml(b"a.ncml.bak"));
    }
}
