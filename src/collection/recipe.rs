//! How a collection's members make one dataset: joined along time, or the union of their
//! variables (members grouped by their variables, each group joined), then the edits an NcML
//! file asks for. The automatic rule, declared collections and NcML files all give one.

use super::error::Refusal;
use super::join::{join, Joined, Member, ReadArray};
use super::ncml::edit::{apply, Edit};
use super::time::TimeOf;
use super::union::union;
use crate::index::DatasetIndex;

/// What to make of a collection's members.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recipe {
    /// One store of all variables (members grouped by their variables).
    pub union: bool,
    /// The dimension the members are to be joined along, when named (NcML `dimName`).
    pub dim: Option<String>,
    /// Edits of the joined dataset (NcML `<attribute>`, `<remove>`).
    pub edits: Vec<Edit>,
}

impl Recipe {
    /// Joined along time (`union`: as the union of their variables), nothing else said.
    pub fn plain(union: bool) -> Recipe {
        Recipe { union, dim: None, edits: Vec::new() }
    }
}

/// `members` made into one dataset as `recipe` says.
pub fn combine(
    members: &[Member<'_>],
    read: &ReadArray<'_>,
    recipe: &Recipe,
) -> Result<Joined, Refusal> {
    let mut joined = match recipe.union {
        true => union(members, read)?,
        false => join(members, read)?,
    };
    if let Some(dim) = &recipe.dim {
        joinable(dim, &joined.index)?;
    }
    apply(&recipe.edits, &mut joined.index, &mut joined.notes);
    Ok(joined)
}

/// The one place that says along which dimension members can be joined: their time
/// coordinate's, so far.
fn joinable(dim: &str, index: &DatasetIndex) -> Result<(), Refusal> {
    let time = TimeOf::find(&index.root).ok_or(Refusal::NoTime)?;
    match time.dim == dim {
        true => Ok(()),
        false => Err(Refusal::JoinDim { wanted: dim.to_string(), time: time.dim }),
    }
}
