//! What a node of the tree looks like to the adapter: its kind, attributes and directory
//! entries, and the permission rules that mirror the archive's.

use super::dataset::SourceStat;
use std::time::SystemTime;

/// Kind of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// Attributes of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr {
    pub ino: u64,
    pub kind: Kind,
    pub size: u64,
    pub mtime: SystemTime,
    pub perm: u16,
    pub uid: u32,
    pub gid: u32,
}

impl Attr {
    /// A node generated from the source file of `stat`: its ownership, mtime and read bits.
    pub(super) fn of_source(ino: u64, stat: &SourceStat, kind: Kind, size: u64) -> Attr {
        Attr {
            ino,
            kind,
            size,
            mtime: stat.identity.mtime,
            perm: perm(stat.mode, kind),
            uid: stat.uid,
            gid: stat.gid,
        }
    }
}

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub ino: u64,
    pub kind: Kind,
    pub name: std::ffi::OsString,
    /// Where the listing goes on after this entry (FUSE's `off`, what the kernel asks for
    /// next): its position + 1, or [`DIR_END`] after the directory's last entry.
    pub offset: u64,
}

/// The offset after a directory's last entry. The kernel asks for another page after every
/// page it gets (FUSE has no end-of-directory flag), so `find` makes two requests per
/// directory; a page asked for at `DIR_END` is known to be empty without looking at the
/// directory (no dataset, no `stat`). Above any real position (a directory of 2^31 entries
/// cannot be listed or indexed), and within a 32-bit `off_t` (glibc's non-LFS `readdir`
/// fails on an offset it cannot return).
pub const DIR_END: u64 = i32::MAX as u64;

/// An archive directory's own read and search bits: who may list it and who may pass through
/// it is exactly who may do so in the archive (r without x stays r without x).
pub(super) fn archive_dir_perm(mode: u32) -> u16 {
    (mode & 0o555) as u16
}

/// Read-only permissions mirroring the source's read bits (directories get x where r).
pub(super) fn perm(mode: u32, kind: Kind) -> u16 {
    let r = (mode & 0o444) as u16;
    match kind {
        Kind::File => r,
        Kind::Dir => r | (r >> 2),
    }
}
