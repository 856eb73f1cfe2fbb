//! `cloudify inspect DIR` (or several files): the collections a directory forms, each with its
//! members in time order, the joined time extent, how every variable is served (its members'
//! chunks passed through, joined chunks, generated, or taken from the first member) or why it
//! is left out, the dropped attributes, and why files were not joined.

use crate::cf::calendar::{Calendar, TimeAxis};
use crate::collection::by_name::{groups, split};
use crate::collection::{
    combine, whole_array, Combine, JoinError, Joined, Member, Recipe, DROPPED,
};
use crate::index::{ArrayNode, AttrValue, ChunkFiles, ChunkRef, DatasetIndex, StorageKind};
use crate::source::{sniff_path, IndexOptions};
use crate::worker::Isolation;
use crate::zarr::chunk::cache::ChunkCache;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The report of the collections among the data files of directory `dir`.
pub fn directory(dir: &Path, isolation: &Isolation, options: &IndexOptions) -> String {
    let mut files: Vec<OsString> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .filter(|e| e.path().is_file() && matches!(sniff_path(&e.path()), Ok(Some(_))))
            .map(|e| e.file_name())
            .collect(),
        Err(e) => return format!("{}: {e}\n", dir.display()),
    };
    files.sort();
    let found = groups(files.iter().map(|f| f.as_os_str()));
    let mut out = String::new();
    if found.is_empty() {
        let _ = writeln!(
            out,
            "{}: no collection by file name (no two data files differ only by a trailing \
            time-range token <stem>_<start>[-<end>].<ext>)",
            dir.display()
        );
    }
    for g in &found {
        let paths: Vec<PathBuf> = g.members.iter().map(|m| dir.join(m)).collect();
        let store = format!("{}.zarr", g.stem.to_string_lossy());
        out.push_str(&members(&store, &paths, isolation, options));
    }
    out.push_str(&ncml_files(dir, isolation, options));
    let grouped: Vec<&OsString> = found.iter().flat_map(|g| &g.members).collect();
    let mut alone: BTreeMap<(Vec<u8>, Vec<u8>), Vec<&OsString>> = BTreeMap::new();
    for f in files.iter().filter(|f| !grouped.contains(f)) {
        if let Some(n) = split(f.as_bytes()) {
            alone.entry((n.stem.to_vec(), n.ext.to_vec())).or_default().push(f);
        }
    }
    for ((stem, ext), names) in alone {
        let why = if names.len() == 1 {
            "the only file with this stem and extension".to_string()
        } else {
            "files of this stem have several extensions: the store name would be ambiguous".into()
        };
        let names: Vec<String> = names.iter().map(|n| n.to_string_lossy().into_owned()).collect();
        let _ = writeln!(
            out,
            "\nnot joined: {} ({}{}): {why}",
            names.join(", "),
            String::from_utf8_lossy(&stem),
            String::from_utf8_lossy(&ext)
        );
    }
    out
}

/// The reports of the NcML aggregation files of `dir`, each shown as a store by a mount.
fn ncml_files(dir: &Path, isolation: &Isolation, options: &IndexOptions) -> String {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| crate::collection::ncml::is_ncml(e.file_name().as_bytes()))
        .map(|e| e.path())
        .collect();
    names.sort();
    names.iter().map(|p| format!("\n{}", super::ncml::ncml_file(p, isolation, options))).collect()
}

/// The report of `paths` joined as one collection shown as `store`.
pub fn members(
    store: &str,
    paths: &[PathBuf],
    isolation: &Isolation,
    options: &IndexOptions,
) -> String {
    combined(store, paths, &Combine::time().into(), isolation, options)
}

