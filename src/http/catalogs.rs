//! Catalogs of everything served, as cloudify's users open them: `/intake.yaml` (an intake
//! catalog with one `zarr` source per dataset, its `method` parameter choosing `kerchunk` (raw
//! chunks) or `zarr` (decoded), as cloudify's intake plugin writes it), `/datasets/{id}/
//! catalog.yaml` (one dataset's), and `/stac-collection-all.json` (a STAC Collection linking
//! every dataset's item). YAML is written as JSON, which is YAML.

use super::datasets::all_ids;
use super::ids::store_of;
use super::App;
use axum::body::Body;
use axum::http::Response;
use serde_json::{json, Value};
use std::sync::Arc;

const YAML: &str = "text/yaml; charset=utf-8";

/// One dataset as an intake source.
fn source(id: &str, base: &str) -> Value {
    json!({
        "driver": "zarr",
        "description": format!("{id}, served by cloudify"),
        "args": {
            "urlpath": format!("{base}/datasets/{id}/{{{{ method }}}}"),
            "consolidated": true,
        },
        "parameters": {
            "method": {
                "description": "kerchunk: the source's raw chunks; zarr: decoded chunks",
                "type": "str",
                "default": "kerchunk",
                "allowed": ["kerchunk", "zarr"],
            }
        },
    })
}

/// `/intake.yaml`.
pub async fn intake_root(
    app: &Arc<App>,
    base: &str,
) -> Result<(&'static str, String), Response<Body>> {
    let ids = all_ids(app).await?;
    let sources: serde_json::Map<String, Value> =
        ids.iter().map(|id| (id.clone(), source(id, base))).collect();
    let cat = json!({
        "metadata": { "version": 1, "source": "cloudify serve", "access_url": format!("{base}/intake.yaml") },
        "sources": sources,
    });
    Ok((YAML, cat.to_string()))
}

/// `/datasets/{id}/catalog.yaml`.
pub fn intake_dataset(id: &str, base: &str) -> (&'static str, String) {
    let cat = json!({
        "metadata": { "version": 1, "source": "cloudify serve" },
        "sources": { id: source(id, base) },
    });
    (YAML, cat.to_string())
}

/// `/stac-collection-all.json`: a Collection whose item links are the items of the tree (at
/// their paths, so that their own relative links resolve). Its extent is the whole globe and
/// an open interval: the items say their own, and summing them would index every dataset.
pub async fn stac_collection(
    app: &Arc<App>,
    base: &str,
) -> Result<(&'static str, String), Response<Body>> {
    let ids = all_ids(app).await?;
    let mut links = vec![
        json!({ "rel": "self", "href": format!("{base}/stac-collection-all.json"), "type": "application/json" }),
        json!({ "rel": "root", "href": format!("{base}/stac-collection-all.json"), "type": "application/json" }),
    ];
    for id in &ids {
        let Some(store) = store_of(id) else { continue };
        let item = format!("{base}/{}.stac.json", store.trim_end_matches(".zarr"));
        links.push(
            json!({ "rel": "item", "href": item, "type": "application/geo+json", "title": id }),
        );
    }
    let collection = json!({
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": "cloudify-all",
        "title": "All datasets",
        "description": "Every dataset this cloudify server serves, one item each.",
        "license": "other",
        "extent": {
            "spatial": { "bbox": [[-180.0, -90.0, 180.0, 90.0]] },
            "temporal": { "interval": [[null, null]] },
        },
        "links": links,
    });
    Ok(("application/json", collection.to_string()))
}
