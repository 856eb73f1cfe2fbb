//! The thread that writes persisted indexes, so that a dataset's first access does not wait
//! for the index directory's file system. A queue bounded in jobs and in bytes: when it is
//! full the caller writes itself (back-pressure, never unbounded memory).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tracing::warn;

/// Index files, and their bytes, that may wait to be written.
const QUEUE: usize = 256;
const QUEUE_BYTES: usize = 64 << 20;

type Job = (PathBuf, Vec<u8>);

#[derive(Debug)]
pub struct Writer {
    queue: Mutex<Option<SyncSender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Bytes queued and not yet written.
    pending: Arc<AtomicUsize>,
}

impl Writer {
    /// Start the writer of index files into `dir`.
    pub fn start(dir: PathBuf) -> Writer {
        let (tx, rx) = sync_channel::<Job>(QUEUE);
        let pending = Arc::new(AtomicUsize::new(0));
        let written = pending.clone();
        let thread = std::thread::Builder::new()
            .name("index-writer".into())
            .spawn(move || {
                for (target, bytes) in rx {
                    super::write(&dir, &target, &bytes);
                    written.fetch_sub(bytes.len(), Ordering::Relaxed);
                }
            })
            .map_err(|e| warn!("no index writer thread ({e}): indexes are written inline"))
            .ok();
        let queue = thread.as_ref().map(|_| tx);
        Writer { queue: Mutex::new(queue), thread: Mutex::new(thread), pending }
    }

    /// Queue a write; the job comes back when the caller must write it itself.
    pub fn queue(&self, target: PathBuf, bytes: Vec<u8>) -> Option<Job> {
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let Some(tx) = queue.as_ref() else { return Some((target, bytes)) };
        let len = bytes.len();
        if self.pending.fetch_add(len, Ordering::Relaxed) + len > QUEUE_BYTES {
            self.pending.fetch_sub(len, Ordering::Relaxed);
            return Some((target, bytes));
        }
        match tx.try_send((target, bytes)) {
            Ok(()) => None,
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                self.pending.fetch_sub(len, Ordering::Relaxed);
                Some(job)
            }
        }
    }

    /// Write what is queued and stop; later writes happen inline.
    pub fn finish(&self) {
        drop(self.queue.lock().unwrap_or_else(|e| e.into_inner()).take());
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}
