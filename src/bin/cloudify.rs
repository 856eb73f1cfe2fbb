//! `cloudify`: offline tools. `cloudify inspect FILE` prints the Zarr view of one file,
//! `cloudify inspect DIR` (or several files, or a quoted glob) the collections they form;
//! `cloudify stac FILE…` prints STAC items, `cloudify stac --catalog ARCHIVE OUTDIR` writes the
//! STAC files of a whole archive; `cloudify serve ARCHIVE` serves the tree over HTTP; `cloudify icechunk ARCHIVE REPO` writes a
//! virtual Icechunk repository of the archive.

use clap::{Parser, Subcommand};
use cloudify_mount::offline::{file_item, write_catalog};
use cloudify_mount::source::{index_native, IndexOptions};
use cloudify_mount::stac::{StacConfig, StacOptions};
use cloudify_mount::vfs::VfsOptions;
use cloudify_mount::worker::{Isolation, Pool};
use cloudify_mount::zarr::ZarrFormat;
use std::path::PathBuf;
use std::process::ExitCode;

#[path = "common/icechunk.rs"]
mod icechunk;
#[path = "common/log_file.rs"]
mod log_file;
#[path = "common/serve.rs"]
mod serve;
#[path = "common/tree_args.rs"]
mod tree_args;

#[derive(Parser)]
#[command(
    name = "cloudify",
    version,
    about = "Tools of cloudify-mount: inspect, stac, serve over HTTP"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the Zarr view of one NetCDF/HDF5 file: groups, arrays, dtype, shape, chunks,
    /// codecs, how chunks are served, and which variables are left out and why. Of a
    /// directory: the collections its files form (members in time order, the time extent,
    /// how each variable is served or why it is left out) and why files were not joined, and
    /// the stores --union-parent makes of its variable trees (what was merged, what refused);
    /// of several files or a quoted glob ('dir/tas_*.nc'): them joined as one collection; of
    /// an NcML file (`X.ncml`): the collection it describes, as a mount serves it, or why not.
    Inspect {
        #[arg(required = true, value_name = "FILE|DIR|GLOB")]
        paths: Vec<PathBuf>,
        /// Files given together are joined along this dimension ("time": the time
        /// coordinate's, whatever its name).
        #[arg(long, value_name = "DIM", default_value = "time")]
        join: String,
        /// Print the index as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Target chunk size in bytes for contiguous variables.
        #[arg(long, default_value_t = 4 << 20)]
        contiguous_chunk_size: u64,
        /// Which reader indexes the file: the native reader when it takes the file, else
        /// netcdf-c/libhdf5 (auto); only the native reader (fails when it declines, saying
        /// why); only the C libraries.
        #[arg(long, value_enum, default_value_t = Reader::Auto)]
        reader: Reader,
    },
    /// Print the STAC item of each file (an ItemCollection for several), or with --catalog
    /// write the STAC files a mount of ARCHIVE shows into OUTDIR.
    Stac {
        /// Files; with --catalog: ARCHIVE OUTDIR.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write the catalog tree of an archive.
        #[arg(long)]
        catalog: bool,
        /// STAC configuration (JSON; see docs/STAC.md).
        #[arg(long, value_name = "FILE")]
        stac_config: Option<PathBuf>,
        /// Base URL the stores will be published under.
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// The Zarr version of the mount the items describe (2 or 3, as cloudify-mount's
        /// --zarr-format).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..=3))]
        zarr_format: u8,
    },
    /// Serve ARCHIVE over HTTP, in the foreground: every path a mount of it shows (stores,
    /// chunk files, metadata, STAC files) by GET/HEAD with byte ranges, ETag/Last-Modified
    /// and CORS; a directory answers its listing (JSON, or HTML for browsers). The tree's
    /// options are the mount's. Stops on SIGINT/SIGTERM once in-flight responses finish.
    Serve(Box<serve::ServeArgs>),
    /// Write ARCHIVE as an Icechunk repository REPO whose chunks are virtual references
    /// into the files as published under --virtual-prefix (one group per dataset); a later
    /// run commits a snapshot of what changed. Prints the snapshot id. Needs the `icechunk`
    /// cargo feature.
    Icechunk(Box<icechunk::IcechunkArgs>),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Reader {
    Auto,
    Native,
    Libraries,
}

/// The C libraries in one worker process (killed after 5 minutes on a hanging file).
fn worker_isolation() -> Result<Isolation, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let pool = Pool::new(exe, 1, std::time::Duration::from_secs(300));
    Ok(Isolation::Workers(std::sync::Arc::new(pool)))
}

