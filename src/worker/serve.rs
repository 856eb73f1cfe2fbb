//! The worker process: runs the C libraries (netcdf-c, libhdf5) for the daemon, one job at a
//! time, so that a crash or memory corruption on a malformed file kills this process only.
//! Started by the daemon as `<its own executable> __cloudify_worker <daemon pid>`.

use super::privileges;
use super::protocol::{read_frame, write_frame, Request, Response};
use crate::index::{ArrayNode, ChunkFiles, Dtype, StorageKind};
use crate::source::{
    index_hdf5_only, index_with_libraries, Hdf5Chunks, IndexOptions, LibraryChunks,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The argument that turns a binary into a worker.
pub const WORKER_ARG: &str = "__cloudify_worker";

/// Test hook: `abort:<substring>` or `hang:<substring>` makes a worker abort or hang when it is
/// given a file whose path contains the substring; `abort-netcdf:<substring>` aborts only where
/// netcdf-c would index it, not in the pure-HDF5 view (crash-isolation tests; never set in use).
const TEST_HOOK: &str = "CLOUDIFY_TEST_WORKER_HOOK";

/// If this process was started as a worker, serve and return the exit code.
pub fn maybe_serve() -> Option<std::process::ExitCode> {
    if std::env::args_os().nth(1).is_some_and(|a| a == WORKER_ARG) {
        crate::telemetry::logging::init();
        if let Err(e) = privileges::drop_to_reader() {
            tracing::warn!("worker keeps the daemon's privileges: {e}");
        }
        // die with the daemon, even when stuck inside a C library (set after the credential
        // change, which clears it)
        // SAFETY: plain prctl/getppid calls.
        let parent: Option<i32> = std::env::args().nth(2).and_then(|p| p.parse().ok());
        if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) } != 0
            || parent != Some(unsafe { libc::getppid() })
        {
            return Some(std::process::ExitCode::FAILURE);
        }
        return Some(match serve() {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("worker: {e}");
                std::process::ExitCode::FAILURE
            }
        });
    }
    None
}

fn serve() -> std::io::Result<()> {
    let (mut input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
    let mut readers: HashMap<PathBuf, Hdf5Chunks> = HashMap::new();
    while let Some(request) = read_frame::<Request>(&mut input)? {
        let response = handle(request, &mut readers);
        write_frame(&mut output, &response)?;
    }
    Ok(())
}

fn test_hook(path: &Path, netcdf: bool) {
    let Ok(hook) = std::env::var(TEST_HOOK) else { return };
    let p = path.to_string_lossy();
    match hook.split_once(':') {
        Some(("abort", s)) if p.contains(s) => std::process::abort(),
        Some(("abort-netcdf", s)) if netcdf && p.contains(s) => std::process::abort(),
        Some(("hang", s)) if p.contains(s) => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        _ => {}
    }
}

fn handle(request: Request, readers: &mut HashMap<PathBuf, Hdf5Chunks>) -> Response {
    match request {
        Request::Index { path, contiguous_chunk_target } => {
            test_hook(&path, true);
            match index_with_libraries(&path, &IndexOptions { contiguous_chunk_target }) {
                Ok(index) => Response::Index(index),
                Err(e) => Response::Failed(e.to_string()),
            }
        }
        Request::IndexHdf5 { path, contiguous_chunk_target } => {
            test_hook(&path, false);
            match index_hdf5_only(&path, &IndexOptions { contiguous_chunk_target }) {
                Ok(index) => Response::Index(index),
                Err(e) => Response::Failed(e.to_string()),
            }
        }
        Request::Chunk { path, dataset, chunks, fill_element, dtype, coords } => {
            test_hook(&path, true);
            // a handful of open files: a worker serves every dataset in turn
            if readers.len() >= 16 && !readers.contains_key(&path) {
                readers.clear();
            }
            let reader = readers.entry(path.clone()).or_insert_with(|| Hdf5Chunks::new(path));
            let array = library_array(dataset, chunks, fill_element, dtype);
            match reader.read(&array, &coords) {
                Ok(bytes) => Response::Chunk(bytes),
                Err(e) => Response::Failed(e.to_string()),
            }
        }
    }
}

/// The parts of an array a library read needs.
fn library_array(
    dataset: String,
    chunks: Vec<u64>,
    fill_element: Vec<u8>,
    dtype: Dtype,
) -> ArrayNode {
    ArrayNode {
        name: String::new(),
        dtype,
        shape: vec![],
        chunks,
        dims: vec![],
        fill_value: None,
        attrs: vec![],
        codecs: vec![],
        storage: StorageKind::ChunkedLibrary,
        source_filters: vec![],
        fill_element,
        chunk_refs: vec![],
        fill_chunk: None,
        library_path: Some(dataset),
        files: ChunkFiles::Own,
        joined: None,
        stored_chunks: None,
        compound: None,
        unpacking: None,
    }
}
