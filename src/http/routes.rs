//! Which route answers a request: the cloudify/xpublish routes by their first path segment
//! (`/datasets`, `/intake.yaml`, `/stac-collection-all.json`, `/openapi.json`, `/health`),
//! everything else the static tree. Methods and CORS are decided here once for all routes.
//! A top-level name of the archive equal to a route's is shadowed by the route (logged at
//! start by [`shadowed`]).

use super::path::tree_path;
use super::tree::{plain, serve};
use super::{catalogs, datasets, gzip, openapi, App, View};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use std::sync::Arc;
use tracing::warn;

/// The first path segments the routes take.
pub const ROUTES: [&str; 5] =
    ["datasets", "intake.yaml", "stac-collection-all.json", "openapi.json", "health"];

/// Answer a request.
pub async fn handle(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    let mut response = match method {
        Method::GET | Method::HEAD => {
            let answer = route(&app, uri.path(), &headers, method == Method::HEAD);
            match tokio::time::timeout(app.request_timeout, answer).await {
                Ok(response) => response,
                Err(_) => {
                    warn!(path = uri.path(), "no answer within {:?}: 503", app.request_timeout);
                    let mut r = plain(StatusCode::SERVICE_UNAVAILABLE, "busy: try again later\n");
                    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
                    r
                }
            }
        }
        Method::OPTIONS => plain(StatusCode::NO_CONTENT, ""),
        _ => {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "read-only: GET, HEAD, OPTIONS\n");
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
            r
        }
    };
    app.cors(response.headers_mut());
    response
}

async fn route(app: &Arc<App>, raw: &str, headers: &HeaderMap, head: bool) -> Response<Body> {
    let segments: Vec<&str> = raw.split('/').filter(|s| !s.is_empty()).collect();
    let base = base_url(headers);
    let response = match segments.as_slice() {
        ["datasets", rest @ ..] => {
            return datasets::handle(app, rest, (raw, &base), headers, head).await
        }
        ["intake.yaml"] => catalogs::intake_root(app, &base).await,
        ["stac-collection-all.json"] => catalogs::stac_collection(app, &base).await,
        ["openapi.json"] => Ok(openapi::document()),
        ["health"] => Ok(("text/plain; charset=utf-8", "ok\n".to_string())),
        _ => {
            return match tree_path(raw) {
                Ok(path) => serve(app, View::Tree, (path, raw), headers, head).await,
                Err(e) => {
                    warn!(path = raw, "refused: {e}");
                    plain(StatusCode::NOT_FOUND, "not found\n")
                }
            };
        }
    };
    document(response, (headers, head))
}

/// A generated document (`Ok((content type, text))`) or the answer for why there is none;
/// gzipped for clients that accept it, once it is worth it.
pub fn document(
    made: Result<(&'static str, String), Response<Body>>,
    (headers, head): (&HeaderMap, bool),
) -> Response<Body> {
    let (kind, text) = match made {
        Ok(made) => made,
        Err(response) => return response,
    };
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, kind)
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::VARY, "Accept-Encoding");
    let body = if text.len() >= gzip::WORTH && gzip::accepted(headers) {
        builder = builder.header(header::CONTENT_ENCODING, "gzip");
        gzip::compress(text.as_bytes())
    } else {
        text.into_bytes()
    };
    builder
        .header(header::CONTENT_LENGTH, body.len())
        .body(if head { Body::empty() } else { Body::from(body) })
        .unwrap_or_default()
}

/// The server's URL as the client reached it (`Host`; `X-Forwarded-Proto` behind a proxy).
fn base_url(headers: &HeaderMap) -> String {
    let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    let host = get("host").filter(|h| h.bytes().all(|b| b.is_ascii_graphic()));
    let proto = match get("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    format!("{proto}://{}", host.unwrap_or("localhost"))
}

/// Warn about top-level directories of `archive` that a route shadows (the tree shows
/// nothing else under these names: files appear as `<stem>.zarr` and `<stem>.stac.json`).
pub fn shadowed(archive: &std::path::Path) {
    for name in ROUTES {
        if archive.join(name).is_dir() {
            warn!(name, "the archive's directory {name}/ is shadowed by the route /{name}");
        }
    }
}
