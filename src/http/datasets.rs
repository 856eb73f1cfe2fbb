//! The cloudify/xpublish routes under `/datasets`: the dataset ids (every store of the tree,
//! see `ids.rs`), and per dataset `keys`, `info`, `dict` (`summary.rs`), `stac` (its item),
//! `catalog.yaml` (intake), `zarr/…` (the store with decoded chunks, as cloudify's dask-backed
//! `/zarr`) and `kerchunk/…` (the store with the source's raw chunks, cloudify's `/kerchunk`;
//! `kerchunk` itself answers the same store as kerchunk references, `kerchunk.rs`), and
//! `reduce/…` and `groupby/…` (derived datasets, `derived.rs`), `plot/…` (quick-look images,
//! `plot.rs`).

use super::ids::{id_of, store_of};
use super::listing::{escape, wants_html};
use super::path::tree_path;
use super::routes::document;
use super::tree::{failed, plain, serve};
use super::{catalogs, derived, kerchunk, plot, summary, App, View};
use crate::vfs::{Kind, NodeKey, Vfs, VfsError};
use axum::body::Body;
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, Response, StatusCode};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Entries listed per page while walking the tree for the ids.
const PAGE: usize = 4096;

/// Answer `/datasets/<rest>` (`raw`: the URL path; `base`: the server's URL).
pub async fn handle(
    app: &Arc<App>,
    rest: &[&str],
    (raw, base): (&str, &str),
    headers: &HeaderMap,
    head: bool,
) -> Response<Body> {
    let Some((id, rest)) = rest.split_first() else {
        let ids = all_ids(app).await;
        return document(ids.map(|ids| json(Value::from(ids))), (headers, head));
    };
    let Some(store) = tree_path(id).ok().and_then(|p| store_of(p.to_str()?)) else {
        return plain(StatusCode::NOT_FOUND, "no such dataset\n");
    };
    let made = match rest {
        [] => {
            Ok(("text/html; charset=utf-8", index_page(&id_of(&store).unwrap_or_default(), base)))
        }
        ["keys"] => metadata(app, &store).await.map(|m| json(summary::keys(&m))),
        ["info"] => metadata(app, &store).await.map(|m| json(summary::info(&m))),
        ["dict"] => metadata(app, &store).await.map(|m| json(summary::dict(&m))),
        ["catalog.yaml"] => Ok(catalogs::intake_dataset(id, base)),
        ["stac"] => {
            let item = format!("{}.stac.json", store.trim_end_matches(".zarr"));
            return serve(app, View::Tree, (PathBuf::from(item), raw), headers, head).await;
        }
        ["kerchunk"] if !wants_html(headers.get(ACCEPT).and_then(|h| h.to_str().ok())) => {
            let route = format!("{base}/datasets/{id}/kerchunk");
            kerchunk::references(app, &store, &route).await
        }
        ["plot", inner @ ..] => {
            return plot::serve(app, &store, inner, (raw, headers, head)).await;
        }
        [kind @ ("reduce" | "groupby"), inner @ ..] => {
            return derived::serve(app, &store, (kind, inner), (raw, headers, head)).await;
        }
        [api @ ("zarr" | "kerchunk"), inner @ ..] => {
            let view = if *api == "zarr" { View::Decoded } else { View::Raw };
            return match tree_path(&inner.join("/")) {
                Ok(inner) => {
                    let path = Path::new(&store).join(inner);
                    serve(app, view, (path, raw), headers, head).await
                }
                Err(_) => plain(StatusCode::NOT_FOUND, "not found\n"),
            };
        }
        _ => return plain(StatusCode::NOT_FOUND, "not found\n"),
    };
    document(made, (headers, head))
}

fn json(v: Value) -> (&'static str, String) {
    ("application/json", v.to_string())
}

/// Every dataset id of the tree, in walk order (directories depth first, by name).
pub async fn all_ids(app: &Arc<App>) -> Result<Vec<String>, Response<Body>> {
    let walked = app.blocking(|app| {
        let mut out = Vec::new();
        walk(app.vfs(View::Tree), &NodeKey::root(), "", &mut out)?;
        Ok(out)
    });
    walked.await.map_err(|e| failed("/datasets", &e))
}

fn walk(vfs: &Vfs, dir: &NodeKey, prefix: &str, out: &mut Vec<String>) -> Result<(), VfsError> {
    let mut start = 0;
    loop {
        let page = vfs.list(dir, start, PAGE)?;
        for child in &page {
            let name = child.name.to_string_lossy();
            let path =
                if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
            match &child.key {
                NodeKey::Dataset { inner, .. } if inner.is_empty() => out.extend(id_of(&path)),
                // a directory that vanished or is refused now costs its ids, not the list
                NodeKey::Dir(_) if child.kind == Kind::Dir => {
                    let _ = walk(vfs, &child.key, &path, out);
                }
                _ => {}
            }
        }
        if page.len() < PAGE {
            return Ok(());
        }
        start += page.len();
    }
}

/// The consolidated metadata of `store` (its `metadata` object; a v3 store's spelled as v2's).
async fn metadata(app: &Arc<App>, store: &str) -> Result<Map<String, Value>, Response<Body>> {
    let v3 = app.zarr_v3;
    // v2's .zmetadata; v3's consolidated metadata is inline in the root zarr.json
    let doc = Path::new(store).join(if v3 { "zarr.json" } else { ".zmetadata" });
    let read = app.blocking(move |app| {
        let vfs = app.vfs(View::Tree);
        let key = vfs.resolve(&doc)?;
        let size = vfs.attr(&key)?.size;
        let bytes = vfs.read(&key, 0, size.min(u32::MAX as u64) as u32)?;
        Ok(bytes.to_vec())
    });
    let bytes = read.await.map_err(|e| failed(store, &e))?;
    let doc: Value = serde_json::from_slice(&summary::standard_json(&bytes)).unwrap_or_default();
    let meta = match v3 {
        true => summary::from_v3(&doc),
        false => doc.get("metadata").and_then(Value::as_object).cloned(),
    };
    meta.ok_or_else(|| plain(StatusCode::INTERNAL_SERVER_ERROR, "no consolidated metadata\n"))
}

/// `/datasets/{id}/`: what there is of the dataset, as links.
fn index_page(id: &str, base: &str) -> String {
    let (id, base) = (escape(id), escape(base));
    let link = |p: &str| format!("<li><a href=\"{base}/datasets/{id}/{p}\">{p}</a></li>");
    let items: String =
        ["zarr", "kerchunk", "stac", "info", "dict", "keys", "catalog.yaml"].map(link).concat();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{id}</title></head>\
         <body><h1>{id}</h1><ul>{items}</ul></body></html>\n"
    )
}
