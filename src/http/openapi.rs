//! `/openapi.json`: every route, as an OpenAPI 3.0 document (cloudify's users list the
//! endpoints from it).

use serde_json::{json, Map, Value};

/// The routes: (path, summary, response type).
const ROUTES: &[(&str, &str, &str)] = &[
    ("/datasets", "The dataset ids", "application/json"),
    ("/datasets/{dataset_id}/", "Links to what there is of a dataset", "text/html"),
    ("/datasets/{dataset_id}/keys", "The variables (list(ds.variables))", "application/json"),
    ("/datasets/{dataset_id}/info", "Dimensions, variables and attributes", "application/json"),
    ("/datasets/{dataset_id}/dict", "ds.to_dict(data=False)", "application/json"),
    ("/datasets/{dataset_id}/stac", "The dataset's STAC item", "application/json"),
    ("/datasets/{dataset_id}/catalog.yaml", "The dataset's intake catalog", "text/yaml"),
    (
        "/datasets/{dataset_id}/zarr/{key}",
        "The Zarr store, decoded chunks",
        "application/octet-stream",
    ),
    (
        "/datasets/{dataset_id}/kerchunk",
        "The Zarr store with raw chunks as kerchunk references (engine=\"kerchunk\")",
        "application/json",
    ),
    (
        "/datasets/{dataset_id}/kerchunk/{key}",
        "The Zarr store, the source's raw chunks",
        "application/octet-stream",
    ),
    (
        "/datasets/{dataset_id}/reduce/{variable}/{dims}/{action}/{key}",
        "A reduction as a Zarr v2 store (dims comma-separated; actions mean, min, max, sum, \
         count, std, var, median, first, last)",
        "application/octet-stream",
    ),
    (
        "/datasets/{dataset_id}/groupby/{variable}/{groupby_coord}/{action}/{key}",
        "A groupby reduction as a Zarr v2 store (groupby_coord: time.year, time.month, \
         time.season, time.day, time.dayofyear, time.hour, or a 1-D coordinate by value)",
        "application/octet-stream",
    ),
    (
        "/datasets/{dataset_id}/plot/{variable}/{kind}/{cmap}/{selection}",
        "A quick-look image (kind map, line or hist; a matplotlib colormap name; selection \
         pairs dim/lo_hi or dim/value; .svg for SVG)",
        "image/png",
    ),
    ("/intake.yaml", "An intake catalog of every dataset", "text/yaml"),
    ("/stac-collection-all.json", "A STAC Collection of every item", "application/json"),
    ("/openapi.json", "This document", "application/json"),
    ("/health", "ok when the server answers", "text/plain"),
    (
        "/{path}",
        "Any path of the tree a mount shows (stores, chunks, STAC files)",
        "application/octet-stream",
    ),
];

/// The document.
pub fn document() -> (&'static str, String) {
    let mut paths = Map::new();
    for (path, summary, kind) in ROUTES {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(|p| json!({ "name": p, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let op = json!({
            "summary": summary,
            "parameters": params,
            "responses": { "200": { "description": "OK", "content": { *kind: {} } } },
        });
        paths.insert(path.to_string(), json!({ "get": op }));
    }
    let doc = json!({
        "openapi": "3.0.3",
        "info": { "title": "cloudify serve", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
    });
    ("application/json", doc.to_string())
}
