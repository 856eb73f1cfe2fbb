//! `cloudify inspect DIR` of a `--union-parent` directory: the stores its variable trees make
//! (per grid label: each variable's version taken and the older ones, its members), each
//! merged as the mount merges it, and what was merged and what was refused, with the reason.

use super::collection::combined;
use crate::collection::cmip_tree::{combine, recognise};
use crate::source::IndexOptions;
use crate::worker::Isolation;
use std::ffi::OsString;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The report of the union stores of `dir` (empty when it is no union parent).
pub fn report(dir: &Path, isolation: &Isolation, options: &IndexOptions) -> String {
    let mut subdirs: Vec<OsString> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name())
            .collect(),
        Err(_) => return String::new(),
    };
    subdirs.sort();
    let found = recognise(dir, Path::new(""), &subdirs);
    let mut out = String::new();
    if found.stores.is_empty() {
        return out;
    }
    for store in &found.stores {
        let name = store.name.to_string_lossy();
        let grid = store.grid.as_deref().map_or(String::new(), |g| format!(" (grid {g})"));
        let _ = writeln!(out, "\nunion store {name}{grid} (--union-parent):");
        for v in &store.variables {
            let version = v.version.as_deref().unwrap_or("no version directory");
            let older = match v.older.is_empty() {
                true => String::new(),
                false => format!(", not taken: {}", v.older.join(", ")),
            };
            let _ = writeln!(out, "  {}: {version}{older}, {} files", v.variable, v.files.len());
        }
        let paths: Vec<PathBuf> = store.members().iter().map(|m| dir.join(m)).collect();
        out.push_str(&combined(&name, &paths, &combine().into(), isolation, options));
    }
    for note in &found.notes {
        let _ = writeln!(out, "\nnot a variable tree: {note}");
    }
    out
}
