//! What identifies one version of a source file (inode, size, mtime) and its ownership, from
//! one `stat`: the loaded datasets are checked against it on every request, the persisted
//! indexes are keyed by it, the attributes of generated nodes mirror it.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::SystemTime;

/// What identifies one version of a source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub ino: u64,
    pub size: u64,
    pub mtime: SystemTime,
}

/// The file's identity and ownership, from one `stat`.
#[derive(Clone, Copy, Debug)]
pub struct SourceStat {
    pub identity: Identity,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// `stat` a source file (following links).
pub fn stat_source(path: &Path) -> std::io::Result<SourceStat> {
    let m = std::fs::metadata(path)?;
    Ok(SourceStat {
        identity: Identity { ino: m.ino(), size: m.len(), mtime: m.modified()? },
        mode: m.mode(),
        uid: m.uid(),
        gid: m.gid(),
    })
}
