//! The fuser callbacks: each is one [`InodeVfs`] call and a reply; errors map to an errno here
//! and nowhere else. Every modifying operation answers EROFS.

use super::passthrough::{self, open::FuseCopies};
use super::InodeVfs;
use crate::vfs::{Attr, Kind, VfsError};
use fuser::{
    BsdFileFlags, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation,
    INodeNo, LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory,
    ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request,
    TimeOrNow, WriteFlags,
};
use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The fuser file system over an [`InodeVfs`].
pub struct FuseAdapter {
    vfs: Arc<InodeVfs>,
    ttl: Duration,
    /// The kernel accepted FUSE_NO_OPENDIR_SUPPORT: opendir answers ENOSYS once and the kernel
    /// stops sending opendir/releasedir (two round trips per directory fewer for `find`).
    no_opendir: bool,
    /// Likewise FUSE_NO_OPEN_SUPPORT for files: no open/release round trips per chunk file;
    /// the kernel then keeps the page cache (as FOPEN_KEEP_CACHE). Write opens never get here:
    /// the mount is read-only at the VFS level (MS_RDONLY answers EROFS itself).
    no_open: bool,
    /// Local copies of re-read files (`--passthrough-cache`), used once the kernel granted
    /// FUSE_PASSTHROUGH (`passthrough`); opens are then answered, not NO_OPEN.
    copies: Option<Arc<FuseCopies>>,
    passthrough: bool,
}

impl FuseAdapter {
    /// `ttl`: how long the kernel may cache attributes and entries.
    pub fn new(vfs: Arc<InodeVfs>, ttl: Duration) -> Self {
        FuseAdapter {
            vfs,
            ttl,
            no_opendir: false,
            no_open: false,
            copies: None,
            passthrough: false,
        }
    }

    /// Serve re-read files from `copies` where the kernel allows passthrough.
    pub fn with_copies(mut self, copies: Arc<FuseCopies>) -> Self {
        self.copies = Some(copies);
        self
    }
}

fn errno(e: &VfsError) -> Errno {
    Errno::from_i32(super::errno::errno(e))
}

fn file_attr(ino: u64, a: &Attr) -> FileAttr {
    let (kind, nlink) = match a.kind {
        Kind::Dir => (FileType::Directory, 2),
        Kind::File => (FileType::RegularFile, 1),
    };
    FileAttr {
        ino: INodeNo(ino),
        size: a.size,
        blocks: a.size.div_ceil(512),
        atime: a.mtime,
        mtime: a.mtime,
        ctime: a.mtime,
        crtime: a.mtime,
        kind,
        perm: a.perm,
        nlink,
        uid: a.uid,
        gid: a.gid,
        rdev: 0,
        blksize: 128 * 1024,
        flags: 0,
    }
}

/// The attributes of a negative entry: node 0, nothing else looked at.
fn missing_attr() -> FileAttr {
    let none =
        Attr { kind: Kind::File, size: 0, mtime: SystemTime::UNIX_EPOCH, perm: 0, uid: 0, gid: 0 };
    file_attr(0, &none)
}

fn file_type(k: Kind) -> FileType {
    match k {
        Kind::Dir => FileType::Directory,
        Kind::File => FileType::RegularFile,
    }
}

fn wants_write(flags: i32) -> bool {
    flags & libc::O_ACCMODE != libc::O_RDONLY || flags & (libc::O_TRUNC | libc::O_CREAT) != 0
}

impl Filesystem for FuseAdapter {
    fn init(&mut self, _req: &Request, config: &mut fuser::KernelConfig) -> std::io::Result<()> {
        // Readers such as dask issue many reads at once; let the kernel queue them. A value the
        // kernel refuses is replaced by the nearest it accepts.
        if let Err(nearest) = config.set_max_background(64) {
            let _ = config.set_max_background(nearest);
        }
        if let Err(nearest) = config.set_congestion_threshold(48) {
            let _ = config.set_congestion_threshold(nearest);
        }
        // Files inside a dataset carry the source's mtime: when the source changes, the next
        // attribute refresh shows a new mtime and the kernel drops the cached pages.
        // Directories need no handle: errors show at readdir instead of opendir.
        self.no_opendir =
            config.add_capabilities(fuser::InitFlags::FUSE_NO_OPENDIR_SUPPORT).is_ok();
        self.passthrough = self.copies.is_some() && passthrough::open::ask_kernel(config);
        // passthrough is chosen in the reply to an open: then every open is answered
        self.no_open = !self.passthrough
            && config.add_capabilities(fuser::InitFlags::FUSE_NO_OPEN_SUPPORT).is_ok();
        // Listings carry every entry's attributes (READDIRPLUS, on every page, not only the
        // first as with _AUTO): `find`, `rsync` and `ls -l` then need no lookup per entry.
        if config.add_capabilities(fuser::InitFlags::FUSE_DO_READDIRPLUS).is_err() {
            tracing::info!("kernel without READDIRPLUS: one lookup per listed entry");
        }
        if config.add_capabilities(fuser::InitFlags::FUSE_AUTO_INVAL_DATA).is_err() {
            tracing::warn!(
                "kernel without FUSE_AUTO_INVAL_DATA: cached pages may outlive a source change"
            );
        }
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.vfs.lookup(parent.0, name) {
            Ok(a) => reply.entry(&self.ttl, &file_attr(a.ino, &a.attr), Generation(0)),
            Err(VfsError::NotFound) => {
                crate::telemetry::stats::STATS.lookup_missed();
                // node 0 with a timeout: the kernel caches the name as missing (a negative
                // entry), unless too many are out already
                if self.vfs.missing(parent.0, name, self.ttl) {
                    reply.entry(&self.ttl, &missing_attr(), Generation(0))
                } else {
                    reply.error(Errno::ENOENT)
                }
            }
            Err(e) => reply.error(errno(&e)),
        }
    }

