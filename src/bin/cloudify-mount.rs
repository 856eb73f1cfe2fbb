//! `cloudify-mount ARCHIVE MOUNTPOINT`: mount an archive of NetCDF/HDF5 files as Zarr.
//!
//! By default the command detaches: it starts itself again in the background with
//! `--foreground` and returns once that child reports the mount usable (or prints the child's
//! one-line reason and exits 1).

use clap::{CommandFactory, Parser};
use cloudify_mount::collection::declared;
use cloudify_mount::fuse::config::{MountConfig, MountFlags};
use cloudify_mount::source::IndexOptions;
use cloudify_mount::stac::{StacConfig, StacOptions};
use cloudify_mount::vfs::{IndexStore, VfsOptions};
use cloudify_mount::worker::{Isolation, Pool};
use cloudify_mount::zarr::mode::ChunkMode;
use std::io::{BufRead, BufReader};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "cloudify-mount",
    version,
    about = "Mount an archive of NetCDF/HDF5 files as a read-only tree of Zarr v2 stores"
)]
struct Cli {
    /// Directory holding NetCDF/HDF5 files (searched recursively).
    archive: PathBuf,
    /// Empty directory to mount on.
    mountpoint: PathBuf,

    /// Stay attached (for systemd and debugging); unmount on SIGINT/SIGTERM. (SIGUSR1 logs a
    /// summary line, attached or not.)
    #[arg(short, long, help_heading = "Process")]
    foreground: bool,
    /// Append logs here (default: discarded when detached, stderr with --foreground).
    /// Filter with RUST_LOG.
    #[arg(long, value_name = "FILE", help_heading = "Process")]
    log_file: Option<PathBuf>,
    /// Internal: file descriptor on which a detached child reports readiness.
    #[arg(long, hide = true)]
    ready_fd: Option<i32>,

    /// Mount options, comma-separated (ro, allow_other, allow_root, default_permissions,
    /// auto_unmount, fsname=NAME, nodev, nosuid, noexec, noatime). Any long option below may
    /// be given here too, as name=value or name (chunks=decoded, cache_size=N, follow_symlinks).
    #[arg(short = 'o', value_name = "OPT[,OPT...]", help_heading = "Mount")]
    options: Vec<String>,
    /// Seconds the kernel may cache attributes and directory entries.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", help_heading = "Mount")]
    attr_timeout: u64,
    /// FUSE worker threads serving requests concurrently [default: four per CPU, 16 to 32:
    /// a thread waiting for a chunk being decoded leaves its CPU to others, and a sequential
    /// client (`find`, `rsync`) waits less for a thread to wake].
    #[arg(long, help_heading = "Mount")]
    threads: Option<usize>,
    /// Follow symbolic links that lead outside the archive (by default they are not shown;
    /// links to places inside the archive are always followed).
    #[arg(long, help_heading = "Mount")]
    follow_symlinks: bool,

    /// Files of a dataset of many files (`<stem>_<start>-<end>.nc` beside others of the same
    /// stem, shown together as `<stem>.zarr`): also shown as stores of their own, or hidden.
    #[arg(long, value_enum, default_value_t = Members::Show, help_heading = "Collections")]
    members: Members,
    /// A member of a collection that cannot be read is left out (logged; the gap shows in the
    /// time coordinate) instead of failing the collection.
    #[arg(long, help_heading = "Collections")]
    skip_bad_members: bool,
    /// Declared collections (TOML: `[[collection]]` with `name` (the store's path in the
    /// mount), `members` (archive-relative globs), `join = "time"` and/or `union = true`);
    /// see the README.
    #[arg(long, value_name = "FILE", help_heading = "Collections")]
    collections: Option<PathBuf>,
    /// A directory whose sub-directories are CMIP/CORDEX-style variable trees
    /// (`<variable_id>/[<grid_label>/]<version>/` or `<variable_id>/` only) also shows one
    /// store per grid label merging the variables (latest version of each); see the README.
    #[arg(long, help_heading = "Collections")]
    union_parent: bool,

