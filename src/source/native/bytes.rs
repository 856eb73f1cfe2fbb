//! Bounded reads of an HDF5 file's structures, and little-endian field access that never panics.
//!
//! Every structure is read at an address relative to the superblock (a user block shifts it) and
//! must end inside the file. The first 64 KiB are read once: NetCDF-4 files keep most of their
//! metadata there, so indexing a small file costs one `pread`. All reads of one file share a
//! budget (four times the file's size, at least 64 MiB, at most 1 GiB): a file whose
//! structures point at each other over and over is declined instead of read without end.

use std::borrow::Cow;
use std::cell::Cell;
use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::source::Declined;

/// HDF5's "undefined address".
pub const UNDEFINED: u64 = u64::MAX;

/// Bytes read up front.
const HEAD: usize = 64 << 10;

pub struct Source<'a> {
    file: &'a File,
    /// Where the superblock starts.
    pub base: u64,
    pub len: u64,
    head: Vec<u8>,
    /// Bytes that may still be read.
    budget: Cell<u64>,
}

impl<'a> Source<'a> {
    pub fn new(file: &'a File, base: u64, len: u64) -> Result<Self, Declined> {
        let n = usize::try_from(len.saturating_sub(base)).unwrap_or(HEAD).min(HEAD);
        let mut head = vec![0u8; n];
        file.read_exact_at(&mut head, base)?;
        let budget = Cell::new(len.saturating_mul(4).clamp(64 << 20, 1 << 30));
        Ok(Source { file, base, len, head, budget })
    }

    /// The file read.
    pub fn file(&self) -> &'a File {
        self.file
    }

    /// Count `n` bytes copied out of structures already read against the budget: copies
    /// of one cached object are as much work and memory as reading it again.
    pub fn charge(&self, n: u64) -> Result<(), Declined> {
        let left = self.budget.get().checked_sub(n).ok_or("structures read over and over")?;
        self.budget.set(left);
        Ok(())
    }

    /// `n` bytes at address `addr`.
    pub fn read(&self, addr: u64, n: u64) -> Result<Cow<'_, [u8]>, Declined> {
        let end = addr.checked_add(n).ok_or("address overflow")?;
        if self.base.checked_add(end).is_none_or(|e| e > self.len) {
            return Err(Declined::Unsupported(format!(
                "structure at {addr} beyond the end of the file"
            )));
        }
        self.charge(n)?;
        if end <= self.head.len() as u64 {
            return Ok(Cow::Borrowed(&self.head[addr as usize..end as usize]));
        }
        if n > 64 << 20 {
            return Err(Declined::Unsupported(format!("structure of {n} bytes")));
        }
        let mut buf = vec![0u8; n as usize];
        self.file.read_exact_at(&mut buf, self.base + addr)?;
        Ok(Cow::Owned(buf))
    }
}

/// A cursor over a structure's bytes; every read checks the bounds.
pub struct Cursor<'b> {
    pub bytes: &'b [u8],
    pub at: usize,
}

impl<'b> Cursor<'b> {
    pub fn new(bytes: &'b [u8]) -> Self {
        Cursor { bytes, at: 0 }
    }

    pub fn take(&mut self, n: usize) -> Result<&'b [u8], Declined> {
        let end = self.at.checked_add(n).ok_or("length overflow")?;
        let s = self.bytes.get(self.at..end).ok_or("structure shorter than its fields")?;
        self.at = end;
        Ok(s)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), Declined> {
        self.take(n).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8, Declined> {
        Ok(self.take(1)?[0])
    }

    /// An unsigned little-endian integer of `width` bytes (1..=8).
    pub fn uint(&mut self, width: usize) -> Result<u64, Declined> {
        if width > 8 {
            return Err(Declined::Unsupported(format!("{width}-byte integer field")));
        }
        Ok(le(self.take(width)?))
    }

    pub fn u16(&mut self) -> Result<u16, Declined> {
        Ok(self.uint(2)? as u16)
    }

    pub fn u32(&mut self) -> Result<u32, Declined> {
        Ok(self.uint(4)? as u32)
    }

    pub fn u64(&mut self) -> Result<u64, Declined> {
        self.uint(8)
    }

    pub fn rest(&self) -> &'b [u8] {
        self.bytes.get(self.at..).unwrap_or(&[])
    }
}

/// Little-endian unsigned value of up to 8 bytes.
pub fn le(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// Bytes HDF5 uses to encode values up to `max` (its `H5VM_limit_enc_size`).
pub fn enc_size(max: u64) -> usize {
    (63 - max.max(1).leading_zeros() as usize) / 8 + 1
}
