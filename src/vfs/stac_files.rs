//! The STAC files of the tree: `catalog.json` of a directory (from its listing alone) and
//! `<stem>.stac.json` of a dataset (from the dataset's cached facts).

use super::dataset::DatasetError;
use super::naming::{store_stem, ArchiveEntry};
use super::{perm, Attr, Kind, Vfs, VfsError};
use crate::stac::{catalog_json, item_json, unreadable_item_json, CatalogPlace, ItemPlace};
use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path};

fn components(rel: &Path) -> Vec<String> {
    rel.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

impl Vfs {
    /// The bytes of the catalog of archive directory `rel`, and its attributes.
    pub(super) fn catalog_file(&self, rel: &Path) -> Result<(Attr, Vec<u8>), VfsError> {
        let listing = self.archive_listing(rel)?;
        let mut children = Vec::new();
        let mut items = Vec::new();
        for e in &listing.entries {
            match e {
                ArchiveEntry::Dir { name } => children.push(name.to_string_lossy().into_owned()),
                ArchiveEntry::Item { name, .. } => items.push(name.to_string_lossy().into_owned()),
                _ => {}
            }
        }
        let dir = components(rel);
        let root_name = self.root.file_name().map(|n| n.to_string_lossy().into_owned());
        let place = CatalogPlace {
            dir: &dir,
            root_name: root_name.as_deref().unwrap_or("archive"),
            children,
            items,
            config: &self.stac.config,
        };
        let bytes = catalog_json(&place);
        let m = std::fs::metadata(self.root.join(rel))?;
        let attr = Attr {
            kind: Kind::File,
            size: bytes.len() as u64,
            mtime: listing.mtime,
            perm: perm(m.mode(), Kind::File),
            uid: m.uid(),
            gid: m.gid(),
        };
        Ok((attr, bytes))
    }

    /// The bytes of the item of `source` (archive-relative), shown beside store `store`. A
    /// dataset that cannot be presented gets an item saying why, so that one bad file costs
    /// one item, never a walk of the catalog.
    pub(super) fn item_file(
        &self,
        source: &Path,
        store: &OsStr,
    ) -> Result<(Attr, Vec<u8>), VfsError> {
        let absolute = self.root.join(source);
        let mut dir = components(source);
        dir.pop();
        let store_path = dir
            .iter()
            .map(String::as_str)
            .chain([&*store.to_string_lossy()])
            .collect::<Vec<_>>()
            .join("/");
        let place = |mtime| ItemPlace {
            id: String::from_utf8_lossy(store_stem(store_path.as_bytes())).into_owned(),
            store: store_path.clone(),
            depth: Some(dir.len()),
            source: absolute.display().to_string(),
            mtime,
            config: &self.stac.config,
            public_url: self.stac.public_url.as_deref(),
            zarr_format: self.datasets.format.number(),
            thumbnail: None,
        };
        let (stat, bytes) = match self.dataset(source) {
            Ok(ds) => {
                let mut at = place(ds.stat.identity.mtime);
                at.thumbnail = self.item_thumbnail(store, &ds);
                let bytes = item_json(ds.facts(&absolute), &at);
                (ds.stat, bytes)
            }
            // a collection member changed under a join: the next request joins again
            Err(e @ VfsError::Dataset(DatasetError::MemberChanged { .. })) => return Err(e),
            Err(VfsError::Dataset(e)) => {
                let stat = self.source_stat(source)?;
                let reason = self.without_root(&e.to_string());
                (stat, unreadable_item_json(&place(stat.identity.mtime), &reason))
            }
            Err(e) => return Err(e),
        };
        let attr = Attr::of_source(&stat, Kind::File, bytes.len() as u64);
        self.item_sizes.record(source, stat.identity, attr.size);
        Ok((attr, bytes))
    }

    /// `text` with the archive's absolute path left out (`/data/archive/a/b.nc` → `a/b.nc`):
    /// an item is published, the archive's place on this machine is not its business.
    pub(super) fn without_root(&self, text: &str) -> String {
        let root = self.root.display().to_string();
        text.replace(&format!("{}/", root.trim_end_matches('/')), "")
    }
}
