//! The STAC Catalog of one directory: built from the directory listing alone (no dataset is
//! indexed), so `catalog.json` of a directory of 100,000 files costs one listing.

use super::config::StacConfig;
use super::item::root_href;

/// What a directory's catalog lists.
pub struct CatalogPlace<'a> {
    /// Path components of the directory below the root (empty: the root).
    pub dir: &'a [String],
    /// Name of the archive root directory (title of the root catalog by default).
    pub root_name: &'a str,
    /// Sub-directories shown in the mount.
    pub children: Vec<String>,
    /// Item file names (`<stem>.stac.json`) of the directory's datasets.
    pub items: Vec<String>,
    pub config: &'a StacConfig,
}

/// The catalog as pretty JSON text, newline-terminated.
pub fn catalog_json(place: &CatalogPlace<'_>) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(&catalog(place)).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The catalog of a directory.
pub fn catalog(place: &CatalogPlace<'_>) -> stac::Catalog {
    let config = place.config;
    let mut c = if place.dir.is_empty() {
        let mut c = stac::Catalog::new(&config.id, &config.description);
        c.title = Some(config.title.clone().unwrap_or_else(|| place.root_name.to_string()));
        c
    } else {
        let rel = place.dir.join("/");
        let mut c = stac::Catalog::new(&rel, format!("Datasets in {rel}"));
        c.title = place.dir.last().cloned();
        c
    };
    c.links.push(stac::Link::root(root_href(place.dir.len())).json());
    if !place.dir.is_empty() {
        c.links.push(stac::Link::parent("../catalog.json").json());
    }
    for child in &place.children {
        c.links
            .push(stac::Link::child(format!("./{child}/catalog.json")).json().title(child.clone()));
    }
    for item in &place.items {
        c.links.push(stac::Link::item(format!("./{item}")).geojson());
    }
    c
}
