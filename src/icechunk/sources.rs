//! The published copies of the archive's files, checked before anything references them: under
//! an `s3://` prefix each file's object is looked up (`HEAD`, once per file and run) and its
//! ETag recorded with every reference into it, so that a reader of any snapshot gets an error
//! (the object was modified) instead of other bytes once the object is replaced; under a
//! `file://` prefix the file must exist there (no checksum). A file not published yet is an
//! error of its dataset, which is then not written.

use super::repo::{s3_credentials, s3_options};
use super::target::VirtualPrefix;
use super::IcechunkError;
use icechunk::format::manifest::Checksum;
use icechunk::storage::{ETag, Settings};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The checksums of the files looked up so far (`None`: exists, no checksum recorded).
pub struct Sources {
    prefix: VirtualPrefix,
    client: Option<aws_sdk_s3::Client>,
    seen: HashMap<PathBuf, Option<Checksum>>,
}

impl Sources {
    pub async fn new(prefix: &VirtualPrefix) -> Sources {
        let client = match prefix.is_s3() {
            true => Some(
                icechunk::storage::mk_client(
                    &s3_options(),
                    s3_credentials(),
                    vec![],
                    vec![],
                    &Settings::default(),
                )
                .await,
            ),
            false => None,
        };
        Sources { prefix: prefix.clone(), client, seen: HashMap::new() }
    }

    /// The checksum to record with references into archive-relative `file` (looked up once).
    pub async fn checksum(&mut self, file: &Path) -> Result<Option<Checksum>, IcechunkError> {
        if let Some(c) = self.seen.get(file) {
            return Ok(c.clone());
        }
        let url = self.prefix.url_of(file);
        let missing = |why: String| {
            IcechunkError::Target(format!(
                "{url}: {why} (publish the archive's files under --virtual-prefix first)"
            ))
        };
        let c = match &self.client {
            Some(client) => {
                let rest = self.prefix.as_str().trim_start_matches("s3://");
                let (bucket, key_prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let key = format!("{key_prefix}{}", file.to_string_lossy());
                let head = client.head_object().bucket(bucket).key(&key).send().await;
                let head = head.map_err(|e| {
                    missing(format!("{}", aws_sdk_s3::error::DisplayErrorContext(e)))
                })?;
                head.e_tag().map(|t| Checksum::ETag(ETag(t.to_string())))
            }
            None => {
                let path = self.prefix.as_str().trim_start_matches("file://");
                std::fs::metadata(Path::new(path).join(file))
                    .map_err(|e| missing(e.to_string()))?;
                None
            }
        };
        self.seen.insert(file.to_path_buf(), c.clone());
        Ok(c)
    }
}
