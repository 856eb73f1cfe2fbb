//! A file's bytes streamed to the client: read from the tree in pieces on the blocking pool
//! (a permit of the server's bound held for each read, never while the client is slow to
//! take the bytes), sent through a channel of two pieces.

use super::{App, View};
use crate::vfs::{self, NodeKey, Vfs, VfsError};
use axum::body::Body;
use bytes::Bytes;
use http_body::Frame;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc;
use tracing::warn;

/// Bytes read from the tree at a time.
pub const PIECE: u64 = 4 << 20;

/// The body of `range` of file `key`: the first piece is read before the response starts (an
/// error is then a status, not a cut body); the rest while the client takes it.
pub async fn file_body(
    app: Arc<App>,
    view: View,
    key: NodeKey,
    range: Range<u64>,
) -> Result<Body, crate::vfs::VfsError> {
    let first_end = range.end.min(range.start + PIECE);
    let first = read(&app, view, &key, range.start..first_end).await?;
    if first_end >= range.end {
        return Ok(Body::from(first));
    }
    let (tx, rx) = mpsc::channel(2);
    let _ = tx.send(Ok(first)).await;
    tokio::spawn(async move {
        let mut at = first_end;
        while at < range.end {
            let end = range.end.min(at + PIECE);
            let piece = read(&app, view, &key, at..end).await.map_err(|e| {
                warn!(path = ?key, "read failed while sending: {e}");
                std::io::Error::other(e.to_string())
            });
            let failed = piece.is_err();
            if tx.send(piece).await.is_err() || failed {
                return; // the client went away, or the body ends cut
            }
            at = end;
        }
    });
    Ok(Body::new(Pieces(rx)))
}

/// All `size` bytes of file `key` at once (a document to compress).
pub async fn whole(
    app: Arc<App>,
    view: View,
    key: NodeKey,
    size: u64,
) -> Result<Bytes, crate::vfs::VfsError> {
    read(&app, view, &key, 0..size).await
}

/// `range` of `key` read on the blocking pool, holding one of the server's permits.
async fn read(
    app: &Arc<App>,
    view: View,
    key: &NodeKey,
    range: Range<u64>,
) -> Result<Bytes, crate::vfs::VfsError> {
    let permit = app.permits.clone().acquire_owned().await;
    let (app, key) = (app.clone(), key.clone());
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        read_now(app.vfs(view), &key, range)
    });
    task.await.map_err(|e| crate::vfs::VfsError::Io(std::io::Error::other(e)))?
}

/// `range` of `key`, read on this thread. One read of the tree usually gives it all, and its
/// bytes are sent as they are; a file that answers in parts (or ends early) is gathered.
pub fn read_now(vfs: &Vfs, key: &NodeKey, range: Range<u64>) -> Result<Bytes, VfsError> {
    let len = range.end - range.start;
    let first = vfs.read(key, range.start, len.min(u32::MAX as u64) as u32)?;
    if first.len() as u64 >= len || first.is_empty() {
        return Ok(shared(first));
    }
    let mut out = Vec::with_capacity(len as usize);
    out.extend_from_slice(&first);
    let mut at = range.start + first.len() as u64;
    while at < range.end {
        let want = (range.end - at).min(u32::MAX as u64) as u32;
        let got = vfs.read(key, at, want)?;
        if got.is_empty() {
            break; // the file ended early (it changed): the body is short, not padded
        }
        out.extend_from_slice(&got);
        at += got.len() as u64;
    }
    Ok(Bytes::from(out))
}

/// The tree's bytes as bytes hyper sends, without a copy: a window on a cached chunk keeps
/// the chunk alive until it is sent; read and owned bytes are handed over.
fn shared(bytes: vfs::Bytes) -> Bytes {
    match bytes {
        window @ vfs::Bytes::Window(..) => Bytes::from_owner(Window(window)),
        other => Bytes::from(other.into_vec()),
    }
}

struct Window(vfs::Bytes);

impl AsRef<[u8]> for Window {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The pieces as an HTTP body.
struct Pieces(mpsc::Receiver<std::io::Result<Bytes>>);

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(cx).map(|piece| piece.map(|r| r.map(Frame::data)))
    }
}
