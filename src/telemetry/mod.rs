//! What the daemon tells about itself: process-wide counters and their one-line summary
//! ([`stats`]), rate-limited warnings ([`log_limit`]), the `tracing` subscriber
//! ([`logging`]), readiness told to systemd ([`notify`], for the mount and the server), and
//! the open-files limit both raise at start ([`limits`]).
//! The bottom layer: imports nothing of ours.

pub mod limits;
pub mod log_limit;
pub mod logging;
pub mod notify;
pub mod stats;
