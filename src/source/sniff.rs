//! Recognise NetCDF and HDF5 files by their magic bytes, never by their extension.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The formats we recognise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// HDF5 (NetCDF-4 or plain); `user_block` is where the superblock starts.
    Hdf5 { user_block: u64 },
    /// NetCDF-3 classic (1), 64-bit offset (2) or 64-bit data (5).
    Cdf { version: u8 },
}

impl Format {
    /// Human-readable name.
    pub fn describe(&self) -> String {
        match self {
            Format::Hdf5 { user_block: 0 } => "HDF5".to_string(),
            Format::Hdf5 { user_block } => format!("HDF5 (user block {user_block} bytes)"),
            Format::Cdf { version: 1 } => "NetCDF-3 classic".to_string(),
            Format::Cdf { version: 2 } => "NetCDF-3 64-bit offset".to_string(),
            Format::Cdf { version } => format!("NetCDF-3 CDF-{version}"),
        }
    }
}

const HDF5_MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Detect the format of an open file of length `len`. `Ok(None)` for anything else.
pub fn sniff_file(file: &File, len: u64) -> io::Result<Option<Format>> {
    let mut head = [0u8; 8];
    if len < 4 {
        return Ok(None);
    }
    let n = read_up_to(file, &mut head, 0)?;
    if n >= 4 && &head[..3] == b"CDF" && matches!(head[3], 1 | 2 | 5) {
        return Ok(Some(Format::Cdf { version: head[3] }));
    }
    // The HDF5 superblock sits at 0, 512, 1024, 2048, ... (a user block precedes it).
    let mut at = 0u64;
    while at + 8 <= len {
        if at > 0 && read_up_to(file, &mut head, at)? < 8 {
            break;
        }
        if &head == HDF5_MAGIC {
            return Ok(Some(Format::Hdf5 { user_block: at }));
        }
        at = if at == 0 { 512 } else { at * 2 };
    }
    Ok(None)
}

/// Detect the format of the file at `path` (following symlinks).
pub fn sniff_path(path: &Path) -> io::Result<Option<Format>> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    sniff_file(&file, len)
}

fn read_up_to(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn sniff_bytes(bytes: &[u8]) -> Option<Format> {
        let mut f = tempfile();
        f.write_all(bytes).unwrap();
        sniff_file(&f, bytes.len() as u64).unwrap()
    }

    fn tempfile() -> File {
        let dir = std::env::temp_dir();
        let path =
            dir.join(format!("sniff-{}-{:?}", std::process::id(), std::thread::current().id()));
        let f =
            File::options().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        f
    }

    #[test]
    fn recognises_magic_bytes() {
        assert_eq!(sniff_bytes(b"CDF\x01rest"), Some(Format::Cdf { version: 1 }));
        assert_eq!(sniff_bytes(b"CDF\x05rest"), Some(Format::Cdf { version: 5 }));
        assert_eq!(sniff_bytes(b"CDF\x03rest"), None);
        assert_eq!(sniff_bytes(b"\x89HDF\r\n\x1a\nxxxx"), Some(Format::Hdf5 { user_block: 0 }));
        let mut ub = vec![0u8; 1024];
        ub.extend_from_slice(HDF5_MAGIC);
        assert_eq!(sniff_bytes(&ub), Some(Format::Hdf5 { user_block: 1024 }));
        assert_eq!(sniff_bytes(b"hello world, not data"), None);
        assert_eq!(sniff_bytes(b""), None);
    }
}
