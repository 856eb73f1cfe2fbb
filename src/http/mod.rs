//! `cloudify serve`: the tree over HTTP, a second thin adapter beside FUSE over the same
//! path-addressed core ([`crate::vfs::Vfs`]): the same lazy, persisted, identity-checked
//! datasets, answered by path. axum on tokio; the tree's blocking work (indexing, chunk reads)
//! runs on tokio's blocking pool, bounded by a number of permits, so that slow clients and
//! many requests never starve each other; connections are accepted by `accept.rs` (bounded,
//! header timeout, graceful stop on SIGINT/SIGTERM).
//!
//! The server holds two views of the archive: the tree as configured (`--chunks`), which the
//! static paths show, and the same archive in the other chunk mode, so that the cloudify routes
//! can serve both `/datasets/{id}/zarr` (decoded) and `/datasets/{id}/kerchunk` (raw).
//!
//! What is served, route by route: `routes.rs` dispatches; `tree.rs` (the static tree: every
//! path of the mount), `datasets.rs` (the cloudify/xpublish routes), `catalogs.rs` (intake,
//! the STAC collection of all items), `openapi.rs`.

mod accept;
mod body;
mod catalogs;
mod datasets;
mod derived;
mod error;
mod gzip;
pub mod ids;
mod kerchunk;
mod listing;
mod openapi;
pub mod path;
mod plot;
pub mod range;
mod routes;
mod summary;
mod tree;
mod validators;

pub use error::{status, HttpError};

use crate::vfs::{Vfs, VfsOptions};
use crate::zarr::mode::ChunkMode;
use axum::http::{HeaderMap, HeaderValue};
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tracing::info;

/// Settings of the server.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub archive: PathBuf,
    pub listen: SocketAddr,
    pub vfs: VfsOptions,
    /// `Access-Control-Allow-Origin` (`None`: no CORS headers).
    pub cors_origin: Option<String>,
    /// Requests doing work in the tree at once (indexing, reading chunks).
    pub max_concurrent: usize,
    /// Seconds clients may cache a file before revalidating (`Cache-Control: max-age`).
    pub max_age: u64,
    /// Connections open at once (others wait to be accepted).
    pub max_connections: usize,
    /// Time a request may take until its answer starts (then 503).
    pub request_timeout: std::time::Duration,
    /// Limits of derived datasets (`/datasets/{id}/reduce/…`, `…/groupby/…`).
    pub derive: crate::derive::DeriveOptions,
}

/// Which view of the archive a request reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// As configured: the static tree.
    Tree,
    /// Raw chunks (`/datasets/{id}/kerchunk`).
    Raw,
    /// Decoded chunks (`/datasets/{id}/zarr`).
    Decoded,
}

/// A view: the tree, and a digest of the options that decide its bytes (in every ETag).
struct Tree {
    vfs: Vfs,
    digest: u64,
}

/// What every request handler shares.
pub struct App {
    /// The tree as configured.
    tree: Tree,
    /// The same archive in the other chunk mode.
    other: Tree,
    mode: ChunkMode,
    /// The stores are Zarr v3 (consolidated metadata in the root `zarr.json`).
    zarr_v3: bool,
    /// Bounds the blocking work in the tree.
    permits: Arc<Semaphore>,
    cors_origin: Option<HeaderValue>,
    cache_control: String,
    request_timeout: std::time::Duration,
    /// Derived datasets (their own view of the archive).
    derived: Arc<crate::derive::Derived>,
}

impl App {
    fn tree(&self, view: View) -> &Tree {
        // an unpacked tree is the decoded view the user asked for
        let decoded = matches!(self.mode, ChunkMode::Decoded | ChunkMode::Unpacked);
        match view {
            View::Tree => &self.tree,
            View::Raw if !decoded => &self.tree,
            View::Decoded if decoded => &self.tree,
            _ => &self.other,
        }
    }

    /// The tree of `view`.
    fn vfs(&self, view: View) -> &Vfs {
        &self.tree(view).vfs
    }

