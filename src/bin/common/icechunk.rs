//! `cloudify icechunk ARCHIVE REPO --virtual-prefix URL`: write (or update) an Icechunk
//! repository of virtual references to the archive's files (`cloudify_mount::icechunk`).
//! Needs the `icechunk` cargo feature; without it the command says so.

use super::tree_args::TreeArgs;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct IcechunkArgs {
    /// The archive directory (as cloudify-mount's ARCHIVE).
    pub archive: PathBuf,
    /// The repository: s3://bucket/prefix (S3 settings and credentials from AWS_ENDPOINT_URL,
    /// AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or a local directory. Created if
    /// there is none; else a new snapshot of what changed is committed.
    pub repo: String,
    /// Where the archive's files are published, unchanged (s3://bucket/path/, or
    /// file:///path/ for a copy on a file system): virtual chunks point at
    /// <prefix><path of the file in the archive>.
    #[arg(long, value_name = "URL")]
    pub virtual_prefix: String,
    /// The branch committed to.
    #[arg(long, default_value = "main")]
    pub branch: String,
    /// The commit message [default: what was added, changed, removed].
    #[arg(long)]
    pub message: Option<String>,
    /// Also write a STAC item per dataset of the snapshot into DIR (<group>.stac.json and a
    /// catalog.json), its asset the repository, the snapshot id and the group.
    #[arg(long, value_name = "DIR")]
    pub stac: Option<PathBuf>,
    #[command(flatten)]
    pub tree: TreeArgs,
}

/// Run the command: the snapshot id on stdout, what was done on stderr; failure when the
/// repository could not be written or any dataset could not be read.
pub fn run(args: IcechunkArgs) -> ExitCode {
    match publish(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cloudify icechunk: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "icechunk"))]
fn publish(_args: IcechunkArgs) -> Result<bool, String> {
    Err("this cloudify was built without Icechunk support: build it with \
         `cargo build --release --features icechunk` (scripts/setup does)"
        .into())
}

#[cfg(feature = "icechunk")]
fn publish(args: IcechunkArgs) -> Result<bool, String> {
    use cloudify_mount::icechunk::{self as ic, RepoTarget, VirtualPrefix};
    use cloudify_mount::vfs::Vfs;
    use cloudify_mount::zarr::ZarrFormat;

    if args.tree.zarr_format == 2 && std::env::args().any(|a| a.starts_with("--zarr-format")) {
        return Err("an Icechunk repository is Zarr v3: --zarr-format 2 does not apply".into());
    }
    if args.tree.shard_size.is_some() {
        return Err("--shard-size does not apply: virtual references need unsharded chunks".into());
    }
    let mut vfs_options = args.tree.vfs_options()?;
    vfs_options.zarr_format = ZarrFormat::V3 { shard_bytes: 0 };
    vfs_options.stac.enabled = false;
    let stac_config = vfs_options.stac.config.clone();
    let options = ic::Options {
        repo: RepoTarget::parse(&args.repo).map_err(|e| e.to_string())?,
        prefix: VirtualPrefix::parse(&args.virtual_prefix).map_err(|e| e.to_string())?,
        branch: args.branch,
        message: args.message,
    };
    let vfs = Vfs::new(&args.archive, vfs_options)
        .map_err(|e| format!("{}: {e}", args.archive.display()))?;
    let report = ic::publish(&vfs, &options).map_err(|e| chain(&e))?;
    vfs.flush_indexes();
    let c = &report.changes;
    for (what, groups) in [("added", &c.added), ("changed", &c.changed), ("removed", &c.removed)] {
        for g in groups.iter() {
            eprintln!("cloudify icechunk: {what} {g}");
        }
    }
    eprintln!(
        "cloudify icechunk: {} {}: {} added, {} changed, {} removed, {} unchanged; \
         {} virtual chunks, {} native chunks ({} bytes)",
        if report.committed { "committed" } else { "nothing changed, tip of" },
        options.branch,
        c.added.len(),
        c.changed.len(),
        c.removed.len(),
        c.unchanged.len(),
        report.virtual_chunks,
        report.native_chunks,
        report.native_bytes
    );
    for e in &report.failed {
        eprintln!("cloudify icechunk: not written: {}", chain(e));
    }
    if let Some(dir) = &args.stac {
        let at = ic::stac::Published {
            repo: &options.repo,
            prefix: &options.prefix,
            snapshot: &report.snapshot,
            config: &stac_config,
        };
        let n =
            ic::stac::write_items(&vfs, &report.datasets, &at, dir).map_err(|e| e.to_string())?;
        eprintln!("cloudify icechunk: wrote {n} STAC items to {}", dir.display());
    }
    println!("{}", report.snapshot);
    Ok(report.failed.is_empty())
}

/// An error and its causes, `: `-separated (icechunk's errors name the cause only there).
#[cfg(feature = "icechunk")]
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(text.trim()) {
            out.push_str(": ");
            out.push_str(text.trim());
        }
        cause = c.source();
    }
    out
}
