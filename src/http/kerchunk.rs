//! `/datasets/{id}/kerchunk` itself: the dataset's raw store as kerchunk references (version
//! 1), so that cloudify's `xr.open_dataset(f"{url}/datasets/{id}/kerchunk", engine="kerchunk")`
//! opens it. The metadata documents are inline; every chunk file is a reference to its own URL
//! under the same route (template `u`), which fsspec's HTTP file system fetches. The same route
//! read as a Zarr store (`engine="zarr"`) never asks for this document. Kerchunk references
//! describe Zarr v2 only: a server of v3 stores answers 404 and says why.

use super::path::encode;
use super::summary::standard_json;
use super::tree::{failed, plain};
use super::{App, View};
use crate::vfs::{Kind, VfsError};
use axum::body::Body;
use axum::http::{Response, StatusCode};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::sync::Arc;

/// Chunk files listed per page of an array's directory.
const PAGE: usize = 4096;

/// The references of tree store `store`; `route`: this route's URL (`…/datasets/{id}/kerchunk`).
pub async fn references(
    app: &Arc<App>,
    store: &str,
    route: &str,
) -> Result<(&'static str, String), Response<Body>> {
    if app.zarr_v3 {
        let why = "kerchunk references describe Zarr v2 stores and this server serves Zarr v3 \
                   (--zarr-format 3): open …/kerchunk with engine=\"zarr\"\n";
        return Err(plain(StatusCode::NOT_FOUND, why));
    }
    let owned = store.to_string();
    let refs = app.blocking(move |app| refs_of(app, Path::new(&owned))).await;
    let refs = refs.map_err(|e| failed(store, &e))?;
    let doc = json!({ "version": 1, "templates": { "u": route }, "refs": refs });
    Ok(("application/json", doc.to_string()))
}

/// Metadata documents inline, chunk files as `["{{u}}/<path>"]`.
fn refs_of(app: &App, store: &Path) -> Result<Map<String, Value>, VfsError> {
    let vfs = app.vfs(View::Raw);
    let key = vfs.resolve(&store.join(".zmetadata"))?;
    let size = vfs.attr(&key)?.size;
    let bytes = vfs.read(&key, 0, size.min(u32::MAX as u64) as u32)?;
    let doc: Value = serde_json::from_slice(&standard_json(&bytes)).unwrap_or_default();
    let Some(meta) = doc.get("metadata").and_then(Value::as_object) else {
        return Err(VfsError::Io(std::io::Error::other("no consolidated metadata")));
    };
    let mut refs = Map::new();
    refs.insert(".zmetadata".into(), Value::from(doc.to_string()));
    for (name, document) in meta {
        refs.insert(name.clone(), Value::from(document.to_string()));
        let Some(array) = name.strip_suffix(".zarray") else { continue };
        let array = array.trim_end_matches('/');
        let dir = vfs.resolve(&store.join(array))?;
        let mut start = 0;
        loop {
            let page = vfs.list(&dir, start, PAGE)?;
            for child in page.iter().filter(|c| c.kind == Kind::File) {
                let file = child.name.to_string_lossy();
                if file.starts_with('.') {
                    continue;
                }
                let url: Vec<String> =
                    array.split('/').chain([file.as_ref()]).map(|s| encode(s.as_bytes())).collect();
                refs.insert(
                    format!("{array}/{file}"),
                    json!([format!("{{{{u}}}}/{}", url.join("/"))]),
                );
            }
            if page.len() < PAGE {
                break;
            }
            start += page.len();
        }
    }
    Ok(refs)
}
