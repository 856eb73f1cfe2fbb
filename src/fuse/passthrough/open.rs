//! The fuser side of the passthrough cache: an OPEN request answered through [`Copies`], the
//! copy it admits registered on the connection (`FUSE_DEV_IOC_BACKING_OPEN`, fuser's
//! [`BackingId`], closed when dropped) and filled by the filler threads with the file's bytes
//! read through the tree as a FUSE read gets them.

use super::{Copies, CopySource, Opened, Version, FILLERS, UNTRACKED};
use crate::fuse::InodeVfs;
use crate::vfs::{Bytes, NodeKey, Vfs, VfsError};
use fuser::{BackingId, Errno, FileHandle, FopenFlags, INodeNo, Notifier, ReplyOpen};
use std::sync::Arc;

/// The copies of a mount, as the kernel knows them.
pub type FuseCopies = Copies<BackingId>;

/// The file a copy is filled from.
struct CopiedFile {
    vfs: Arc<Vfs>,
    key: Arc<NodeKey>,
}

impl CopySource for CopiedFile {
    fn read(&self, offset: u64, size: u32) -> Result<Bytes, VfsError> {
        self.vfs.read(&self.key, offset, size)
    }

    fn version(&self) -> Result<Option<Version>, VfsError> {
        let (attr, source) = self.vfs.open_versioned(&self.key)?;
        Ok(source.map(|source| Version { source, size: attr.size }))
    }
}

/// Answer the open of `ino` for reading: by FUSE reads or by passthrough to a copy (a copy the
/// open admits is filled by the fillers). Content only changes with the source's identity: the
/// kernel keeps the page cache of FUSE reads.
pub fn open(copies: &FuseCopies, vfs: &InodeVfs, ino: u64, reply: ReplyOpen) {
    let versioned = vfs.key(ino).and_then(|key| {
        let (attr, source) = vfs.vfs().open_versioned(&key)?;
        Ok((key, source.map(|source| Version { source, size: attr.size })))
    });
    let (key, version) = match versioned {
        Ok((key, Some(version))) => (key, version),
        Ok((_, None)) => return reply.opened(FileHandle(UNTRACKED), FopenFlags::FOPEN_KEEP_CACHE),
        Err(e) => return reply.error(Errno::from_i32(crate::fuse::errno(&e))),
    };
    match copies.open(&key, version, |copy| reply.open_backing(copy)) {
        Opened::Cached(fh) => reply.opened(FileHandle(fh), FopenFlags::FOPEN_KEEP_CACHE),
        // (the kernel refuses KEEP_CACHE with passthrough: the FUSE page cache is not used)
        Opened::Passthrough(fh, copy) => {
            reply.opened_passthrough(FileHandle(fh), FopenFlags::empty(), copy.backing())
        }
    }
}

/// Start the [`FILLERS`] threads that fill the copies opens admit, with bytes read from `vfs`,
/// until [`Copies::close`]. A file whose copy is in use and that nothing reads through FUSE
/// has its FUSE page cache dropped through `notifier`: here, off any reader's path, rather than
/// by the kernel in the first passthrough open (which drops the pages of an inode opened
/// without `FOPEN_KEEP_CACHE`: ~0.1 s for a 512 MiB store, measured).
pub fn start_fillers(
    copies: &Arc<FuseCopies>,
    vfs: &Arc<InodeVfs>,
    notifier: Notifier,
) -> std::io::Result<()> {
    for i in 0..FILLERS {
        let (copies, vfs, notifier) = (copies.clone(), Arc::downgrade(vfs), notifier.clone());
        std::thread::Builder::new().name(format!("copy-{i}")).spawn(move || {
            while let Some(job) = copies.wait_job() {
                // (the tree outlives the mount's close, which stops this loop)
                let Some(vfs) = vfs.upgrade() else { return };
                let key = job.key().clone();
                let src = CopiedFile { vfs: vfs.vfs().clone(), key: key.clone() };
                if copies.fill(job, &src) {
                    if let Some(ino) = vfs.inodes.existing(&key) {
                        // ENOENT: the kernel had forgotten the inode already
                        let _ = notifier.inval_inode(INodeNo(ino), 0, 0);
                    }
                }
            }
        })?;
    }
    Ok(())
}

/// Ask for FUSE passthrough (backing files one level deep: the mount may itself be under an
/// overlayfs); false, logged, when the kernel cannot.
pub fn ask_kernel(config: &mut fuser::KernelConfig) -> bool {
    let granted = config.add_capabilities(fuser::InitFlags::FUSE_PASSTHROUGH).is_ok()
        && config.set_max_stack_depth(1).is_ok();
    if !granted {
        tracing::warn!("kernel without FUSE passthrough: --passthrough-cache is off");
    }
    granted
}
