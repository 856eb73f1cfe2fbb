//! `cloudify serve ARCHIVE`: the options of the HTTP server (beside the tree's, shared with
//! the mount) and its start.

use super::log_file::log_to;
use super::tree_args::TreeArgs;
use clap::Args;
use cloudify_mount::derive::DeriveOptions;
use cloudify_mount::http::{run, ServeConfig};
use cloudify_mount::telemetry::notify;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Directory holding NetCDF/HDF5 files (searched recursively).
    archive: PathBuf,
    /// Address to listen on (port 0: a free port, printed on stdout once listening).
    #[arg(
        long,
        default_value = "127.0.0.1:9000",
        value_name = "ADDR:PORT",
        help_heading = "Server"
    )]
    listen: SocketAddr,
    /// `Access-Control-Allow-Origin` sent with every response ("none": no CORS headers).
    #[arg(long, default_value = "*", value_name = "ORIGIN", help_heading = "Server")]
    cors_origin: String,
    /// Requests doing work in the archive at once (indexing, reading chunks); others wait.
    #[arg(long, default_value_t = 64, help_heading = "Server")]
    max_concurrent: usize,
    /// Seconds clients may cache a file before revalidating it (`Cache-Control: max-age`).
    #[arg(long, default_value_t = 60, value_name = "SECONDS", help_heading = "Server")]
    max_age: u64,
    /// Connections open at once; further clients wait to be accepted.
    #[arg(long, default_value_t = 1024, help_heading = "Server")]
    max_connections: usize,
    /// Seconds a request may take until its answer starts (waiting for its turn and the
    /// archive's work, e.g. indexing a large file); then 503 with Retry-After.
    #[arg(long, default_value_t = 120, value_name = "SECONDS", help_heading = "Server")]
    request_timeout: u64,
    /// Bytes a derived dataset (`/datasets/{id}/reduce/…`, `…/groupby/…`) may take, and the
    /// memory its computation may hold; larger ones are refused with 413.
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES", help_heading = "Server")]
    max_derived_size: u64,
    /// Append logs here (default: stderr). Filter with RUST_LOG.
    #[arg(long, value_name = "FILE", help_heading = "Server")]
    log_file: Option<PathBuf>,
    #[command(flatten)]
    tree: TreeArgs,
}

/// Serve until SIGINT/SIGTERM.
pub fn serve(args: ServeArgs) -> ExitCode {
    if let Some(path) = &args.log_file {
        if let Err(e) = log_to(path) {
            eprintln!("cloudify: log file {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let vfs = match args.tree.vfs_options() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("cloudify: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cfg = ServeConfig {
        archive: args.archive,
        listen: args.listen,
        vfs,
        cors_origin: (args.cors_origin != "none").then_some(args.cors_origin),
        max_concurrent: args.max_concurrent,
        max_age: args.max_age,
        max_connections: args.max_connections,
        request_timeout: std::time::Duration::from_secs(args.request_timeout.max(1)),
        derive: DeriveOptions {
            max_size: args.max_derived_size,
            cache_bytes: args.max_derived_size.saturating_mul(2),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()).min(4),
        },
    };
    let ready = |addr: SocketAddr| {
        println!("listening on http://{addr}");
        let _ = std::io::stdout().flush();
        notify::notify(notify::READY); // systemd (Type=notify): the server answers
    };
    match run(cfg, ready) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloudify: {e}");
            ExitCode::FAILURE
        }
    }
}
