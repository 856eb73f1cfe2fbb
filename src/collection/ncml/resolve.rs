//! The members an NcML aggregation names, found in the archive: locations relative to the
//! NcML file's directory, absolute paths and `file:` URLs, each required to lie inside the
//! archive (lexically here; the tree checks where symbolic links lead); remote URLs refused.
//! A `<scan>` lists its directory (and, with `subdirs`, those below, never through a link)
//! and keeps the data files (NetCDF/HDF5 by their magic bytes) whose name matches `regExp`
//! (the whole name, RE2 syntax as in netCDF-Java) or else ends with `suffix`, not modified
//! for `olderThan`. Walks are bounded.

use super::error::NcmlError;
use super::parse::{Aggregation, Part, Scan};
use crate::source::sniff_path;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

/// More members than this refuse the aggregation (a hostile or mistaken scan of a tree).
pub const MAX_MEMBERS: usize = 100_000;
/// Directories below a scan's location visited at most (`subdirs`).
const MAX_DEPTH: usize = 32;

/// The members of an aggregation, archive-relative, and the directories its scans listed
/// (archive-relative): a file created or removed there may change the members.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub members: Vec<PathBuf>,
    pub scanned: Vec<PathBuf>,
    /// When the first file a scan left out as too new (`olderThan`) becomes old enough.
    pub ripe_at: Option<SystemTime>,
}

/// Where the aggregation's files are: `root` the archive (canonical), `dir` the NcML file's
/// directory (archive-relative). None found is [`NcmlError::NoMembers`]; the directories
/// read are in `found` whatever the outcome (a file arriving there may change it).
pub fn members(
    agg: &Aggregation,
    root: &Path,
    dir: &Path,
    found: &mut Found,
) -> Result<(), NcmlError> {
    collect(agg, root, dir, found)?;
    match found.members.is_empty() {
        true => Err(NcmlError::NoMembers),
        false => Ok(()),
    }
}

fn collect(agg: &Aggregation, root: &Path, dir: &Path, found: &mut Found) -> Result<(), NcmlError> {
    for part in &agg.parts {
        match part {
            Part::File(loc) => found.members.push(location(loc, root, dir)?),
            Part::Nested(inner) => collect(inner, root, dir, found)?,
            Part::Scan(scan) => {
                let start = location(&scan.location, root, dir)?;
                let mut files = Vec::new();
                let ripe = walk(scan, root, &start, &mut files, &mut found.scanned)?;
                found.ripe_at = found.ripe_at.into_iter().chain(ripe).min();
                files.sort();
                found.members.extend(files);
            }
        }
        if found.members.len() > MAX_MEMBERS {
            return Err(NcmlError::TooMany(MAX_MEMBERS));
        }
    }
    Ok(())
}

/// The archive-relative path a location names: relative to the NcML file's directory `dir`
/// (archive-relative), or absolute (inside `root`, the canonical archive).
pub fn location(loc: &str, root: &Path, dir: &Path) -> Result<PathBuf, NcmlError> {
    let path = match scheme(loc) {
        Some("file") => file_url(&loc["file:".len()..]),
        Some(_) => return Err(NcmlError::Remote(loc.to_string())),
        None => loc.to_string(),
    };
    let outside = || NcmlError::Outside(loc.to_string());
    let path = Path::new(&path);
    let absolute = path.is_absolute();
    let base = if absolute { Path::new("/") } else { dir };
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in base.components().chain(path.components()) {
        match c {
            Component::Normal(_) => out.push(c),
            Component::ParentDir => {
                out.pop().ok_or_else(outside)?;
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    let joined: PathBuf = out.iter().collect();
    if !absolute {
        return Ok(joined);
    }
    let absolute = Path::new("/").join(&joined);
    if let Ok(rel) = absolute.strip_prefix(root) {
        return Ok(rel.to_path_buf());
    }
    // the archive named through a link to it (`/data` for `/mnt/data`)
    let real = absolute.canonicalize().map_err(|_| outside())?;
    real.strip_prefix(root).map(Path::to_path_buf).map_err(|_| outside())
}

/// The scheme of a URL (`file`, `http`, `dods`, …), if `loc` is one.
fn scheme(loc: &str) -> Option<&str> {
    let colon = loc.find(':')?;
    let s = &loc[..colon];
    let mut chars = s.chars();
    let first = chars.next()?;
    let ok = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        && s.len() > 1;
    ok.then_some(s)
}

/// The path of a `file:` URL (after the scheme): `///p`, `//localhost/p` or `/p` absolute,
/// otherwise relative; `%XX` decoded.
fn file_url(rest: &str) -> String {
    let path = match rest.strip_prefix("//") {
        Some(after) => after.find('/').map_or(after, |i| &after[i..]),
        None => rest,
    };
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let code = match bytes.get(i..i + 3) {
            Some([b'%', h, l]) => hex(*h).zip(hex(*l)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match code {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The files of `scan` below `start` (archive-relative) into `files`; the directories listed
/// into `scanned`. Returns when the first file left out as too new becomes old enough.
fn walk(
    scan: &Scan,
    root: &Path,
    start: &Path,
    files: &mut Vec<PathBuf>,
    scanned: &mut Vec<PathBuf>,
) -> Result<Option<SystemTime>, NcmlError> {
    let pattern = match &scan.reg_exp {
        Some(p) => {
            Some(regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| NcmlError::Pattern {
                location: scan.location.clone(),
                pattern: p.clone(),
                source: Box::new(e),
            })?)
        }
        None => None,
    };
    let wanted = |name: &str| match (&pattern, &scan.suffix) {
        (Some(re), _) => re.is_match(name),
        (None, Some(suffix)) => name.ends_with(suffix.as_str()),
        (None, None) => true,
    };
    let now = SystemTime::now();
    let mut ripe_at: Option<SystemTime> = None;
    let mut old_enough = |m: &std::fs::Metadata| match (scan.older_than, m.modified()) {
        (None, _) => true,
        (Some(age), Ok(t)) if now.duration_since(t).is_ok_and(|d| d >= age) => true,
        (Some(age), Ok(t)) => {
            let ripe = t.checked_add(age);
            ripe_at = ripe_at.into_iter().chain(ripe).min();
            false
        }
        (Some(_), Err(_)) => false,
    };
    let mut stack = vec![(start.to_path_buf(), 0usize)];
    while let Some((rel, depth)) = stack.pop() {
        let entries = std::fs::read_dir(root.join(&rel))
            .map_err(|source| NcmlError::Scan { location: scan.location.clone(), source })?;
        scanned.push(rel.clone());
        for e in entries.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            let child = rel.join(e.file_name());
            if kind.is_dir() {
                if scan.subdirs && depth < MAX_DEPTH {
                    stack.push((child, depth + 1));
                }
                continue;
            }
            let Ok(meta) = std::fs::metadata(e.path()) else { continue };
            let name = e.file_name();
            // data files only (magic bytes, as the mount shows them): not the NcML file
            // itself, nor notes beside the data
            let data = || matches!(sniff_path(&e.path()), Ok(Some(_)));
            if meta.is_file() && wanted(&name.to_string_lossy()) && old_enough(&meta) && data() {
                files.push(child);
                if files.len() > MAX_MEMBERS {
                    return Err(NcmlError::TooMany(MAX_MEMBERS));
                }
            }
        }
    }
    Ok(ripe_at)
}
