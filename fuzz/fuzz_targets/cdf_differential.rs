//! Differential: our NetCDF-3 header parser against netcdf-c's `nc_open` of the same bytes.
//! Both must refuse, or both read the same dimensions, variables and attributes (see
//! `cdf_oracle::agree` for the two differences that are by design). netcdf-c runs in a forked
//! child: its own crashes on malformed headers are its bugs, not findings about our parser.
#![no_main]

use cloudify_mount::source::cdf_oracle::{agree_in_child, Verdict};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if !data.starts_with(b"CDF") {
        return;
    }
    // parsed here too, so that libFuzzer sees our parser's coverage (the child's is lost)
    let _ = cloudify_mount::source::cdf::parse_file_header(data);
    if let Verdict::Disagree(why) = agree_in_child(data) {
        panic!("our parser and netcdf-c disagree: {why}");
    }
});
