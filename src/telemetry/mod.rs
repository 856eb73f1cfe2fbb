//! What the daemon tells about itself: process-wide counters and their one-line summary
//! ([`stats`]), rate-limited warnings ([`log_limit`]), the `tracing` subscriber
//! ([`logging`]), and readiness told to systemd ([`notify`], for the mount and the server).
//! The bottom layer: imports nothing of ours.

pub mod log_limit;
pub mod logging;
pub mod notify;
pub mod stats;