    // (fuser's default batch_forget calls this per node: its node type is not public)
    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        self.vfs.forget([(ino.0, nlookup)]);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.vfs.getattr(ino.0) {
            Ok(a) => reply.attr(&self.ttl, &file_attr(ino.0, &a)),
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        if self.no_open && !wants_write(flags.0) {
            return reply.error(Errno::ENOSYS);
        }
        if let (true, Some(copies), false) = (self.passthrough, &self.copies, wants_write(flags.0))
        {
            return passthrough::open::open(copies, &self.vfs, ino.0, reply);
        }
        match self.vfs.open(ino.0, wants_write(flags.0)) {
            // Content only changes with the source's identity: keep the kernel page cache.
            Ok(_) => reply.opened(FileHandle(0), FopenFlags::FOPEN_KEEP_CACHE),
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.vfs.read(ino.0, offset, size) {
            Ok(bytes) => {
                if let Some(copies) = self.copies.as_ref().filter(|_| self.passthrough) {
                    copies.read(fh.0, bytes.len());
                }
                reply.data(&bytes)
            }
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        if let Some(copies) = &self.copies {
            copies.release(fh.0);
        }
        reply.ok();
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        if self.no_opendir {
            return reply.error(Errno::ENOSYS);
        }
        match self.vfs.getattr(ino.0) {
            Ok(a) if a.kind == Kind::Dir => reply.opened(FileHandle(0), FopenFlags::empty()),
            Ok(_) => reply.error(Errno::ENOTDIR),
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        // a reply holds a few hundred entries; ask the tree for no more than that
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        match self.vfs.readdir_page(ino.0, start, 512) {
            Ok(entries) => {
                for e in &entries {
                    if reply.add(INodeNo(e.ino), e.offset, file_type(e.kind), &e.name) {
                        break;
                    }
                }
                reply.ok();
            }
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn readdirplus(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        // ~200 entries with attributes fill the kernel's usual 32 KiB listing buffer; more
        // would be stat'ed for nothing
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        match self.vfs.readdirplus_page(ino.0, start, 256) {
            Ok(entries) => {
                for (i, e) in entries.iter().enumerate() {
                    // an entry that cannot be stat'ed now is left out; the offsets stay
                    let Some(attr) = &e.attr else { continue };
                    let ttl = if e.provisional { Duration::ZERO } else { self.ttl };
                    let attr = file_attr(e.entry.ino, attr);
                    if reply.add(
                        INodeNo(e.entry.ino),
                        e.entry.offset,
                        &e.entry.name,
                        &ttl,
                        &attr,
                        Generation(0),
                    ) {
                        // the reply is full: what it could not take is no reference
                        self.vfs.unsent(&entries[i..]);
                        break;
                    }
                }
                reply.ok();
            }
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        reply.statfs(0, 0, 0, 0, 0, 4096, 255, 4096);
    }

    fn access(&self, _req: &Request, ino: INodeNo, mask: fuser::AccessFlags, reply: ReplyEmpty) {
        if mask.bits() & libc::W_OK != 0 {
            return reply.error(Errno::EROFS);
        }
        match self.vfs.getattr(ino.0) {
            Ok(_) => reply.ok(),
            Err(e) => reply.error(errno(&e)),
        }
    }

    // Everything below modifies the tree: refused.

    fn setattr(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        _size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        reply.error(Errno::EROFS);
    }

    fn mknod(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EROFS);
    }

    fn mkdir(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EROFS);
    }

    fn unlink(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EROFS);
    }

    fn rmdir(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EROFS);
    }

    fn symlink(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _link_name: &OsStr,
        _target: &Path,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EROFS);
    }

    fn rename(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _newparent: INodeNo,
        _newname: &OsStr,
        _flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::EROFS);
    }

    fn link(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _newparent: INodeNo,
        _newname: &OsStr,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EROFS);
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _offset: u64,
        _data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        reply.error(Errno::EROFS);
    }

    fn create(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        reply.error(Errno::EROFS);
    }

    fn setxattr(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _name: &OsStr,
        _value: &[u8],
        _flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::EROFS);
    }

    fn removexattr(&self, _req: &Request, _ino: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EROFS);
    }

    fn fallocate(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _offset: u64,
        _length: u64,
        _mode: i32,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::EROFS);
    }
}
