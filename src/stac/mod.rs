//! STAC documents of the archive: an Item beside every Zarr store (`<stem>.stac.json`) and a
//! Catalog in every directory (`catalog.json`), all links relative (see docs/STAC.md).
//!
//! ```text
//!  DatasetIndex + open file ──facts()──► Facts (bbox, time, datacube; read once per version)
//!                                           │ item_json(facts, place, config)
//!  directory listing ──catalog_json()──►  catalog.json        <stem>.stac.json
//! ```

pub mod catalog;
pub mod cf;
pub mod config;
mod cube;
pub mod extent;
pub mod facts;
pub mod item;
mod reading;
pub mod thumbnail;
pub mod values;

pub use catalog::{catalog_json, CatalogPlace};
pub use config::{ConfigError, StacConfig};
pub use facts::{facts, Facts};
pub use item::{item_json, unreadable_item_json, ItemPlace};
pub use thumbnail::{Thumbnail, THUMBNAIL_SUFFIX};
pub use values::{ArrayReader, OpenSource};

/// File name of each directory's catalog.
pub const CATALOG_FILE: &str = "catalog.json";

/// A coordinate could not be read for the item.
#[derive(Debug, thiserror::Error)]
pub enum StacError {
    #[error("variable {0} is not numeric")]
    NotNumeric(String),
    /// A collection's variable read from several members: the reader holds one file.
    #[error("variable {0} is joined from several files")]
    Joined(String),
    #[error("reading variable {variable}: {source}")]
    Read { variable: String, source: crate::zarr::chunk::ChunkError },
}

/// STAC settings of a mount or an offline run.
#[derive(Clone, Debug, Default)]
pub struct StacOptions {
    /// Show STAC files at all.
    pub enabled: bool,
    pub config: StacConfig,
    /// Base URL the stores will be published under (`--public-url`).
    pub public_url: Option<String>,
}
