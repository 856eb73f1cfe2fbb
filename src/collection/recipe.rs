//! What to make of a collection's members: how they are combined (joined along a dimension,
//! or the union of their variables) and then the edits an NcML file asks for. The automatic
//! rule, declared collections, `--union-parent` and NcML files all give one; `combine` is the
//! one entry point that makes the dataset.

use super::combine::{join_or_union, Combine};
use super::error::Refusal;
use super::join::{Joined, Member, ReadArray};
use super::ncml::edit::{apply, Edit};

/// What to make of a collection's members.
#[derive(Clone, Debug, PartialEq)]
pub struct Recipe {
    /// How the members are combined.
    pub how: Combine,
    /// Edits of the combined dataset (NcML `<attribute>`, `<remove>`).
    pub edits: Vec<Edit>,
}

impl From<Combine> for Recipe {
    /// Combined as `how` says, nothing else.
    fn from(how: Combine) -> Recipe {
        Recipe { how, edits: Vec::new() }
    }
}

/// `members` made into one dataset as `recipe` says.
pub fn combine(
    members: &[Member<'_>],
    recipe: &Recipe,
    read: &ReadArray<'_>,
) -> Result<Joined, Refusal> {
    let mut joined = join_or_union(members, &recipe.how, read)?;
    apply(&recipe.edits, &mut joined.index, &mut joined.notes);
    Ok(joined)
}
