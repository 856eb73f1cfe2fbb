//! `tracing` set-up shared by the binaries: `RUST_LOG` filters, default `info` (the icechunk
//! crate's below `warn`, its storage crates' below `error`: per-request and per-commit
//! chatter, and set-up advice for every run, that `cloudify icechunk` reports itself).

use tracing_subscriber::EnvFilter;

const DEFAULT: &str = "info,icechunk=warn,icechunk_storage=error,icechunk_s3=error,\
                       icechunk_arrow_object_store=error";

/// Log to stderr (which the daemon points at its log file).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