fn stac(
    paths: &[PathBuf],
    catalog: bool,
    options: StacOptions,
    zarr_format: ZarrFormat,
) -> Result<bool, String> {
    if catalog {
        let [archive, out] = paths else {
            return Err("--catalog takes ARCHIVE OUTDIR".into());
        };
        // a malformed file in the archive must not stop the export: libraries run in workers
        let isolation = worker_isolation()?;
        let vfs = VfsOptions { stac: options, isolation, zarr_format, ..VfsOptions::default() };
        let n = write_catalog(archive, out, vfs).map_err(|e| e.to_string())?;
        eprintln!("cloudify: wrote {n} STAC files to {}", out.display());
        return Ok(true);
    }
    let mut items = Vec::new();
    let mut all_ok = true;
    let isolation = worker_isolation()?;
    for p in paths {
        match file_item(p, &options, &isolation, zarr_format) {
            Ok(item) => items.push(item),
            Err(e) => {
                eprintln!("cloudify: {e}");
                all_ok = false;
            }
        }
    }
    let text = match items.len() {
        0 => return Ok(false),
        1 if paths.len() == 1 => serde_json::to_string_pretty(&items[0]),
        _ => serde_json::to_string_pretty(&::stac::ItemCollection::from(items)),
    };
    println!("{}", text.map_err(|e| e.to_string())?);
    Ok(all_ok)
}

/// The paths given, each quoted glob (`*`, `?`, `**`; not a file of that name) replaced by
/// the files it names, or why a glob names none.
fn expand_globs(paths: Vec<PathBuf>) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        let text = p.to_string_lossy();
        if p.exists() || !text.contains(['*', '?']) {
            out.push(p);
            continue;
        }
        let found = cloudify_mount::collection::declared::expand(&text);
        if found.is_empty() {
            return Err(format!("{text}: no file matches"));
        }
        out.extend(found);
    }
    Ok(out)
}

/// `cloudify inspect DIR` or `cloudify inspect FILE FILE…`: the collections, as text.
fn inspect_collections(paths: &[PathBuf], json: bool, opts: &IndexOptions, join: &str) -> ExitCode {
    use cloudify_mount::collection::Combine;
    use cloudify_mount::inspect::{collection, union_parent};
    if json {
        eprintln!("cloudify: --json is for one file; collections are reported as text");
        return ExitCode::FAILURE;
    }
    let isolation = match worker_isolation() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("cloudify: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ncml = |p: &std::path::Path| {
        p.file_name()
            .is_some_and(|n| cloudify_mount::collection::ncml::is_ncml(n.as_encoded_bytes()))
    };
    let text = match paths {
        [file] if ncml(file) => cloudify_mount::inspect::ncml::ncml_file(file, &isolation, opts),
        [dir] if dir.is_dir() => {
            collection::directory(dir, &isolation, opts)
                + &union_parent::report(dir, &isolation, opts)
        }
        files => {
            let how = Combine::declared(Some(join), false);
            collection::combined("(the files given)", files, &how.into(), &isolation, opts)
        }
    };
    print!("{text}");
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    if let Some(code) = cloudify_mount::worker::maybe_serve() {
        return code;
    }
    cloudify_mount::telemetry::logging::init();
    match Cli::parse().command {
        Command::Inspect { paths, json, contiguous_chunk_size, reader, join } => {
            let opts = IndexOptions { contiguous_chunk_target: contiguous_chunk_size };
            let paths = match expand_globs(paths) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("cloudify: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let ncml = paths[0]
                .file_name()
                .is_some_and(|n| cloudify_mount::collection::ncml::is_ncml(n.as_encoded_bytes()));
            if paths.len() > 1 || paths[0].is_dir() || ncml {
                return inspect_collections(&paths, json, &opts, &join);
            }
            let file = paths[0].clone();
            // in a worker: a file that crashes the C libraries gets a reason, not a core dump
            let index = match reader {
                Reader::Auto => worker_isolation()
                    .and_then(|iso| iso.index(&file, &opts).map_err(|e| e.to_string())),
                Reader::Native => index_native(&file, &opts)
                    .map_err(|e| format!("{}: native reader: {e}", file.display())),
                Reader::Libraries => worker_isolation().and_then(|iso| {
                    iso.index_with_libraries(&file, &opts).map_err(|e| e.to_string())
                }),
            };
            match index {
                Ok(index) if json => match serde_json::to_string_pretty(&index) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("cloudify: {e}");
                        return ExitCode::FAILURE;
                    }
                },
                Ok(index) => print!("{}", cloudify_mount::inspect::render(&index)),
                Err(e) => {
                    eprintln!("cloudify: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        Command::Stac { paths, catalog, stac_config, public_url, zarr_format } => {
            let format = match zarr_format {
                3 => ZarrFormat::V3 { shard_bytes: ZarrFormat::DEFAULT_SHARD_BYTES },
                _ => ZarrFormat::V2,
            };
            return run_stac(&paths, catalog, stac_config, public_url, format);
        }
        Command::Serve(args) => return serve::serve(*args),
        Command::Icechunk(args) => return icechunk::run(*args),
    }
    ExitCode::SUCCESS
}

fn run_stac(
    paths: &[PathBuf],
    catalog: bool,
    config: Option<PathBuf>,
    url: Option<String>,
    format: ZarrFormat,
) -> ExitCode {
    let config = match config.as_deref().map(StacConfig::load).transpose() {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => {
            eprintln!("cloudify: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = StacOptions { enabled: true, config, public_url: url };
    match stac(paths, catalog, options, format) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cloudify: {e}");
            ExitCode::FAILURE
        }
    }
}
