//! `tracing` set-up shared by the binaries: `RUST_LOG` filters, default `info`.

use tracing_subscriber::EnvFilter;

/// Log to stderr (which the daemon points at its log file).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
