//! Worker processes are started from one long-lived thread. A worker asks the kernel to kill
//! it when its parent dies (`PR_SET_PDEATHSIG`, so that a worker stuck in a C library never
//! outlives the daemon), and the kernel means the parent *thread*: a worker started from a
//! short-lived thread (the two threads that read a collection's member indexes) was killed
//! when that thread ended, and the next job sent to it found no answer.

use std::io;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;

/// A request to start a worker, and where its child goes.
type Order = Sender<io::Result<Child>>;

/// The thread that starts the pool's workers (it ends with the pool).
pub struct Spawner {
    orders: Mutex<Sender<Order>>,
}

impl Spawner {
    /// A thread starting `exe args…` with piped stdin/stdout on request.
    pub fn new(exe: PathBuf, args: Vec<String>) -> io::Result<Spawner> {
        let (orders, rx) = channel::<Order>();
        std::thread::Builder::new().name("cloudify-worker-spawner".into()).spawn(move || {
            for reply in rx {
                let child = Command::new(&exe)
                    .args(&args)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn();
                let _ = reply.send(child);
            }
        })?;
        Ok(Spawner { orders: Mutex::new(orders) })
    }

    /// A new worker process, started by the spawner thread.
    pub fn spawn(&self) -> io::Result<Child> {
        let (reply, answer) = channel();
        let gone = || io::Error::other("the worker spawner thread is gone");
        self.orders.lock().map_err(|_| gone())?.send(reply).map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_outlive_the_thread_that_asked_for_them() {
        let spawner = Spawner::new("sleep".into(), vec!["30".into()]).unwrap();
        let mut child =
            std::thread::scope(|s| s.spawn(|| spawner.spawn()).join().unwrap()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        // with PR_SET_PDEATHSIG the child of an ended thread would be gone; here nothing sets
        // it, so this checks only that the child runs after its asking thread ended
        assert!(child.try_wait().unwrap().is_none());
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
