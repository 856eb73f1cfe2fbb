//! `cloudify serve`: the tree over HTTP, a second thin adapter beside FUSE over the same
//! path-addressed core ([`crate::vfs::Vfs`]): the same lazy, persisted, identity-checked
//! datasets, answered by path. axum on tokio; the tree's blocking work (indexing, chunk reads)
//! runs on tokio's blocking pool, bounded by a number of permits, so that slow clients and
//! many requests never starve each other. SIGINT/SIGTERM stop accepting and let in-flight
//! responses finish.
//!
//! What is served, route by route: `tree.rs` (static tree: every path of the mount).

mod body;
mod error;
mod listing;
pub mod path;
pub mod range;
mod tree;
mod validators;

pub use error::{status, HttpError};

use crate::vfs::{Vfs, VfsOptions};
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
}

/// What every request handler shares.
pub struct App {
    vfs: Vfs,
    /// Bounds the blocking work in the tree.
    permits: Arc<Semaphore>,
    /// A digest of the options that decide the bytes served (in every ETag).
    view: u64,
    cors_origin: Option<HeaderValue>,
    cache_control: String,
}

impl App {
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
    let view = view_digest(&cfg.vfs);
    let vfs = Vfs::new(&cfg.archive, cfg.vfs)
        .map_err(|source| HttpError::Archive { path: cfg.archive.clone(), source })?;
    let app = Arc::new(App {
        vfs,
        permits: Arc::new(Semaphore::new(cfg.max_concurrent.max(1))),
        view,
        cors_origin: cfg.cors_origin.as_deref().and_then(|o| HeaderValue::from_str(o).ok()),
        cache_control: format!("public, max-age={}", cfg.max_age),
    });
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
        ready(addr);
        let router = axum::Router::new().fallback(tree::handle).with_state(app);
        axum::serve(listener, router)
            .with_graceful_shutdown(stopped())
            .await
            .map_err(HttpError::Serve)
    });
    flush.vfs.flush_indexes();
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
    info!("stopping: in-flight responses finish");
}
