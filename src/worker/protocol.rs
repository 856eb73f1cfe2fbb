//! What the daemon and a worker say to each other over the worker's stdin/stdout: one request,
//! one response, each a length-prefixed postcard frame. Indexes cross as data, never as handles.

use crate::index::{DatasetIndex, Dtype};
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::path::PathBuf;

/// Frames larger than this are refused (a chunk is at most 1 GiB, see source::libhdf5_layout).
const MAX_FRAME: u32 = 1 << 31;

/// A job for a worker.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// Index a file.
    Index { path: PathBuf, contiguous_chunk_target: u64 },
    /// Index an HDF5 file with libhdf5 alone (netcdf-c crashed a worker on it).
    IndexHdf5 { path: PathBuf, contiguous_chunk_target: u64 },
    /// Decode one chunk of an HDF5 dataset through libhdf5 (filters without a Zarr codec).
    Chunk {
        path: PathBuf,
        /// HDF5 path of the dataset.
        dataset: String,
        chunks: Vec<u64>,
        fill_element: Vec<u8>,
        /// The served type: values of an N-bit type are converted to it.
        dtype: Dtype,
        coords: Vec<u64>,
    },
}

/// A worker's answer.
#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    Index(DatasetIndex),
    Chunk(Vec<u8>),
    /// The job failed cleanly (a bad file); the worker lives on.
    Failed(String),
}

/// Write one frame.
pub fn write_frame<T: Serialize>(out: &mut impl Write, value: &T) -> io::Result<()> {
    let body = postcard::to_allocvec(value).map_err(io::Error::other)?;
    let len = u32::try_from(body.len())
        .ok()
        .filter(|l| *l <= MAX_FRAME)
        .ok_or_else(|| io::Error::other("frame too large"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&body)?;
    out.flush()
}

/// Read one frame; `Ok(None)` at a clean end of stream.
pub fn read_frame<T: for<'de> Deserialize<'de>>(input: &mut impl Read) -> io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len);
    if len > MAX_FRAME {
        return Err(io::Error::other(format!("frame of {len} bytes refused")));
    }
    let mut body = vec![0u8; len as usize];
    input.read_exact(&mut body)?;
    postcard::from_bytes(&body).map(Some).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_truncation_is_an_error() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &Response::Chunk(vec![1, 2, 3])).unwrap();
        write_frame(&mut buf, &Response::Failed("bad".into())).unwrap();
        let mut r = &buf[..];
        assert!(matches!(read_frame(&mut r).unwrap(), Some(Response::Chunk(v)) if v == [1, 2, 3]));
        assert!(matches!(read_frame(&mut r).unwrap(), Some(Response::Failed(_))));
        assert!(read_frame::<Response>(&mut r).unwrap().is_none());
        let mut cut = &buf[..6];
        assert!(read_frame::<Response>(&mut cut).is_err());
    }
}
