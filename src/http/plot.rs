//! `/datasets/{id}/plot/{var}/{kind}/{cmap}/{selection…}`: the path parsed into a
//! [`crate::derive::PlotRequest`], the image drawn (or taken from the cache) on the blocking
//! pool, answered as `image/png` or `image/svg+xml` (`.svg` on the last segment, or an
//! `Accept` that names SVG and not PNG). Bad requests are 400 with what is allowed.

use super::derived::refused;
use super::path::tree_path;
use super::tree::plain;
use super::App;
use crate::derive::{DeriveError, PlotRequest};
use crate::plot::Format;
use axum::body::Body;
use axum::http::{header, HeaderMap, Response, StatusCode};
use std::path::PathBuf;
use std::sync::Arc;

/// Answer `rest` (the segments after `plot/`) for `store`.
pub async fn serve(
    app: &Arc<App>,
    store: &str,
    rest: &[&str],
    (raw, headers, head): (&str, &HeaderMap, bool),
) -> Response<Body> {
    let decoded: Option<Vec<String>> =
        rest.iter().map(|s| tree_path(s).ok()?.to_str().map(str::to_string)).collect();
    let parsed = match decoded {
        Some(segments) => PlotRequest::parse(&segments),
        None => Err(DeriveError::Request("a path segment that names nothing".into())),
    };
    let mut request = match parsed {
        Ok(r) => r,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("{e}\n")),
    };
    let named_ext = rest.last().is_some_and(|s| s.ends_with(".svg") || s.ends_with(".png"));
    if !named_ext && wants_svg(headers) {
        request.format = Format::Svg;
    }
    let permit = app.permits.clone().acquire_owned().await;
    let (app2, path, req) = (app.clone(), PathBuf::from(store), request.clone());
    let made = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        app2.derived.plot(&path, &req)
    })
    .await;
    let image = match made {
        Ok(Ok(image)) => image,
        Ok(Err(e)) => return refused(raw, e),
        Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
    };
    let kind = match request.format {
        Format::Png => "image/png",
        Format::Svg => "image/svg+xml",
    };
    let body = bytes::Bytes::from_owner(ImageBytes(image));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, kind)
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::VARY, "Accept")
        .body(if head { Body::empty() } else { Body::from(body) })
        .unwrap_or_default()
}

/// An `Accept` that names SVG and not PNG.
fn wants_svg(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|h| h.to_str().ok()).unwrap_or("");
    accept.contains("image/svg+xml") && !accept.contains("image/png")
}

/// A cached image handed to hyper without a copy.
struct ImageBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for ImageBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
