//! The cd_values HDF5 stored for a dataset's szip filter. hdf5-metno's `Filter::SZip` keeps
//! only the coding and the block size; decoding in Rust also needs the bit depth, the byte
//! order and the scanline (see [`crate::codec::SzipParams`]).

use hdf5_sys::h5d::H5Dget_create_plist;
use hdf5_sys::h5p::{H5Pclose, H5Pget_filter_by_id2};

/// HDF5's filter id of szip.
const H5Z_FILTER_SZIP: i32 = 4;

/// All cd_values of the szip filter of `ds`, or `None` when it has none or they cannot be
/// read.
pub fn szip_cd_values(ds: &hdf5::Dataset) -> Option<Vec<u32>> {
    let _guard = hdf5_sys::LOCK.lock();
    let mut cd = [0u32; 8];
    let (mut flags, mut n, mut config) = (0, cd.len(), 0);
    // SAFETY: the plist id is checked and closed; `cd` holds `n` values, no name is asked.
    let status = unsafe {
        let dcpl = H5Dget_create_plist(ds.id());
        if dcpl < 0 {
            return None;
        }
        let null = std::ptr::null_mut();
        let status = H5Pget_filter_by_id2(
            dcpl,
            H5Z_FILTER_SZIP,
            &mut flags,
            &mut n,
            cd.as_mut_ptr(),
            0,
            null,
            &mut config,
        );
        H5Pclose(dcpl);
        status
    };
    (status >= 0).then(|| cd[..n.min(cd.len())].to_vec())
}