    /// raw: the stored compressed chunks, zero-copy (compact; for rsync/rclone export).
    /// decoded: every chunk uncompressed, decoded in the daemon (fastest for local readers).
    #[arg(long, value_enum, default_value_t = Chunks::Raw, help_heading = "Zarr view")]
    chunks: Chunks,
    /// Decoded mode: stack source chunks along the first dimension up to this size (bytes),
    /// so that readers handle fewer, larger chunks; 0 keeps the source's chunks.
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES", help_heading = "Zarr view")]
    decoded_chunk_size: u64,
    /// Target size of the chunks contiguous variables are split into (bytes).
    #[arg(long, default_value_t = 4 << 20, value_name = "BYTES", help_heading = "Zarr view")]
    contiguous_chunk_size: u64,
    /// Also serve each compound variable `v` as a structured array (records) beside its members
    /// `v.m`, where every member is a scalar (off by default: netCDF-C 4.9.0's NCZarr crashes on
    /// a store holding one).
    #[arg(long, help_heading = "Zarr view")]
    structured_arrays: bool,

    /// Directory for persisted indexes, so a remount costs a stat per dataset
    /// [default: $XDG_CACHE_HOME/cloudify-mount/index]; "none" disables.
    #[arg(long, value_name = "DIR", help_heading = "Caching")]
    index_dir: Option<PathBuf>,
    /// Memory for generated chunks, cached and being made (bytes).
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES", help_heading = "Caching")]
    cache_size: u64,
    /// Datasets kept indexed at once.
    #[arg(long, default_value_t = 256, help_heading = "Caching")]
    max_datasets: u64,
    /// Memory for the indexes of the datasets kept (bytes): a dataset of many chunks takes
    /// more of it, and fewer such datasets are kept.
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES", help_heading = "Caching")]
    index_memory: u64,

    /// Worker processes running netcdf-c/libhdf5 (indexing, szip-like decoding), so that a
    /// malformed file crashes a worker, not the mount; 0 runs them in the daemon
    /// [default: number of CPUs, 1 to 4].
    #[arg(long, help_heading = "Isolation")]
    workers: Option<usize>,
    /// Seconds a worker may spend on one file before it is killed and the file marked bad.
    #[arg(long, default_value_t = 300, value_name = "SECONDS", help_heading = "Isolation")]
    worker_timeout: u64,

