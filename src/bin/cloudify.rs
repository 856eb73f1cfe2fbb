//! `cloudify`: offline tools. `cloudify inspect FILE` prints the Zarr view of one file.

use clap::{Parser, Subcommand};
use cloudify_mount::source::{index_file, IndexOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "cloudify", version, about = "Offline tools of cloudify-mount")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the Zarr view of one NetCDF/HDF5 file: groups, arrays, dtype, shape, chunks,
    /// codecs, how chunks are served, and which variables are left out and why.
    Inspect {
        file: PathBuf,
        /// Print the index as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Target chunk size in bytes for contiguous variables.
        #[arg(long, default_value_t = 4 << 20)]
        contiguous_chunk_size: u64,
    },
}

fn main() -> ExitCode {
    cloudify_mount::logging::init();
    match Cli::parse().command {
        Command::Inspect { file, json, contiguous_chunk_size } => {
            let opts = IndexOptions { contiguous_chunk_target: contiguous_chunk_size };
            match index_file(&file, &opts) {
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
    }
    ExitCode::SUCCESS
}
