//! What the daemon tells about itself: process-wide counters and their one-line summary
//! ([`stats`]), rate-limited warnings ([`log_limit`]), and the `tracing` subscriber
//! ([`logging`]). The bottom layer: imports nothing of ours.

pub mod log_limit;
pub mod logging;
pub mod stats;
