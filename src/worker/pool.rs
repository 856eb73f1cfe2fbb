//! The daemon's side: a bounded set of worker processes, started on demand, one job each at a
//! time. A worker that dies or overruns the time limit is killed and replaced; the job's file
//! is reported as failed, and every other dataset goes on.

use super::protocol::{read_frame, write_frame, Request, Response};
use super::serve::WORKER_ARG;
use super::spawner::Spawner;
use std::io::{BufReader, BufWriter};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, ExitStatus};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};
use tracing::{debug, error};

/// A job could not be done by a worker.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("cannot start a worker process: {0}")]
    Spawn(std::io::Error),
    #[error("the worker process died ({cause}; {ended}); the file may be malformed")]
    Died { cause: Lost, ended: Ended },
    #[error("the worker process took longer than {0:?} and was killed")]
    Timeout(Duration),
    #[error("{0}")]
    Failed(String),
}

/// How the exchange with a worker broke off.
#[derive(Debug, thiserror::Error)]
pub enum Lost {
    /// Writing the request or reading the answer failed.
    #[error("{0}")]
    Pipe(#[from] std::io::Error),
    /// The pipe closed without an answer.
    #[error("no answer")]
    NoAnswer,
}

/// How a killed worker ended: its exit status, or why waiting for it failed.
#[derive(Debug, thiserror::Error)]
pub enum Ended {
    #[error("{0}")]
    Status(ExitStatus),
    #[error("{0}")]
    Wait(std::io::Error),
}

/// Why an exchange failed: the worker is lost, or it overran the time limit.
enum Broken {
    Lost(Lost),
    Timeout(Duration),
}

struct Worker {
    child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
}

impl Worker {
    fn kill(mut self) -> Ended {
        let _ = self.child.kill();
        match self.child.wait() {
            Ok(status) => Ended::Status(status),
            Err(e) => Ended::Wait(e),
        }
    }
}

/// Worker processes of one daemon.
pub struct Pool {
    exe: PathBuf,
    max: usize,
    timeout: Duration,
    /// Idle workers, and how many exist in all.
    state: Mutex<(Vec<Worker>, usize)>,
    freed: Condvar,
    /// Starts the workers from one long-lived thread (see `spawner.rs`), made on first use.
    spawner: std::sync::OnceLock<Spawner>,
}

impl Pool {
    /// Up to `max` workers running `exe __cloudify_worker`, each job limited to `timeout`.
    pub fn new(exe: PathBuf, max: usize, timeout: Duration) -> Pool {
        Pool {
            exe,
            max: max.max(1),
            timeout,
            state: Mutex::new((vec![], 0)),
            freed: Condvar::new(),
            spawner: std::sync::OnceLock::new(),
        }
    }

    fn spawner(&self) -> Result<&Spawner, WorkerError> {
        if let Some(s) = self.spawner.get() {
            return Ok(s);
        }
        let args = vec![WORKER_ARG.to_string(), std::process::id().to_string()];
        let made = Spawner::new(self.exe.clone(), args).map_err(WorkerError::Spawn)?;
        Ok(self.spawner.get_or_init(|| made))
    }

    fn spawn(&self) -> Result<Worker, WorkerError> {
        let mut child = self.spawner()?.spawn().map_err(WorkerError::Spawn)?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(WorkerError::Spawn(std::io::Error::other("no pipes")));
        };
        debug!(pid = child.id(), "worker process started");
        Ok(Worker { child, input: BufWriter::new(input), output: BufReader::new(output) })
    }

    fn take(&self) -> Result<Worker, WorkerError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(w) = state.0.pop() {
                return Ok(w);
            }
            if state.1 < self.max {
                state.1 += 1;
                drop(state);
                return self.spawn().inspect_err(|_| self.forget());
            }
            state = self.freed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn give_back(&self, w: Worker) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0.push(w);
        self.freed.notify_one();
    }

    fn forget(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1 = state.1.saturating_sub(1);
        self.freed.notify_one();
    }

    /// Run one job on a worker.
    pub fn call(&self, request: &Request) -> Result<Response, WorkerError> {
        let mut w = self.take()?;
        match exchange(&mut w, request, self.timeout) {
            Ok(Response::Failed(e)) => {
                self.give_back(w);
                Err(WorkerError::Failed(e))
            }
            Ok(r) => {
                self.give_back(w);
                Ok(r)
            }
            Err(e) => {
                let pid = w.child.id();
                let ended = w.kill();
                self.forget();
                let e = match e {
                    Broken::Lost(cause) => WorkerError::Died { cause, ended },
                    Broken::Timeout(limit) => WorkerError::Timeout(limit),
                };
                error!(pid, "worker process lost: {e}");
                Err(e)
            }
        }
    }
}

/// Send `request`, wait for the answer at most `timeout`.
fn exchange(w: &mut Worker, request: &Request, timeout: Duration) -> Result<Response, Broken> {
    let died = |e: std::io::Error| Broken::Lost(Lost::Pipe(e));
    write_frame(&mut w.input, request).map_err(died)?;
    let deadline = Instant::now() + timeout;
    // wait for the first byte of the answer within the time left (buffered bytes count)
    if w.output.buffer().is_empty() {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Broken::Timeout(timeout));
            }
            let mut pfd = libc::pollfd {
                fd: w.output.get_ref().as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd for the duration of the call.
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            if n > 0 {
                break;
            }
            if n < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return Err(died(std::io::Error::last_os_error()));
            }
        }
    }
    match read_frame::<Response>(&mut w.output) {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(Broken::Lost(Lost::NoAnswer)),
        Err(e) => Err(died(e)),
    }
}
