//! Datasets made of many files (collections): which files belong together, and their indexes
//! joined into one index whose chunk references name their member.
//!
//! ```text
//!  by_name.rs   the automatic rule: <stem>_<start>[-<end>].<ext> files of a directory
//!  join.rs      members' indexes → one index along time (pass-through chunks, or the reason)
//!  time.rs      the time coordinate: members ordered by time, values re-expressed
//!  attrs.rs     equal attributes kept, differing ones dropped and named
//!  read.rs      a member's array read whole through the served chunk path
//!  union.rs     members grouped by their variables, each group joined, merged into one
//!  declared.rs  collections named in a TOML file (--collections): name, member globs
//!  ncml/        THREDDS NcML aggregation files: members, join or union, edits
//!  recipe.rs    what to make of members (join or union, the dimension, edits): combine()
//! ```
//!
//! The members' indexes are made and persisted as for single files; the joined index is
//! made from them when the collection is first used, never persisted itself.

mod along_time;
mod assemble;
mod attrs;
pub mod by_name;
pub mod declared;
mod error;
mod join;
pub mod ncml;
mod read;
mod recipe;
mod time;
mod union;

pub use assemble::{assemble, MemberFile};
pub use attrs::DROPPED;
pub use error::{JoinError, Refusal};
pub use join::{join, Joined, Member, ReadArray};
pub use read::whole_array;
pub use recipe::{combine, Recipe};
pub use union::union;
