//! Where a repository lives (`s3://bucket/prefix` or a local directory) and where its virtual
//! chunks point: the virtual prefix the archive is published under (`s3://bucket/archive/`,
//! or `file:///srv/archive/` for a copy on a file system), joined with a source file's
//! archive-relative path into the reference's URL.

use super::IcechunkError;
use std::path::{Path, PathBuf};

/// The repository's storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepoTarget {
    /// `s3://bucket/prefix` (prefix may be empty).
    S3 { bucket: String, prefix: String },
    /// A local directory (created if missing).
    Local(PathBuf),
}

impl RepoTarget {
    /// `s3://bucket[/prefix]` or a path (`file://` URLs are taken as paths too).
    pub fn parse(repo: &str) -> Result<RepoTarget, IcechunkError> {
        if let Some(rest) = repo.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(IcechunkError::Target(format!("{repo}: no bucket")));
            }
            let prefix = prefix.trim_matches('/').to_string();
            return Ok(RepoTarget::S3 { bucket: bucket.to_string(), prefix });
        }
        if repo.contains("://") && !repo.starts_with("file://") {
            return Err(IcechunkError::Target(format!(
                "{repo}: a repository is s3://bucket/prefix or a local directory"
            )));
        }
        let path = Path::new(repo.strip_prefix("file://").unwrap_or(repo));
        Ok(RepoTarget::Local(
            std::path::absolute(path).map_err(|e| IcechunkError::Target(format!("{repo}: {e}")))?,
        ))
    }

    /// The repository's URL (`s3://bucket/prefix`, `file:///abs/dir`): STAC hrefs.
    pub fn href(&self) -> String {
        match self {
            RepoTarget::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            RepoTarget::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
            RepoTarget::Local(p) => format!("file://{}", p.display()),
        }
    }
}

/// The virtual chunk container's prefix: `s3://bucket/…/` or `file:///…/` (a trailing `/`
/// added; a plain absolute path becomes a `file://` URL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualPrefix(String);

impl VirtualPrefix {
    pub fn parse(prefix: &str) -> Result<VirtualPrefix, IcechunkError> {
        let mut p =
            if prefix.starts_with('/') { format!("file://{prefix}") } else { prefix.to_string() };
        let host = |rest: &str| rest.split('/').next().is_some_and(|h| !h.is_empty());
        let ok = match (p.strip_prefix("s3://"), p.strip_prefix("file:///")) {
            (Some(rest), _) => host(rest),
            (_, Some(_)) => true,
            _ => false,
        };
        if !ok {
            return Err(IcechunkError::Target(format!(
                "--virtual-prefix {prefix}: expected s3://bucket/path/ or file:///path/"
            )));
        }
        if !p.ends_with('/') {
            p.push('/');
        }
        Ok(VirtualPrefix(p))
    }

    /// The prefix as the container's `url_prefix`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_s3(&self) -> bool {
        self.0.starts_with("s3://")
    }

    /// The URL of archive-relative `file` under the prefix, each path segment
    /// percent-encoded where URLs need it.
    pub fn url_of(&self, file: &Path) -> String {
        let mut out = self.0.clone();
        let rel = file.to_string_lossy();
        for (i, segment) in rel.split('/').filter(|s| !s.is_empty()).enumerate() {
            if i > 0 {
                out.push('/');
            }
            for b in segment.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories() {
        let s3 = RepoTarget::parse("s3://b/x/y/").unwrap();
        assert_eq!(s3, RepoTarget::S3 { bucket: "b".into(), prefix: "x/y".into() });
        assert_eq!(s3.href(), "s3://b/x/y");
        assert_eq!(
            RepoTarget::parse("s3://b").unwrap(),
            RepoTarget::S3 { bucket: "b".into(), prefix: "".into() }
        );
        assert!(RepoTarget::parse("s3:///x").is_err());
        assert!(RepoTarget::parse("gs://b/x").is_err());
        assert_eq!(RepoTarget::parse("/tmp/r").unwrap(), RepoTarget::Local("/tmp/r".into()));
    }

    #[test]
    fn prefixes_and_urls() {
        let p = VirtualPrefix::parse("s3://bucket/archive").unwrap();
        assert_eq!(p.as_str(), "s3://bucket/archive/");
        assert_eq!(p.url_of(Path::new("agg/tas 1%.nc")), "s3://bucket/archive/agg/tas%201%25.nc");
        assert_eq!(VirtualPrefix::parse("/srv/a").unwrap().as_str(), "file:///srv/a/");
        for bad in ["s3:///x", "http://h/x", "relative/x", "file://host/x"] {
            assert!(VirtualPrefix::parse(bad).is_err(), "{bad}");
        }
    }
}
