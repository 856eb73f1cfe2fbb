//! Directory pages as FUSE wants them: "." and ".." first, every entry numbered and carrying
//! the offset the kernel asks for next, and with attributes (READDIRPLUS) every entry but "."
//! and ".." one reference handed to the kernel. FUSE has no end-of-directory flag, so the
//! kernel asks once more after every page: the last entry of a directory carries [`DIR_END`],
//! and the page asked for there is empty at once.

use super::inode_vfs::InodeVfs;
use crate::vfs::{Attr, Kind, NodeKey, VfsError};
use std::ffi::OsString;
use std::sync::Arc;
use std::time::SystemTime;

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub ino: u64,
    pub kind: Kind,
    pub name: OsString,
    /// Where the listing goes on after this entry (FUSE's `off`, what the kernel asks for
    /// next): its position + 1 ("." is 0, ".." 1), or [`DIR_END`] after the directory's last
    /// entry.
    pub offset: u64,
}

/// The offset after a directory's last entry. The kernel asks for another page after every
/// page it gets (FUSE has no end-of-directory flag), so `find` makes two requests per
/// directory; a page asked for at `DIR_END` is known to be empty without looking at the
/// directory (no dataset, no `stat`). Above any real position (a directory of 2^31 entries
/// cannot be listed or indexed), and within a 32-bit `off_t` (glibc's non-LFS `readdir`
/// fails on an offset it cannot return).
pub const DIR_END: u64 = i32::MAX as u64;

/// A directory entry and the attributes the kernel may cache with it.
#[derive(Clone, Debug)]
pub struct EntryPlus {
    pub entry: DirEntry,
    /// `None`: the entry cannot be stat'ed now (vanished, refused). A READDIRPLUS reply has no
    /// way to list a name without attributes, so it is left out (its lookup would fail too);
    /// it is no reference, and its `ino` is its number if it has one, else 0.
    pub attr: Option<Attr>,
    /// The attribute is a placeholder (a STAC item not generated yet, or "." and ".."): cache
    /// it for no time at all.
    pub provisional: bool,
}

impl EntryPlus {
    /// Whether listing this entry hands the kernel a reference to its node (FUSE counts one
    /// lookup for every READDIRPLUS entry but "." and "..").
    fn is_reference(&self) -> bool {
        self.attr.is_some() && self.entry.name != "." && self.entry.name != ".."
    }
}

/// Offsets of the entries of a page from `start` on, at most `max` asked for: fewer than
/// asked for means the page holds the directory's last entry.
fn set_offsets<T>(out: &mut [T], start: usize, max: usize, offset: impl Fn(&mut T) -> &mut u64) {
    let ended = out.len() < max;
    let n = out.len();
    for (i, e) in out.iter_mut().enumerate() {
        *offset(e) = if ended && i + 1 == n { DIR_END } else { (start + i + 1) as u64 };
    }
}

impl InodeVfs {
    /// Entries of directory `ino` (with "." and "..").
    pub fn readdir(&self, ino: u64) -> Result<Vec<DirEntry>, VfsError> {
        self.readdir_page(ino, 0, usize::MAX)
    }

    /// "." and ".." of directory `ino` from the `start`-th on, at most `max`, and its node.
    fn dots(
        &self,
        ino: u64,
        start: usize,
        max: usize,
    ) -> Result<(Arc<NodeKey>, Vec<DirEntry>), VfsError> {
        let key = self.key(ino)?;
        let dot = |name: &str, ino| DirEntry { ino, kind: Kind::Dir, name: name.into(), offset: 0 };
        let mut out = Vec::new();
        if start == 0 && max > 0 {
            out.push(dot(".", ino));
        }
        if start <= 1 && max > out.len() {
            out.push(dot("..", self.inodes.ino_owned(key.parent())));
        }
        Ok((key, out))
    }

    /// At most `max` entries of directory `ino` from the `start`-th on ("." is 0, ".." 1):
    /// the kernel reads big directories a page at a time, and a page must not cost the whole
    /// directory (inodes are only given to the entries returned; a plain listing's numbers
    /// are no references, and stay).
    pub fn readdir_page(
        &self,
        ino: u64,
        start: usize,
        max: usize,
    ) -> Result<Vec<DirEntry>, VfsError> {
        if start as u64 >= DIR_END {
            return Ok(Vec::new());
        }
        let (key, mut out) = self.dots(ino, start, max)?;
        let (skip, room) = (start.saturating_sub(2), max - out.len());
        for c in self.vfs().list(&key, skip, room)? {
            let ino = self.inodes.ino_owned(c.key);
            out.push(DirEntry { ino, kind: c.kind, name: c.name, offset: 0 });
        }
        set_offsets(&mut out, start, max, |e| &mut e.offset);
        Ok(out)
    }

    /// At most `max` entries of directory `ino` from the `start`-th on, as
    /// [`InodeVfs::readdir_page`], each with its attributes. Every entry with attributes, "."
    /// and ".." aside, is a reference handed to the kernel (as a lookup is): those that do not
    /// make it into the reply must be given back with [`InodeVfs::unsent`].
    pub fn readdirplus_page(
        &self,
        ino: u64,
        start: usize,
        max: usize,
    ) -> Result<Vec<EntryPlus>, VfsError> {
        if start as u64 >= DIR_END {
            return Ok(Vec::new());
        }
        let (key, dots) = self.dots(ino, start, max)?;
        let (skip, room) = (start.saturating_sub(2), max - dots.len());
        let listed = self.vfs().list_attrs(&key, skip, room)?;
        // the kernel never caches "." and ".."; any attribute of the right inode will do
        let dot = Attr {
            kind: Kind::Dir,
            size: 0,
            mtime: SystemTime::UNIX_EPOCH,
            perm: 0,
            uid: 0,
            gid: 0,
        };
        let mut out: Vec<EntryPlus> = dots
            .into_iter()
            .map(|entry| EntryPlus { entry, attr: Some(dot), provisional: true })
            .collect();
        for l in listed {
            let ino = match l.attr {
                Some(_) => self.inodes.lookup(l.child.key),
                None => self.inodes.existing(&l.child.key).unwrap_or(0),
            };
            let entry = DirEntry { ino, kind: l.child.kind, name: l.child.name, offset: 0 };
            out.push(EntryPlus { entry, attr: l.attr, provisional: l.provisional });
        }
        set_offsets(&mut out, start, max, |e| &mut e.entry.offset);
        Ok(out)
    }

    /// Entries of a [`InodeVfs::readdirplus_page`] that were not sent to the kernel (its reply
    /// was full): their references are taken back.
    pub fn unsent(&self, entries: &[EntryPlus]) {
        self.forget(entries.iter().filter(|e| e.is_reference()).map(|e| (e.entry.ino, 1)));
    }
}
