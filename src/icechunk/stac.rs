//! STAC items of a repository snapshot (`--stac DIR`): each dataset's item as the mount makes
//! it (extent, datacube from its coordinates), its assets the repository instead of a store:
//! as cloudify's `build_stac_item_from_icechunk` spells them, an asset
//! `<id>@<snapshot>` of type `application/vnd.zarr+icechunk` with `icechunk:snapshot_id`,
//! `version` (the snapshot, which xpystac opens), the group, `storage:refs` and `vrt:hrefs`
//! naming a `virtual-source` asset (the prefix the references point under); the storage
//! scheme at the item's top level. A `catalog.json` in DIR links every item.

use super::plan::DatasetPlace;
use super::target::{RepoTarget, VirtualPrefix};
use super::IcechunkError;
use crate::stac::item::{item, ItemPlace};
use crate::stac::StacConfig;
use crate::vfs::Vfs;
use serde_json::{json, Map, Value};
use std::path::Path;

/// The media type cloudify's Icechunk items give the repository (proposed, unregistered).
pub const ICECHUNK_MEDIA_TYPE: &str = "application/vnd.zarr+icechunk";
const EXTENSIONS: &[&str] = &[
    "https://stac-extensions.github.io/storage/v2.0.0/schema.json",
    "https://stac-extensions.github.io/virtual-assets/v1.0.0/schema.json",
    "https://stac-extensions.github.io/zarr/v1.1.0/schema.json",
    "https://stac-extensions.github.io/version/v1.2.0/schema.json",
];

/// Where the items point.
pub struct Published<'a> {
    pub repo: &'a RepoTarget,
    pub prefix: &'a VirtualPrefix,
    pub snapshot: &'a str,
    pub config: &'a StacConfig,
}

/// Write the items of `datasets` (and `catalog.json`) into `dir`; how many items.
pub fn write_items(
    vfs: &Vfs,
    datasets: &[DatasetPlace],
    at: &Published<'_>,
    dir: &Path,
) -> Result<usize, IcechunkError> {
    let io = |p: &Path, e| IcechunkError::Archive(p.display().to_string(), e);
    let mut links = Vec::new();
    for place in datasets {
        let doc = item_of(vfs, place, at)?;
        let file = dir.join(format!("{}.stac.json", place.group));
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let text = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        std::fs::write(&file, text).map_err(|e| io(&file, e))?;
        links.push(json!({"rel": "item", "href": format!("./{}.stac.json", place.group),
                          "type": "application/geo+json"}));
    }
    let mut all = vec![json!({"rel": "root", "href": "./catalog.json",
                              "type": "application/json"})];
    all.extend(links);
    let catalog = json!({
        "type": "Catalog", "stac_version": "1.1.0", "id": "icechunk",
        "description": format!("Datasets of the Icechunk repository {} at snapshot {}",
                               at.repo.href(), at.snapshot),
        "links": all,
    });
    let file = dir.join("catalog.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&catalog).unwrap_or_default())
        .map_err(|e| io(&file, e))?;
    Ok(datasets.len())
}

/// The item of one dataset of the repository.
fn item_of(vfs: &Vfs, place: &DatasetPlace, at: &Published<'_>) -> Result<Value, IcechunkError> {
    let loaded =
        vfs.loaded(&place.source).map_err(|e| IcechunkError::Dataset(place.group.clone(), e))?;
    let source = vfs.root().join(&place.source);
    let facts = loaded.facts(&place.source);
    let item_place = ItemPlace {
        id: place.group.clone(),
        store: format!("{}.zarr", place.group),
        depth: None,
        source: source.display().to_string(),
        mtime: loaded.stat.identity.mtime,
        config: at.config,
        public_url: None,
        zarr_format: 3,
        thumbnail: None,
    };
    let mut doc = serde_json::to_value(item(facts, &item_place))
        .map_err(|e| IcechunkError::State(e.to_string()))?;
    let Value::Object(o) = &mut doc else { return Ok(doc) };
    let scheme = scheme_name(at.repo);
    o.insert("storage:schemes".into(), json!({ scheme.clone(): storage_scheme(at.repo) }));
    if let Some(Value::Array(exts)) = o.get_mut("stac_extensions") {
        exts.extend(EXTENSIONS.iter().map(|e| Value::String(e.to_string())));
    }
    let base = place.group.rsplit('/').next().unwrap_or(&place.group);
    let source_key = format!("{base}-virtual-source");
    let mut assets = Map::new();
    assets.insert(
        format!("{base}@{}", at.snapshot),
        json!({
            "href": at.repo.href(),
            "type": ICECHUNK_MEDIA_TYPE,
            "title": place.group,
            "roles": ["data", "references", "latest-version", "virtual"],
            "zarr:consolidated": false,
            "zarr:zarr_format": 3,
            "icechunk:snapshot_id": at.snapshot,
            "icechunk:group": place.group,
            "version": at.snapshot,
            "storage:refs": [scheme],
            "vrt:hrefs": [{"key": source_key}],
            "xarray:open_kwargs": {"group": place.group, "consolidated": false,
                                   "zarr_format": 3},
        }),
    );
    assets.insert(
        source_key,
        json!({"href": at.prefix.as_str(), "roles": ["virtual-source"],
               "storage:refs": [scheme]}),
    );
    o.insert("assets".into(), Value::Object(assets));
    Ok(doc)
}

fn scheme_name(repo: &RepoTarget) -> String {
    match repo {
        RepoTarget::S3 { bucket, .. } => format!("s3-{bucket}"),
        RepoTarget::Local(_) => "local".into(),
    }
}

/// The storage extension's scheme of the repository (an S3 bucket, its endpoint and region
/// from the AWS variables; a local directory as `custom`).
fn storage_scheme(repo: &RepoTarget) -> Value {
    let env = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    match repo {
        RepoTarget::S3 { bucket, .. } => {
            let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION"));
            match env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL")) {
                Some(endpoint) => json!({"type": "custom-s3", "platform": endpoint,
                                         "bucket": bucket, "region": region}),
                None => json!({"type": "aws-s3",
                               "platform": "https://{bucket}.s3.{region}.amazonaws.com",
                               "bucket": bucket, "region": region}),
            }
        }
        RepoTarget::Local(dir) => json!({"type": "custom", "platform": "file:///",
                                         "path": dir.display().to_string()}),
    }
}