    /// STAC configuration (JSON; see docs/STAC.md): catalog id/title/description, license,
    /// providers, keywords, extra item properties, asset templates.
    #[arg(long, value_name = "FILE", help_heading = "STAC")]
    stac_config: Option<PathBuf>,
    /// Base URL the stores will be published under; items get an asset pointing there.
    #[arg(long, value_name = "URL", help_heading = "STAC")]
    public_url: Option<String>,
    /// Show no STAC files (catalog.json, <name>.stac.json).
    #[arg(long, help_heading = "STAC")]
    no_stac: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Members {
    Show,
    Hide,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Chunks {
    Raw,
    Decoded,
}

fn config(cli: &Cli) -> Result<MountConfig, String> {
    let flags = MountFlags::parse_with(&cli.options, &long_options()).map_err(|e| e.to_string())?;
    Ok(MountConfig {
        archive: cli.archive.clone(),
        mountpoint: cli.mountpoint.clone(),
        flags,
        threads: cli.threads.unwrap_or_else(|| {
            (4 * std::thread::available_parallelism().map_or(2, |n| n.get())).clamp(16, 32)
        }),
        ttl: Duration::from_secs(cli.attr_timeout),
        vfs: VfsOptions {
            index: IndexOptions { contiguous_chunk_target: cli.contiguous_chunk_size.max(1) },
            cache_bytes: cli.cache_size,
            max_datasets: cli.max_datasets.max(1),
            index_bytes: cli.index_memory,
            index_dir: match &cli.index_dir {
                Some(d) if d.as_os_str() == "none" => None,
                Some(d) => Some(std::path::absolute(d).map_err(|e| e.to_string())?),
                None => IndexStore::default_dir(),
            },
            decoded_chunk_target: cli.decoded_chunk_size,
            structured_arrays: cli.structured_arrays,
            chunk_mode: match cli.chunks {
                Chunks::Raw => ChunkMode::Raw,
                Chunks::Decoded => ChunkMode::Decoded,
            },
            isolation: isolation(cli)?,
            follow_symlinks: cli.follow_symlinks,
            hide_members: cli.members == Members::Hide,
            skip_bad_members: cli.skip_bad_members,
            union_parent: cli.union_parent,
            collections: match &cli.collections {
                Some(path) => declared::load(path).map_err(|e| e.to_string())?,
                None => Vec::new(),
            },
            stac: StacOptions {
                enabled: !cli.no_stac,
                config: match &cli.stac_config {
                    Some(path) => StacConfig::load(path).map_err(|e| e.to_string())?,
                    None => StacConfig::default(),
                },
                public_url: cli.public_url.clone(),
            },
        },
    })
}

fn isolation(cli: &Cli) -> Result<Isolation, String> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    match cli.workers.unwrap_or(cpus.clamp(1, 4)) {
        0 => Ok(Isolation::InProcess),
        n => {
            let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
            let timeout = Duration::from_secs(cli.worker_timeout.max(1));
            Ok(Isolation::Workers(Arc::new(Pool::new(exe, n, timeout))))
        }
    }
}

/// The long options that may also be given in `-o` lists (not the hidden ones).
fn long_options() -> Vec<String> {
    let cmd = Cli::command();
    let names = cmd.get_arguments().filter(|a| !a.is_hide_set()).filter_map(|a| a.get_long());
    names.filter(|n| !matches!(*n, "help" | "version")).map(str::to_string).collect()
}

/// The command line, with the long options found in `-o` lists (as mount(8) passes fstab
/// options: `-o chunks=decoded`) added as if given as `--chunks=decoded`; clap then reports an
/// option given both ways. Errors in the lists are reported by [`config`].
fn parse_cli() -> Cli {
    let cli = Cli::parse();
    match MountFlags::parse_with(&cli.options, &long_options()) {
        Ok(flags) if !flags.long.is_empty() => {
            let args = std::env::args_os().chain(flags.long.iter().map(|o| o.arg().into()));
            Cli::parse_from(args)
        }
        _ => cli,
    }
}

/// Start ourselves in the foreground, detached, and wait for its readiness line.
fn detach(cli: &Cli) -> Result<(), String> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills two fresh descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: both descriptors are ours and used once each.
    let (read, write) =
        unsafe { (std::fs::File::from_raw_fd(fds[0]), std::fs::File::from_raw_fd(fds[1])) };
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let log = match &cli.log_file {
        Some(p) => Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| format!("log file {}: {e}", p.display()))?,
        ),
        None => Stdio::null(),
    };
    let write_fd = write.into_raw_fd();
    let mut cmd = Command::new(exe);
    cmd.args(std::env::args_os().skip(1))
        .arg("--foreground")
        .arg(format!("--ready-fd={write_fd}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    // SAFETY: between fork and exec we only call async-signal-safe functions.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(move || {
            libc::setsid();
            // keep the readiness pipe open across exec
            let flags = libc::fcntl(write_fd, libc::F_GETFD);
            libc::fcntl(write_fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|e| format!("cannot start the daemon: {e}"));
    // SAFETY: closing our copy of the write end so EOF arrives if the child dies.
    unsafe { libc::close(write_fd) };
    child?;
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).map_err(|e| e.to_string())?;
    match line.trim() {
        "ok" => Ok(()),
        "" => Err("the daemon exited before the mount was ready (see --log-file)".into()),
        reason => Err(reason.to_string()),
    }
}

/// Point stderr (our logs, and whatever the C libraries print) at the end of `path`.
fn log_to(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    // SAFETY: duplicating an open descriptor onto stderr.
    if unsafe { libc::dup2(file.as_raw_fd(), libc::STDERR_FILENO) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn main() -> ExitCode {
    if let Some(code) = cloudify_mount::worker::maybe_serve() {
        return code;
    }
    let cli = parse_cli();
    let cfg = match config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cloudify-mount: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !cli.foreground {
        if let Err(e) = cloudify_mount::fuse::mount::preflight(&cfg) {
            eprintln!("cloudify-mount: {e}");
            return ExitCode::FAILURE;
        }
        return match detach(&cli) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("cloudify-mount: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // a detached child's stderr is the log file already (opened by its parent)
    if let (Some(path), None) = (&cli.log_file, cli.ready_fd) {
        if let Err(e) = log_to(path) {
            eprintln!("cloudify-mount: log file {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    cloudify_mount::telemetry::logging::init();
    // SAFETY: the descriptor was handed to us by our parent for this purpose.
    let ready = cli.ready_fd.map(|fd| unsafe { std::fs::File::from_raw_fd(fd) });
    match cloudify_mount::fuse::mount::run(&cfg, ready) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloudify-mount: {e}");
            ExitCode::FAILURE
        }
    }
}
