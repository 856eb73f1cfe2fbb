//! The accept loop: every connection served by hyper (HTTP/1.1) on its own task, with the
//! bounds that keep bad or slow clients from costing others: at most `max_connections` open
//! at once (further connections wait in the kernel's backlog), a request's headers must
//! arrive within [`HEADER_TIMEOUT`] (slowloris), and on SIGINT/SIGTERM the listener closes and
//! open connections finish their in-flight responses (for at most [`DRAIN`]).

use crate::telemetry::notify;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

/// Time a client has to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Time open connections have to finish after the stop signal.
pub const DRAIN: Duration = Duration::from_secs(30);

/// Serve `router` on `listener` until `stop` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    max_connections: usize,
    stop: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
    let builder = Arc::new(builder);
    tokio::pin!(stop);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            _ = &mut stop => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // out of file descriptors and the like: wait, do not spin
                    warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                debug!(%peer, "connection: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    info!("stopping: in-flight responses finish");
    notify::notify(notify::STOPPING);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        warn!("connections still open after {DRAIN:?}: closed");
    }
}
