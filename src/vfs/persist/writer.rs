//! The thread that writes persisted indexes, so that a dataset's first access does not wait
//! for the index directory's file system. A bounded queue: when it is full the caller writes
//! itself (back-pressure, never unbounded memory).

use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Mutex;
use std::thread::JoinHandle;
use tracing::warn;

/// Index files waiting to be written.
const QUEUE: usize = 256;

type Job = (PathBuf, Vec<u8>);

#[derive(Debug)]
pub struct Writer {
    queue: Mutex<Option<SyncSender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Start the writer of index files into `dir`.
    pub fn start(dir: PathBuf) -> Writer {
        let (tx, rx) = sync_channel::<Job>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("index-writer".into())
            .spawn(move || {
                for (target, bytes) in rx {
                    super::write(&dir, &target, &bytes);
                }
            })
            .map_err(|e| warn!("no index writer thread ({e}): indexes are written inline"))
            .ok();
        let queue = thread.as_ref().map(|_| tx);
        Writer { queue: Mutex::new(queue), thread: Mutex::new(thread) }
    }

    /// Queue a write; the job comes back when the caller must write it itself.
    pub fn queue(&self, target: PathBuf, bytes: Vec<u8>) -> Option<Job> {
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let Some(tx) = queue.as_ref() else { return Some((target, bytes)) };
        match tx.try_send((target, bytes)) {
            Ok(()) => None,
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => Some(job),
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
