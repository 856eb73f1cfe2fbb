//! `cloudify inspect X.ncml`: the collection an NcML aggregation file describes, as a mount
//! serves it as `X.zarr` (members, joined extent, how each variable is served, the edits), or
//! why it is not served.

use super::collection::combined;
use crate::collection::ncml::{self, resolve, NcmlError};
use crate::source::IndexOptions;
use crate::worker::Isolation;
use std::fmt::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The report of the NcML file at `path`. Locations are resolved on this machine (a mount
/// also refuses those outside its archive).
pub fn ncml_file(path: &Path, isolation: &Isolation, options: &IndexOptions) -> String {
    let name = path.file_name().map(|n| n.as_bytes()).unwrap_or_default();
    let store =
        format!("{}.zarr", String::from_utf8_lossy(name.strip_suffix(b".ncml").unwrap_or(name)));
    let mut out = String::new();
    let refused = |out: &mut String, e: &dyn std::fmt::Display| {
        let _ = writeln!(out, "{}: not served: {e}", path.display());
    };
    let parsed = match ncml::read(path) {
        Ok(p) => p,
        Err(e) => {
            refused(&mut out, &e);
            return out;
        }
    };
    let _ = writeln!(out, "{}: {}", path.display(), ncml::describe(&parsed));
    let recipe = match ncml::recipe(&parsed) {
        Ok(r) => r,
        Err(e) => {
            refused(&mut out, &e);
            return out;
        }
    };
    let dir = match path.canonicalize().map(|p| p.parent().map(Path::to_path_buf)) {
        Ok(Some(d)) => d,
        _ => {
            refused(&mut out, &NcmlError::Invalid("its directory cannot be found".into()));
            return out;
        }
    };
    let root = Path::new("/");
    let rel = dir.strip_prefix(root).unwrap_or(&dir);
    let mut found = resolve::Found::default();
    if let Err(e) = resolve::members(&parsed.aggregation, root, rel, &mut found) {
        refused(&mut out, &e);
        return out;
    }
    for d in &found.scanned {
        let _ = writeln!(out, "  scanned: {}", root.join(d).display());
    }
    let mut members: Vec<PathBuf> = found.members.iter().map(|m| root.join(m)).collect();
    members.sort();
    out.push_str(&combined(&store, &members, &recipe, isolation, options));
    out
}
