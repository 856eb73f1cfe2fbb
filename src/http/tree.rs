//! The static tree: `GET`/`HEAD` of any path of the mount answers exactly the bytes the mount
//! shows (stores, chunk files, metadata, STAC files), with byte ranges, validators and
//! conditional requests; a directory answers its listing.

use super::body::{file_body, read_now, whole, PIECE};
use super::error::status;
use super::listing;
use super::range::{wanted, Wanted};
use super::validators::Validators;
use super::{gzip, App, View};
use crate::vfs::{Attr, Kind, Listed, NodeKey, VfsError};
use axum::body::Body;
use axum::http::{header, HeaderMap, Response, StatusCode};
use bytes::Bytes;
use std::path::PathBuf;
use std::sync::Arc;
use tracing::{debug, warn};

/// Entries of a directory listed per page.
const PAGE: usize = 4096;

/// Answer `GET`/`HEAD` of tree path `path` of `view` (`raw`: the URL path, for logs and the
/// listing's title).
pub async fn serve(
    app: &Arc<App>,
    view: View,
    (path, raw): (PathBuf, &str),
    headers: &HeaderMap,
    head: bool,
) -> Response<Body> {
    // a plain GET of a chunk (the bulk of the traffic) is found and read in one trip to the
    // blocking pool
    let plain_get = !head
        && content_type(raw) == "application/octet-stream"
        && ![header::RANGE, header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE]
            .iter()
            .any(|h| headers.contains_key(h));
    let found = app
        .blocking(move |app| {
            let vfs = app.vfs(view);
            let key = vfs.resolve(&path)?;
            let attr = vfs.attr(&key)?;
            let now = plain_get && attr.kind != Kind::Dir && attr.size <= PIECE;
            let bytes = if now { Some(read_now(vfs, &key, 0..attr.size)?) } else { None };
            Ok::<_, VfsError>((key, attr, bytes))
        })
        .await;
    let (key, attr, bytes) = match found {
        Ok(found) => found,
        Err(e) => return failed(raw, &e),
    };
    if attr.kind == Kind::Dir {
        return directory(app, view, (raw, key), headers, head).await;
    }
    file(app, view, (raw, key), (&attr, bytes), (headers, head)).await
}

async fn file(
    app: &Arc<App>,
    view: View,
    (raw, key): (&str, NodeKey),
    (attr, bytes): (&Attr, Option<Bytes>),
    (headers, head): (&HeaderMap, bool),
) -> Response<Body> {
    let mut v = Validators::of(attr, app.tree(view).digest);
    let kind = content_type(raw);
    let range_header = headers.get(header::RANGE).and_then(|h| h.to_str().ok());
    let gz = kind == "application/json"
        && !head
        && range_header.is_none()
        && attr.size <= gzip::MAX_BYTES
        && gzip::accepted(headers);
    if gz {
        v.etag = gzip::etag(&v.etag);
    }
    let mut builder = Response::builder()
        .header(header::ETAG, &v.etag)
        .header(header::LAST_MODIFIED, v.http_date())
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, &app.cache_control)
        .header(header::CONTENT_TYPE, kind);
    if kind == "application/json" {
        builder = builder.header(header::VARY, "Accept-Encoding");
    }
    if v.not_modified(headers) {
        return builder.status(StatusCode::NOT_MODIFIED).body(Body::empty()).unwrap_or_default();
    }
    if gz {
        return match whole(app.clone(), view, key, attr.size).await {
            Ok(bytes) => {
                let z = gzip::compress(&bytes);
                builder
                    .status(StatusCode::OK)
                    .header(header::CONTENT_ENCODING, "gzip")
                    .header(header::CONTENT_LENGTH, z.len())
                    .body(Body::from(z))
                    .unwrap_or_default()
            }
            Err(e) => failed(raw, &e),
        };
    }
    let range_header = range_header.filter(|_| v.range_applies(headers));
    let (code, range) = match wanted(range_header, attr.size) {
        Wanted::Whole => (StatusCode::OK, 0..attr.size),
        Wanted::Part(r) => {
            let cr = format!("bytes {}-{}/{}", r.start, r.end - 1, attr.size);
            builder = builder.header(header::CONTENT_RANGE, cr);
            (StatusCode::PARTIAL_CONTENT, r)
        }
        Wanted::Unsatisfiable => {
            return builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{}", attr.size))
                .body(Body::empty())
                .unwrap_or_default();
        }
    };
    builder = builder.status(code).header(header::CONTENT_LENGTH, range.end - range.start);
    if head {
        return builder.body(Body::empty()).unwrap_or_default();
    }
    if let Some(bytes) = bytes.filter(|b| range == (0..attr.size) && b.len() as u64 == attr.size) {
        return builder.body(Body::from(bytes)).unwrap_or_default();
    }
    match file_body(app.clone(), view, key, range).await {
        Ok(body) => builder.body(body).unwrap_or_default(),
        Err(e) => failed(raw, &e),
    }
}

async fn directory(
    app: &Arc<App>,
    view: View,
    (raw, key): (&str, NodeKey),
    headers: &HeaderMap,
    head: bool,
) -> Response<Body> {
    let listed = app
        .blocking(move |app| {
            let mut all: Vec<Listed> = Vec::new();
            loop {
                let page = app.vfs(view).list_attrs(&key, all.len(), PAGE)?;
                let n = page.len();
                all.extend(page);
                if n < PAGE {
                    return Ok::<_, VfsError>(all);
                }
            }
        })
        .await;
    let entries = match listed {
        Ok(e) => e,
        Err(e) => return failed(raw, &e),
    };
    let accept = headers.get(header::ACCEPT).and_then(|h| h.to_str().ok());
    let (body, kind) = if listing::wants_html(accept) {
        (listing::html(raw, &entries), "text/html; charset=utf-8")
    } else {
        (listing::json(raw, &entries), "application/json")
    };
    let builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, kind)
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::VARY, "Accept");
    builder.body(if head { Body::empty() } else { Body::from(body) }).unwrap_or_default()
}

/// JSON for metadata and STAC documents, bytes for chunks (by the requested path's last name).
fn content_type(raw: &str) -> &'static str {
    let name = raw.rsplit('/').next().unwrap_or("");
    let json = [".zmetadata", ".zarray", ".zattrs", ".zgroup", "zarr.json"];
    if json.contains(&name) || name.ends_with(".json") {
        "application/json"
    } else {
        "application/octet-stream"
    }
}

/// The answer for an error of the tree (logged when the archive failed, not the request).
pub fn failed(path: &str, e: &VfsError) -> Response<Body> {
    let code = status(e);
    if e.is_failure() {
        warn!(path, "{e}");
    } else {
        debug!(path, "{e}");
    }
    let text =
        if code == StatusCode::NOT_FOUND { "not found\n".to_string() } else { format!("{e}\n") };
    plain(code, &text)
}

/// A short text answer.
pub fn plain(code: StatusCode, text: &str) -> Response<Body> {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(text.to_string()))
        .unwrap_or_default()
}
