//! Mount settings, and the `-o opt[,opt...]` option list as `mount(8)` and fstab pass it.

use crate::vfs::VfsOptions;
use std::path::PathBuf;
use std::time::Duration;

/// An option list that cannot be honoured.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("option '{0}' is not supported (the mount is read-only)")]
    Writable(String),
    #[error("unknown mount option '{0}'")]
    Unknown(String),
    #[error("auto_unmount needs allow_other or allow_root")]
    AutoUnmount,
}

/// Options understood in `-o` lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MountFlags {
    pub allow_other: bool,
    pub allow_root: bool,
    pub default_permissions: bool,
    pub auto_unmount: bool,
    pub fsname: Option<String>,
    /// Flags passed on to the kernel unchanged (nodev, nosuid, noexec, noatime).
    pub kernel: Vec<String>,
}

impl MountFlags {
    /// Parse comma-separated option lists (several `-o` may be given).
    pub fn parse<S: AsRef<str>>(lists: &[S]) -> Result<MountFlags, ConfigError> {
        let mut f = MountFlags::default();
        for opt in lists.iter().flat_map(|l| l.as_ref().split(',')).map(str::trim) {
            match opt {
                "" | "ro" | "defaults" | "auto" | "noauto" | "user" | "nouser" | "users"
                | "_netdev" | "nofail" => {}
                "allow_other" => f.allow_other = true,
                "allow_root" => f.allow_root = true,
                "default_permissions" => f.default_permissions = true,
                "auto_unmount" => f.auto_unmount = true,
                "nodev" | "nosuid" | "noexec" | "noatime" | "dev" | "suid" | "exec" | "atime" => {
                    f.kernel.push(opt.to_string())
                }
                "rw" => return Err(ConfigError::Writable(opt.into())),
                o if o.starts_with("fsname=") => f.fsname = Some(o["fsname=".len()..].into()),
                o if o.starts_with("subtype=")
                    || o.starts_with("x-")
                    || o.starts_with("comment=") => {}
                o => return Err(ConfigError::Unknown(o.into())),
            }
        }
        if f.auto_unmount && !(f.allow_other || f.allow_root) {
            return Err(ConfigError::AutoUnmount);
        }
        // Users other than the owner only see what their own permissions allow.
        if f.allow_other {
            f.default_permissions = true;
        }
        Ok(f)
    }
}

/// Everything a mount needs.
#[derive(Clone, Debug)]
pub struct MountConfig {
    pub archive: PathBuf,
    pub mountpoint: PathBuf,
    pub flags: MountFlags,
    /// FUSE worker threads.
    pub threads: usize,
    /// Kernel attribute/entry cache time.
    pub ttl: Duration,
    pub vfs: VfsOptions,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_option_lists() {
        let f = MountFlags::parse(&["ro,allow_other", "fsname=arch,noatime"]).unwrap();
        assert!(f.allow_other && f.default_permissions);
        assert_eq!(f.fsname.as_deref(), Some("arch"));
        assert_eq!(f.kernel, vec!["noatime".to_string()]);
        assert!(matches!(MountFlags::parse(&["rw"]), Err(ConfigError::Writable(_))));
        assert!(matches!(MountFlags::parse(&["bogus"]), Err(ConfigError::Unknown(_))));
        assert!(matches!(MountFlags::parse(&["auto_unmount"]), Err(ConfigError::AutoUnmount)));
        assert_eq!(MountFlags::parse::<&str>(&[]).unwrap(), MountFlags::default());
    }
}
