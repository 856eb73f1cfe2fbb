//! Datasets made of many files (collections): which files belong together, and their indexes
//! joined into one index whose chunk references name their member.
//!
//! ```text
//!  by_name.rs   the automatic rule: <stem>_<start>[-<end>].<ext> files of a directory
//!  combine.rs   how members make one store: joined along a dimension, or the union
//!  join.rs      members' indexes → one index along time or another dimension
//!  along_time.rs a variable along the joined dimension: pass-through or joined chunks
//!  time.rs      the time coordinate: members ordered by time, values re-expressed
//!  dim_order.rs members ordered along another dimension by its coordinate's values
//!  attrs.rs     equal attributes kept, differing ones dropped and named
//!  read.rs      a member's array read whole through the served chunk path
//!  union.rs     members grouped by their variables, each group joined, merged into one
//!  declared.rs  collections named in a TOML file (--collections): name, member globs
//!  declared_derived.rs  derived datasets named in the same file ([[derived]])
//!  cmip_tree.rs --union-parent: CMIP/CORDEX-style <variable_id>/[<grid>/]<version>/ trees
//!  ncml/        THREDDS NcML aggregation files: members, join or union, edits
//!  recipe.rs    a Combine plus an NcML file's edits: combine(), the one entry point
//! ```
//!
//! The members' indexes are made and persisted as for single files; the joined index is
//! made from them when the collection is first used, never persisted itself.

mod along_time;
mod assemble;
mod attrs;
pub mod by_name;
pub mod cmip_tree;
mod combine;
pub mod declared;
pub mod declared_derived;
mod dim_order;
mod error;
mod generated_time;
mod join;
pub mod ncml;
mod ragged;
mod read;
mod recipe;
mod time;
mod union;

pub use assemble::{assemble, MemberFile};
pub use attrs::DROPPED;
pub use combine::Combine;
pub use error::{JoinError, Refusal};
pub use join::{join, join_along, Joined, Member, ReadArray};
pub use read::whole_array;
pub use recipe::{combine, Recipe};
pub use union::{union, Rule};
