//! Chunks decoded by libhdf5 itself, for filters without a Zarr codec (szip, nbit,
//! scaleoffset, and any filter a plugin provides). These reads take the library's global lock;
//! they are cached as generated chunks so each is decoded once.

use crate::index::ArrayNode;
use hdf5_sys::h5d::{H5Dget_space, H5Dget_type, H5Dread};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sselect_hyperslab};
use hdf5_sys::h5t::{
    H5T_class_t, H5T_direction_t, H5T_order_t, H5Tclose, H5Tcopy, H5Tget_class, H5Tget_native_type,
    H5Tget_offset, H5Tget_precision, H5Tget_size, H5Tset_offset, H5Tset_order, H5Tset_precision,
};
use std::path::PathBuf;
use std::sync::Mutex;

/// A chunk only libhdf5 can decode could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("array is not read through libhdf5")]
    NotLibraryArray,
    #[error("{0}")]
    Hdf5(#[from] hdf5::Error),
    #[error("libhdf5 could not read the chunk")]
    Read,
    /// A worker process read it (or failed to): its own error, kept as the source.
    #[error("{0}")]
    Worker(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The worker's clean failure, as the pipe carries it (text).
    #[error("{0}")]
    Failed(String),
    #[error("worker answered with something else")]
    Unexpected,
}

/// Chunks that only a format library can decode (filters without a Zarr codec).
pub trait LibraryChunks: Send + Sync {
    /// The decoded bytes of chunk `coords` of `array`: a full chunk in the array's dtype
    /// order, edges padded with the fill element.
    fn read(&self, array: &ArrayNode, coords: &[u64]) -> Result<Vec<u8>, LibraryError>;
}

/// Reads chunks of one HDF5 file through libhdf5; the file is opened on first use.
pub struct Hdf5Chunks {
    path: PathBuf,
    file: Mutex<Option<hdf5::File>>,
}

impl Hdf5Chunks {
    pub fn new(path: PathBuf) -> Self {
        Hdf5Chunks { path, file: Mutex::new(None) }
    }
}

impl LibraryChunks for Hdf5Chunks {
    fn read(&self, array: &ArrayNode, coords: &[u64]) -> Result<Vec<u8>, LibraryError> {
        let h5path = array.library_path.as_deref().ok_or(LibraryError::NotLibraryArray)?;
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let file = match &mut *guard {
            Some(file) => file,
            slot => slot.insert(hdf5::File::open(&self.path)?),
        };
        let ds = file.dataset(h5path)?;
        let h5shape: Vec<u64> = ds.shape().iter().map(|s| *s as u64).collect();
        let start: Vec<u64> = coords.iter().zip(&array.chunks).map(|(c, n)| c * n).collect();
        let count: Vec<u64> = (0..start.len())
            .map(|d| {
                array.chunks[d].min(h5shape.get(d).copied().unwrap_or(0).saturating_sub(start[d]))
            })
            .collect();
        let es = array.element_size();
        let mut chunk = array.fill_element.repeat(array.chunks.iter().product::<u64>() as usize);
        if count.contains(&0) {
            return Ok(chunk); // entirely beyond the stored extent: fill
        }
        let part = read_hyperslab(&ds, &start, &count, es, array.dtype.big_endian)?;
        place(&mut chunk, &part, &array.chunks, &count, es);
        Ok(chunk)
    }
}

/// Copy a C-ordered block of shape `count` into the top-left corner of a chunk of shape `chunks`.
fn place(chunk: &mut [u8], part: &[u8], chunks: &[u64], count: &[u64], es: usize) {
    let nd = chunks.len();
    if nd == 0 {
        chunk.copy_from_slice(part);
        return;
    }
    let row = count[nd - 1] as usize * es;
    let rows: u64 = count[..nd - 1].iter().product();
    for r in 0..rows {
        // multi-index of this row within `count`, then its offset within the chunk
        let (mut rem, mut at) = (r, 0u64);
        let mut stride = chunks[nd - 1];
        for d in (0..nd - 1).rev() {
            at += (rem % count[d]) * stride;
            rem /= count[d];
            stride *= chunks[d];
        }
        let src = r as usize * row;
        let dst = at as usize * es;
        chunk[dst..dst + row].copy_from_slice(&part[src..src + row]);
    }
}

/// The type values of file type `tid` are read as: the file type itself when its bytes are the
/// values (no conversion), else (an N-bit type) the full-width type of its size and class in
/// the served byte order (`big_endian`), which libhdf5 converts to. A new id, or -1.
///
/// # Safety
/// `tid` must be a valid datatype id; the caller holds the library lock and closes the result.
pub(super) unsafe fn served_type(tid: hid_t, big_endian: bool) -> hid_t {
    let class = H5Tget_class(tid);
    let size = H5Tget_size(tid);
    if class == H5T_class_t::H5T_COMPOUND || class == H5T_class_t::H5T_OPAQUE {
        // a compound element as stored (members cut out of it later, each in its own order),
        // or opaque bytes
        return H5Tcopy(tid);
    }
    let full = H5Tget_precision(tid) == 8 * size && H5Tget_offset(tid) == 0;
    let order = if big_endian { H5T_order_t::H5T_ORDER_BE } else { H5T_order_t::H5T_ORDER_LE };
    let mem = match class {
        _ if full => H5Tcopy(tid),
        H5T_class_t::H5T_INTEGER => {
            let mem = H5Tcopy(tid);
            if mem >= 0 && (H5Tset_offset(mem, 0) < 0 || H5Tset_precision(mem, 8 * size) < 0) {
                H5Tclose(mem);
                return -1;
            }
            mem
        }
        H5T_class_t::H5T_FLOAT => H5Tget_native_type(tid, H5T_direction_t::H5T_DIR_DEFAULT),
        _ => H5Tcopy(tid),
    };
    if mem >= 0 && (H5Tget_size(mem) != size || (!full && H5Tset_order(mem, order) < 0)) {
        H5Tclose(mem);
        return -1;
    }
    mem
}

fn read_hyperslab(
    ds: &hdf5::Dataset,
    start: &[u64],
    count: &[u64],
    es: usize,
    big_endian: bool,
) -> Result<Vec<u8>, LibraryError> {
    let mut buf = vec![0u8; count.iter().product::<u64>() as usize * es];
    let _lock = hdf5_sys::LOCK.lock();
    // SAFETY: every id is checked and closed; buf holds `count` elements of the served type
    // (its size checked by `served_type`).
    let status = unsafe {
        let tid = {
            let file_type = H5Dget_type(ds.id());
            let served = if file_type >= 0 { served_type(file_type, big_endian) } else { -1 };
            if file_type >= 0 {
                H5Tclose(file_type);
            }
            served
        };
        let fspace = H5Dget_space(ds.id());
        let mspace = H5Screate_simple(count.len() as i32, count.as_ptr(), std::ptr::null());
        let mut r = -1;
        if tid >= 0 && fspace >= 0 && mspace >= 0 {
            let sel = H5Sselect_hyperslab(
                fspace,
                H5S_seloper_t::H5S_SELECT_SET,
                start.as_ptr(),
                std::ptr::null(),
                count.as_ptr(),
                std::ptr::null(),
            );
            if sel >= 0 {
                r = H5Dread(ds.id(), tid, mspace, fspace, H5P_DEFAULT, buf.as_mut_ptr().cast());
            }
        }
        for (id, close) in [
            (mspace, H5Sclose as unsafe extern "C" fn(i64) -> i32),
            (fspace, H5Sclose),
            (tid, H5Tclose),
        ] {
            if id >= 0 {
                close(id);
            }
        }
        r
    };
    if status < 0 {
        return Err(LibraryError::Read);
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::place;

    #[test]
    fn places_an_edge_block() {
        // chunk 2x3 of 1-byte elements, block 1x2 in the corner
        let mut chunk = vec![0u8; 6];
        place(&mut chunk, &[7, 8], &[2, 3], &[1, 2], 1);
        assert_eq!(chunk, vec![7, 8, 0, 0, 0, 0]);
        let mut chunk = vec![0u8; 6];
        place(&mut chunk, &[1, 2, 3, 4], &[2, 3], &[2, 2], 1);
        assert_eq!(chunk, vec![1, 2, 0, 3, 4, 0]);
    }
}
