//! The native reader of NetCDF-4 metadata must never panic, hang or over-allocate, whatever the
//! bytes (it runs in the daemon). Built with `--cfg fuzzing`, it skips metadata checksums so
//! that mutations reach the structures behind them.
#![no_main]

use cloudify_mount::source::{index_native, IndexOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("cloudify-fuzz-{}.h5", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        if let Err(reason) = index_native(&path, &IndexOptions::default()) {
            assert!(!reason.contains("panicked"), "{reason}");
        }
    }
});
