//! `/datasets/{id}/reduce/{var}/{dims}/{action}/…` and `/datasets/{id}/groupby/{var}/
//! {coord}.{component}/{action}/…`: the path parsed into a [`crate::derive::Request`], the
//! derived store made (or taken from its cache) on the blocking pool, and its file served.
//! Bad requests are 400 with what is allowed, results over the limit 413; a computation stops
//! when its request goes away (client gone, `--request-timeout`). A file's byte range is
//! answered 206 (416 beyond its end), as the tree's files are.

use super::path::tree_path;
use super::range::{wanted, Wanted};
use super::tree::{failed, plain};
use super::App;
use crate::derive::{DeriveError, Request};
use axum::body::Body;
use axum::http::{header, HeaderMap, Response, StatusCode};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tracing::{info, warn};

const USAGE: &str = "derived datasets: /datasets/{id}/reduce/{var}/{dim[,dim…]}/{action}/ or \
                     /datasets/{id}/groupby/{var}/{time coordinate}.{component}/{action}/ \
                     (or by a coordinate's values: …/groupby/{var}/{coordinate}/{action}/)\n";

/// Answer `rest` (`[var, what, action, file…]`) of derivation `kind` of `store`.
pub async fn serve(
    app: &Arc<App>,
    store: &str,
    (kind, rest): (&str, &[&str]),
    (raw, headers, head): (&str, &HeaderMap, bool),
) -> Response<Body> {
    let decoded: Option<Vec<String>> =
        rest.iter().map(|s| tree_path(s).ok()?.to_str().map(str::to_string)).collect();
    let Some(decoded) = decoded else {
        return plain(StatusCode::BAD_REQUEST, USAGE);
    };
    let [var, what, action, file @ ..] = decoded.as_slice() else {
        return plain(StatusCode::BAD_REQUEST, USAGE);
    };
    let request = match Request::parse(kind, var, what, action) {
        Ok(r) => r,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("{e}\n{USAGE}")),
    };
    let permit = app.permits.clone().acquire_owned().await;
    let (app2, path, raw2) = (app.clone(), PathBuf::from(store), raw.to_string());
    // dropped with this future when the client leaves or the request times out
    let cancel = Cancel(Arc::new(AtomicBool::new(false)));
    let flag = cancel.0.clone();
    let made = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let made = app2.derived.store(&path, &request, &flag);
        if let Err(e @ DeriveError::Cancelled) = &made {
            // logged here: the request's future, which would answer, is gone
            info!(path = raw2, "derived computation stopped: {e}");
        }
        made
    })
    .await;
    let store = match made {
        Ok(Ok(store)) => store,
        Ok(Err(e)) => return refused(raw, e),
        Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
    };
    drop(cancel);
    let name = file.join("/");
    let (kind, body) = if name.is_empty() {
        let names: Vec<&String> = store.files.keys().collect();
        ("application/json", bytes::Bytes::from(serde_json::json!(names).to_string()))
    } else {
        match store.files.get(&name) {
            Some(b) if name.rsplit('/').next().is_some_and(|n| n.starts_with('.')) => {
                ("application/json", b.clone())
            }
            Some(b) => ("application/octet-stream", b.clone()),
            None => return plain(StatusCode::NOT_FOUND, "not found\n"),
        }
    };
    let size = body.len() as u64;
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, kind)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "no-cache");
    let range = headers.get(header::RANGE).and_then(|h| h.to_str().ok());
    let (builder, body) = match wanted(range, size) {
        Wanted::Whole => (builder.status(StatusCode::OK), body),
        Wanted::Part(r) => {
            let cr = format!("bytes {}-{}/{size}", r.start, r.end - 1);
            let part = body.slice(r.start as usize..r.end as usize);
            (builder.status(StatusCode::PARTIAL_CONTENT).header(header::CONTENT_RANGE, cr), part)
        }
        Wanted::Unsatisfiable => {
            return builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .body(Body::empty())
                .unwrap_or_default();
        }
    };
    builder
        .header(header::CONTENT_LENGTH, body.len())
        .body(if head { Body::empty() } else { Body::from(body) })
        .unwrap_or_default()
}

/// The answer for a derivation that failed: the tree's errors as everywhere, a bad request
/// 400, a result over the limit 413, a computation stopped because its request went away 503
/// (nobody reads it), anything else 500 (logged).
pub fn refused(raw: &str, e: DeriveError) -> Response<Body> {
    let code = match e {
        DeriveError::Tree(e) => return failed(raw, &e),
        DeriveError::Request(_) => StatusCode::BAD_REQUEST,
        DeriveError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        DeriveError::Cancelled => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if code == StatusCode::INTERNAL_SERVER_ERROR {
        warn!(path = raw, "{e}");
    }
    plain(code, &format!("{e}\n"))
}

/// Sets its flag when dropped: a computation running for a request that went away stops.
struct Cancel(Arc<AtomicBool>);

impl Drop for Cancel {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
