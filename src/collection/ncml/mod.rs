//! THREDDS NcML aggregation files (`*.ncml`) as collections: what a data manager already wrote
//! for a THREDDS server is served as one store, made by the same join and union as the other
//! collections.
//!
//! ```text
//!  parse.rs    the document → Ncml (aggregation, member sources, edits), or why it is refused
//!  edit.rs     <attribute> / <remove> of the aggregated dataset, applied after the join
//!  resolve.rs  locations and <scan>s → archive-relative member files, and the directories read
//!  tests.rs    the parser, the edits and the resolution of locations, without a mount
//! ```
//!
//! `joinExisting` is a join along time (members ordered by their time values, units
//! re-expressed: what `timeUnitsChange="true"` asks for, done in any case); `union` is the
//! union of variables, its nested `joinExisting` aggregations joined first. Whatever else NcML
//! can say is refused with the reason, never ignored.

pub mod edit;
mod error;
pub mod parse;
pub mod resolve;
#[cfg(test)]
mod tests;

pub use error::NcmlError;
pub use parse::{AggType, Aggregation, Ncml, Part};
pub use resolve::Found;

use super::combine::Combine;
use super::recipe::Recipe;
use std::io::Read;
use std::path::Path;

/// An NcML file larger than this is not read (a THREDDS aggregation of thousands of explicit
/// members is a few hundred KiB).
pub const MAX_BYTES: u64 = 4 << 20;

/// The NcML file would show as a store: its name says so (`.ncml`, as THREDDS names them).
pub fn is_ncml(name: &[u8]) -> bool {
    name.len() > ".ncml".len() && name.ends_with(b".ncml")
}

/// Read (at most [`MAX_BYTES`]) and parse the NcML file at `path`.
pub fn read(path: &Path) -> Result<Ncml, NcmlError> {
    let file = std::fs::File::open(path).map_err(NcmlError::Read)?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes).map_err(NcmlError::Read)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(NcmlError::TooLarge(MAX_BYTES));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| NcmlError::NotNcml("not UTF-8 text (NcML is read as UTF-8)".into()))?;
    parse::parse(&text)
}

/// What the collection layer makes of `ncml`: a union of variables or a join along time, the
/// dimension it asks to join, and its edits.
pub fn recipe(ncml: &Ncml) -> Result<Recipe, NcmlError> {
    let agg = &ncml.aggregation;
    let mut dims: Vec<&str> = agg.dim.as_deref().into_iter().collect();
    for p in &agg.parts {
        if let Part::Nested(inner) = p {
            dims.extend(inner.dim.as_deref());
        }
    }
    dims.sort_unstable();
    dims.dedup();
    if dims.len() > 1 {
        let all = dims.join(", ");
        return Err(NcmlError::Unsupported(format!(
            "nested aggregations along different dimensions ({all})"
        )));
    }
    let union = agg.kind == AggType::Union;
    let how = Combine::declared(dims.first().copied(), union);
    Ok(Recipe { how, edits: ncml.edits.clone() })
}

/// A one-line account of `ncml` for people (`inspect`, logs).
pub fn describe(ncml: &Ncml) -> String {
    let agg = &ncml.aggregation;
    let what = match agg.kind {
        AggType::JoinExisting => {
            format!("joinExisting along {}", agg.dim.as_deref().unwrap_or("?"))
        }
        AggType::Union => {
            let nested = agg.parts.iter().filter(|p| matches!(p, Part::Nested(_))).count();
            format!("union ({nested} nested joinExisting)")
        }
    };
    let units = if agg.time_units_change { ", timeUnitsChange" } else { "" };
    let edits = match ncml.edits.len() {
        0 => String::new(),
        n => format!(", {n} edit(s) of the aggregated dataset"),
    };
    format!("NcML {what}{units}{edits}")
}
