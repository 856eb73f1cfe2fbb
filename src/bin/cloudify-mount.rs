//! `cloudify-mount ARCHIVE MOUNTPOINT`: mount an archive of NetCDF/HDF5 files as Zarr.
//!
//! By default the command detaches: it starts itself again in the background with
//! `--foreground` and returns once that child reports the mount usable (or prints the child's
//! one-line reason and exits 1).

use clap::{CommandFactory, Parser};
use cloudify_mount::derive::{DeriveOptions, Derived, Generated};
use cloudify_mount::fuse::config::{MountConfig, MountFlags};
use cloudify_mount::fuse::passthrough::CacheOptions;
use cloudify_mount::vfs::{Generator, VfsOptions};
use std::io::{BufRead, BufReader};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tree_args::TreeArgs;

#[path = "common/log_file.rs"]
mod log_file;
#[path = "common/tree_args.rs"]
mod tree_args;

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
    /// Kernel readahead of the mount in KiB: a sequential reader of a large file (a shard,
    /// `cat`, `rsync`) is served in requests this large, up to the kernel's 1 MiB per FUSE
    /// request; 0 keeps the kernel's 128 KiB. Needs root (else the kernel's stays).
    #[arg(long, value_name = "KIB", default_value_t = cloudify_mount::fuse::readahead::DEFAULT_KIB,
        help_heading = "Mount")]
    readahead: u32,
    /// Threads that load the datasets of the next stores of a directory while a walk
    /// (`find`, `rsync`, `rclone`) lists one store after the other; 0 turns it off
    /// [default: one per CPU but one, 1 to 4].
    #[arg(long, value_name = "THREADS", help_heading = "Mount")]
    walk_ahead: Option<usize>,
    /// Bytes a derived store declared in --collections (`[[derived]]`) may take, and the
    /// memory its computation may hold; a larger one cannot be read (EIO, logged). Also
    /// bounds the values a thumbnail reads (an eighth of it).
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES", help_heading = "Mount")]
    max_derived_size: u64,
    /// Disk for local copies of re-read files, served by FUSE passthrough at local-file speed
    /// (e.g. 4G; suffixes K, M, G, T are powers of 1024; 0 = off): a file of 1 MiB or more
    /// opened again after it was read in full is copied once, least recently opened copies
    /// are dropped.
    /// Needs root and a kernel with FUSE passthrough (6.9+), else files are served as without.
    #[arg(long, default_value = "0", value_name = "SIZE", value_parser = parse_size,
        help_heading = "Caching")]
    passthrough_cache: u64,
    /// Where the copies are made (unnamed O_TMPFILE files: nothing is left behind)
    /// [default: the system's temporary directory].
    #[arg(long, value_name = "DIR", help_heading = "Caching")]
    passthrough_dir: Option<PathBuf>,
    /// Internal (measurements): files smaller than this are never copied.
    #[arg(long, hide = true, default_value_t = cloudify_mount::fuse::passthrough::MIN_SIZE)]
    passthrough_min_size: u64,
    #[command(flatten)]
    tree: TreeArgs,
}

/// A size in bytes: digits with an optional K, M, G or T (powers of 1024; `B`, `iB` allowed).
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let t = t.strip_suffix("iB").or_else(|| t.strip_suffix('B')).unwrap_or(t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("'{text}': unknown suffix '{c}' (K, M, G, T)")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    let n: u64 = digits.trim().parse().map_err(|_| format!("'{text}' is not a size"))?;
    n.checked_mul(1 << shift).ok_or_else(|| format!("'{text}' is too large"))
}

fn config(cli: &Cli) -> Result<MountConfig, String> {
    let flags = MountFlags::parse_with(&cli.options, &long_options()).map_err(|e| e.to_string())?;
    let vfs = cli.tree.vfs_options()?;
    let generator = generator(cli, &vfs)?;
    Ok(MountConfig {
        archive: cli.archive.clone(),
        mountpoint: cli.mountpoint.clone(),
        flags,
        threads: cli.threads.unwrap_or_else(|| {
            (4 * std::thread::available_parallelism().map_or(2, |n| n.get())).clamp(16, 32)
        }),
        ttl: Duration::from_secs(cli.attr_timeout),
        readahead_kib: cli.readahead,
        walk_ahead: cli.walk_ahead.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .saturating_sub(1)
                .clamp(1, 4)
        }),
        passthrough: (cli.passthrough_cache > 0).then(|| CacheOptions {
            bytes: cli.passthrough_cache,
            dir: cli.passthrough_dir.clone().unwrap_or_else(std::env::temp_dir),
            min_size: cli.passthrough_min_size,
        }),
        vfs,
        generator,
    })
}

/// What draws thumbnails and computes the declared derived stores, if the tree shows any:
/// derived datasets over a tree of their own; the declarations are checked here (start-up).
fn generator(cli: &Cli, vfs: &VfsOptions) -> Result<Option<Arc<dyn Generator>>, String> {
    if !vfs.thumbnails && vfs.derived.is_empty() {
        return Ok(None);
    }
    let options = DeriveOptions {
        max_size: cli.max_derived_size,
        cache_bytes: cli.max_derived_size.saturating_mul(2),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()).min(4),
    };
    let derived = Derived::new(&cli.archive, vfs, options)
        .map_err(|e| format!("{}: {e}", cli.archive.display()))?;
    let made = Generated::new(Arc::new(derived), &vfs.derived);
    let made = made.map_err(|e| match &cli.tree.collections {
        Some(file) => format!("{}: {e}", file.display()),
        None => e.to_string(),
    })?;
    Ok(Some(Arc::new(made)))
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
        if let Err(e) = log_file::log_to(path) {
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