/// The report of `paths` made into one collection shown as `store` as `recipe` says.
pub fn combined(
    store: &str,
    paths: &[PathBuf],
    recipe: &Recipe,
    isolation: &Isolation,
    options: &IndexOptions,
) -> String {
    let mut out = format!("\ncollection {store}: {} files\n", paths.len());
    let mut indexes: Vec<DatasetIndex> = Vec::new();
    let mut files: Vec<File> = Vec::new();
    for p in paths {
        let opened = File::open(p)
            .map_err(|e| e.to_string())
            .and_then(|f| isolation.index(p, options).map(|i| (f, i)).map_err(|e| e.to_string()));
        match opened {
            Ok((f, index)) => {
                files.push(f);
                indexes.push(index);
            }
            Err(e) => {
                let _ = writeln!(out, "  not joined: member {} cannot be read: {e}", p.display());
                return out;
            }
        }
    }
    let input: Vec<Member<'_>> = paths
        .iter()
        .zip(&indexes)
        .zip(&files)
        .map(|((p, index), f)| Member { name: name_of(p), index, file: Some(f) })
        .collect();
    let cache = ChunkCache::new(0);
    let read = |i: usize, a: &ArrayNode| -> Result<Vec<u8>, JoinError> {
        whole_array((&files[i], None), &cache, a, 64 << 20)
    };
    match combine(&input, recipe, &read) {
        Ok(joined) => describe(&mut out, &joined),
        Err(r) => {
            let _ = writeln!(out, "  not joined: {r}");
        }
    }
    out
}

fn name_of(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn describe(out: &mut String, joined: &Joined) {
    for note in &joined.notes {
        let _ = writeln!(out, "  {note}");
    }
    let root = &joined.index.root;
    if let Some(extent) = extent(&joined.index) {
        let _ = writeln!(out, "  time: {extent}");
    }
    for (name, len) in &root.dimensions {
        let _ = writeln!(out, "  dimension {name}: {len}");
    }
    for a in &root.arrays {
        let _ = writeln!(out, "  {:<20} {:?} {}", a.name, a.shape, how(a));
    }
    for s in root.skipped.iter().filter(|s| !joined.refused.iter().any(|r| r.ends_with(&s.reason)))
    {
        let _ = writeln!(out, "  {:<20} left out: {}", s.name, s.reason);
    }
    for r in &joined.refused {
        let _ = writeln!(out, "  not merged: {r}");
    }
    if let Some((_, AttrValue::Strs(names))) = root.attrs.iter().find(|(k, _)| k == DROPPED) {
        let _ = writeln!(
            out,
            "  attributes dropped (they differ between members): {}",
            names.join(", ")
        );
    }
}

/// How the chunks of joined array `a` are served.
fn how(a: &ArrayNode) -> String {
    match (&a.files, a.storage, a.joined.as_deref()) {
        (ChunkFiles::AlongDim { .. }, _, _) => "the members' chunks, passed through".into(),
        (_, StorageKind::Joined, Some(j)) if !j.unpack.is_empty() => {
            "joined chunks, generated from the members' unpacked values (packing differs)".into()
        }
        (_, StorageKind::Joined, _) => {
            "joined chunks, generated from the members' chunks (grids or filters differ)".into()
        }
        (ChunkFiles::Member(_), _, _) => "a member's (equal in all members that have it)".into(),
        _ => "generated: values re-expressed in the first member's units".into(),
    }
}

/// The first and last time of the joined index, as dates.
fn extent(index: &DatasetIndex) -> Option<String> {
    let root = &index.root;
    let t = root.arrays.iter().find(|a| {
        a.dims.len() == 1
            && a.attrs.iter().any(|(k, v)| {
                k == "units" && matches!(v, AttrValue::Str(u) if u.contains(" since "))
            })
    })?;
    let text = |k: &str| {
        t.attrs.iter().find(|(n, _)| n == k).and_then(|(_, v)| match v {
            AttrValue::Str(s) => Some(s.as_str()),
            _ => None,
        })
    };
    let calendar = Calendar::parse(text("calendar")).ok()?;
    let axis = TimeAxis::parse(text("units")?, calendar).ok()?;
    let Some(Some(ChunkRef::Inline { bytes })) = t.chunk_refs.first() else { return None };
    let size = t.dtype.size.max(1);
    let first = t.dtype.decode(bytes.get(..size)?)?.as_f64()?;
    let last = t.dtype.decode(bytes.get(bytes.len().checked_sub(size)?..)?)?.as_f64()?;
    let label =
        |v: f64| axis.label(v).map(|l| format!("{:04}-{:02}-{:02}", l.year, l.month, l.day));
    Some(format!(
        "{} to {} ({} steps, {})",
        label(first)?,
        label(last)?,
        t.shape.first()?,
        text("units")?
    ))
}