    /// Run `f` on the tree on the blocking pool, holding a permit.
    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&App) -> Result<T, crate::vfs::VfsError> + Send + 'static,
    ) -> Result<T, crate::vfs::VfsError> {
        let permit = self.permits.clone().acquire_owned().await;
        let app = self.clone();
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f(&app)
        });
        task.await.map_err(|e| crate::vfs::VfsError::Io(std::io::Error::other(e)))?
    }

    /// Add the CORS headers (when enabled) to a response's `headers`.
    fn cors(&self, headers: &mut HeaderMap) {
        use axum::http::header;
        let Some(origin) = &self.cors_origin else { return };
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        let methods = HeaderValue::from_static("GET, HEAD, OPTIONS");
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
        let allowed = "Range, If-None-Match, If-Modified-Since, If-Range, Accept";
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(allowed));
        let exposed = "Content-Range, Content-Length, Accept-Ranges, ETag, Last-Modified";
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(exposed));
    }
}

/// A digest of the options that decide the bytes served (not where workers run).
fn view_digest(options: &VfsOptions) -> u64 {
    let mut o = options.clone();
    o.isolation = crate::worker::Isolation::InProcess;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (env!("CARGO_PKG_VERSION"), format!("{o:?}")).hash(&mut h);
    h.finish()
}

/// Serve `cfg.archive` on `cfg.listen` until SIGINT or SIGTERM. `ready` is called once the
/// socket listens (with the address bound: port 0 picks a free one).
pub fn run(cfg: ServeConfig, ready: impl FnOnce(SocketAddr)) -> Result<(), HttpError> {
    crate::telemetry::limits::raise_open_files();
    // the two views share the memory for chunks the mount would have alone
    let mut options = cfg.vfs.clone();
    options.cache_bytes /= 2;
    let mode = options.chunk_mode;
    let mut other = options.clone();
    other.chunk_mode = match mode {
        ChunkMode::Raw => ChunkMode::Decoded,
        ChunkMode::Decoded | ChunkMode::Unpacked => ChunkMode::Raw,
    };
    let tree = |o: VfsOptions| -> Result<Tree, HttpError> {
        let digest = view_digest(&o);
        let vfs = Vfs::new(&cfg.archive, o)
            .map_err(|source| HttpError::Archive { path: cfg.archive.clone(), source })?;
        Ok(Tree { vfs, digest })
    };
    let derived = crate::derive::Derived::new(&cfg.archive, &cfg.vfs, cfg.derive)
        .map_err(|source| HttpError::Archive { path: cfg.archive.clone(), source })?;
    let derived = Arc::new(derived);
    let app = Arc::new(App {
        tree: tree(options)?,
        other: tree(other)?,
        mode,
        zarr_v3: matches!(cfg.vfs.zarr_format, crate::zarr::ZarrFormat::V3 { .. }),
        permits: Arc::new(Semaphore::new(cfg.max_concurrent.max(1))),
        cors_origin: cfg.cors_origin.as_deref().and_then(|o| HeaderValue::from_str(o).ok()),
        cache_control: format!("public, max-age={}", cfg.max_age),
        request_timeout: cfg.request_timeout,
        derived: derived.clone(),
    });
    // thumbnails and declared derived stores in the tree: drawn and computed by `derived`
    if cfg.vfs.thumbnails || !cfg.vfs.derived.is_empty() {
        let generator = crate::derive::Generated::new(derived, &cfg.vfs.derived)
            .map_err(HttpError::Declared)?;
        let generator: Arc<dyn crate::vfs::Generator> = Arc::new(generator);
        app.tree.vfs.set_generator(generator.clone());
        app.other.vfs.set_generator(generator);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("cloudify-http")
        .build()
        .map_err(HttpError::Runtime)?;
    let flush = app.clone();
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| HttpError::Bind { addr: cfg.listen, source })?;
        let addr = listener.local_addr().map_err(HttpError::Serve)?;
        info!(%addr, archive = %cfg.archive.display(), "serving");
        routes::shadowed(&cfg.archive);
        ready(addr);
        let router = axum::Router::new().fallback(routes::handle).with_state(app);
        accept::serve(listener, router, cfg.max_connections, stopped()).await;
        Ok(())
    });
    flush.tree.vfs.flush_indexes();
    flush.other.vfs.flush_indexes();
    info!("stopped");
    result
}

/// Resolves on SIGINT or SIGTERM.
async fn stopped() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
