//! The NetCDF-3 header parser must never panic, hang or over-allocate, whatever the bytes.
#![no_main]

use cloudify_mount::source::cdf::parse_header;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = parse_header(data) {
        // every dimension id it returns is usable
        for v in &h.vars {
            for d in &v.dimids {
                assert!(*d < h.dims.len());
            }
        }
    }
});
