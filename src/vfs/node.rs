//! What a node of the tree looks like to an adapter: its kind and attributes (no inode number:
//! numbering is the FUSE adapter's), and the permission rules that mirror the archive's.

use super::identity::SourceStat;
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
    pub kind: Kind,
    pub size: u64,
    pub mtime: SystemTime,
    pub perm: u16,
    pub uid: u32,
    pub gid: u32,
}

impl Attr {
    /// A node generated from the source file of `stat`: its ownership, mtime and read bits.
    pub(super) fn of_source(stat: &SourceStat, kind: Kind, size: u64) -> Attr {
        Attr {
            kind,
            size,
            mtime: stat.identity.mtime,
            perm: perm(stat.mode, kind),
            uid: stat.uid,
            gid: stat.gid,
        }
    }
}

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
