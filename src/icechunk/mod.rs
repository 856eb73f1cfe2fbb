//! `cloudify icechunk ARCHIVE REPO --virtual-prefix URL`: the archive as an Icechunk
//! repository of virtual references, one group per dataset of the tree (its path without
//! `.zarr`, collections included). The documents are the v3 view's (raw mode, unsharded);
//! a chunk served as a byte range of its source file becomes a virtual reference to that range
//! under the prefix the archive is published at, a chunk the view generates is written as a
//! native chunk (`plan`). A later run commits a snapshot with only the datasets whose files
//! changed (`state`); `--stac DIR` writes items pointing at the snapshot (`stac`). Writing needs the crate's `icechunk` feature (`repo`, `write`); what
//! goes where (`plan`, `state`, `target`) does not.

mod error;
pub mod plan;
#[cfg(feature = "icechunk")]
mod repo;
#[cfg(feature = "icechunk")]
mod sources;
mod special_floats;
pub mod stac;
pub mod state;
pub mod target;
#[cfg(feature = "icechunk")]
mod write;

pub use error::IcechunkError;
pub use target::{RepoTarget, VirtualPrefix};
#[cfg(feature = "icechunk")]
pub use write::{publish, Options, Report};
