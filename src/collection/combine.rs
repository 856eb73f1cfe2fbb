//! How a collection's members make one store: joined along a dimension (time, or any other
//! existing one), and/or as the union of their variables. Every kind of collection (by name,
//! declared, `--union-parent`, NcML) says it with a `Combine` (see `recipe.rs`).

use super::error::Refusal;
use super::join::{join_along, Joined, Member, ReadArray};
use super::union::{union, Rule};

/// How members are combined.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Combine {
    /// The dimension joined along: "time" is the time coordinate's dimension, whatever its
    /// name; any other names a dimension.
    pub join: std::sync::Arc<str>,
    /// Members with different variables make one store of all of them, by this rule.
    pub union: Option<Rule>,
}

impl Combine {
    /// Joined along time (the automatic rule).
    pub fn time() -> Combine {
        Combine { join: "time".into(), union: None }
    }

    /// A declared collection's: `join` (default time), `union` of all variables.
    pub fn declared(join: Option<&str>, union: bool) -> Combine {
        Combine { join: join.unwrap_or("time").into(), union: union.then_some(Rule::All) }
    }
}

/// `members` combined as `how` says.
pub(super) fn join_or_union(
    members: &[Member<'_>],
    how: &Combine,
    read: &ReadArray<'_>,
) -> Result<Joined, Refusal> {
    match how.union {
        None => join_along(members, &how.join, read),
        Some(rule) => union(members, &how.join, rule, read),
    }
}
