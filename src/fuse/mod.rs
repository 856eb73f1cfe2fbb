//! The FUSE adapter over the path-addressed tree ([`crate::vfs`]): inode numbers and the
//! kernel's references ([`InodeVfs`]; the names answered missing, [`negative`]), the fuser callbacks ([`FuseAdapter`]), the mount's life
//! ([`mount`]), the inotify watcher that pushes invalidations ([`watch`]), the mount's
//! readahead ([`readahead`]), the local copies of re-read files served by passthrough
//! ([`passthrough`]) and the mount settings and `-o` lists ([`config`]). Nothing in
//! `vfs/` imports anything from here.

mod adapter;
pub mod config;
mod errno;
mod inode;
mod inode_vfs;
pub mod mount;
mod negative;
pub mod passthrough;
pub mod readahead;
mod readdir;
pub mod watch;

pub use adapter::FuseAdapter;
pub use errno::errno;
pub use inode::ROOT_INO;
pub use inode_vfs::{InoAttr, InodeVfs, Invalidation};
pub use readdir::{DirEntry, EntryPlus, DIR_END};
