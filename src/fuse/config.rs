//! Mount settings, and the `-o opt[,opt...]` option list as `mount(8)` and fstab pass it.
//! Besides mount options, the list may carry the daemon's own long options as `name=value` or
//! `name` (`chunks=decoded`, `cache_size=…`, `follow_symlinks`), so that an fstab line can say
//! everything; which names exist is the caller's (the command line's) to say.

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

/// A daemon option given in a `-o` list: `name[=value]`, `name` spelled with `-` as on the
/// command line (`cache_size` and `cache-size` are the same option).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongOption {
    pub name: String,
    pub value: Option<String>,
}

impl LongOption {
    /// The option as one command-line argument: `--name` or `--name=value`.
    pub fn arg(&self) -> String {
        match &self.value {
            Some(v) => format!("--{}={v}", self.name),
            None => format!("--{}", self.name),
        }
    }
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
    /// Daemon options (see [`MountFlags::parse_with`]), in the order given.
    pub long: Vec<LongOption>,
}

impl MountFlags {
    /// Parse comma-separated option lists (several `-o` may be given).
    pub fn parse<S: AsRef<str>>(lists: &[S]) -> Result<MountFlags, ConfigError> {
        Self::parse_with::<S, &str>(lists, &[])
    }

    /// As [`MountFlags::parse`], also accepting the daemon options `long` (names spelled with
    /// `-`), collected in [`MountFlags::long`].
    pub fn parse_with<S: AsRef<str>, L: AsRef<str>>(
        lists: &[S],
        long: &[L],
    ) -> Result<MountFlags, ConfigError> {
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
                o => {
                    let (name, value) = match o.split_once('=') {
                        Some((n, v)) => (n, Some(v.to_string())),
                        None => (o, None),
                    };
                    let name = name.replace('_', "-");
                    if !long.iter().any(|l| l.as_ref() == name) {
                        return Err(ConfigError::Unknown(o.into()));
                    }
                    f.long.push(LongOption { name, value });
                }
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
    /// The mount's readahead in KiB (0: the kernel's default), see [`super::readahead`].
    pub readahead_kib: u32,
    /// Threads loading datasets ahead of a walk (0: none), see `crate::vfs::Vfs::walk_ahead`.
    pub walk_ahead: usize,
    /// Local copies of re-read files served by passthrough (`--passthrough-cache`), if on.
    pub passthrough: Option<super::passthrough::CacheOptions>,
    pub vfs: VfsOptions,
    /// What draws thumbnails and computes declared derived stores (made by the binary from
    /// a layer above this one), if the tree shows any.
    pub generator: Option<std::sync::Arc<dyn crate::vfs::Generator>>,
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

    #[test]
    fn daemon_options_in_option_lists() {
        let long = ["chunks", "cache-size", "follow-symlinks"];
        let f = MountFlags::parse_with(
            &["ro,allow_other,chunks=decoded,cache_size=1000", "follow_symlinks,_netdev"],
            &long,
        )
        .unwrap();
        assert!(f.allow_other);
        let args: Vec<String> = f.long.iter().map(LongOption::arg).collect();
        assert_eq!(args, ["--chunks=decoded", "--cache-size=1000", "--follow-symlinks"]);
        assert!(matches!(
            MountFlags::parse_with(&["ready_fd=3"], &long),
            Err(ConfigError::Unknown(o)) if o == "ready_fd=3"
        ));
        assert!(matches!(MountFlags::parse(&["chunks=raw"]), Err(ConfigError::Unknown(_))));
    }
}
