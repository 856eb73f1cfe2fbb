//! Opening (or creating) the repository with the icechunk crate: its storage (S3 from the
//! standard AWS variables, or a local directory), and the virtual chunk container of the
//! prefix the references point under, persisted in the repository's configuration so that
//! readers only authorize it. Repositories are created in Icechunk's on-disk format 1, which
//! the Python `icechunk` 1.x releases read (the crate writes formats 1 and 2).

use super::target::{RepoTarget, VirtualPrefix};
use super::IcechunkError;
use icechunk::config::{Credentials, S3Credentials, S3Options, S3StaticCredentials};
use icechunk::format::format_constants::SpecVersionBin;
use icechunk::virtual_chunks::VirtualChunkContainer;
use icechunk::{ObjectStoreConfig, Repository, RepositoryConfig, Storage};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// S3 settings from `AWS_ENDPOINT_URL` (path-style addressing, plain HTTP allowed for an
/// `http://` endpoint) and `AWS_REGION` (`AWS_DEFAULT_REGION`; `us-east-1` with an endpoint).
pub fn s3_options() -> S3Options {
    let endpoint = env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL"));
    let mut o = S3Options::default();
    o.region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| endpoint.as_ref().map(|_| "us-east-1".into()));
    o.allow_http = endpoint.as_deref().is_some_and(|e| e.starts_with("http://"));
    o.force_path_style = endpoint.is_some();
    o.endpoint_url = endpoint;
    o
}

/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (`AWS_SESSION_TOKEN`) when set, else the AWS
/// SDK's own chain (profiles, instance metadata).
pub fn s3_credentials() -> S3Credentials {
    match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        (Some(access_key_id), Some(secret_access_key)) => {
            S3Credentials::Static(S3StaticCredentials {
                access_key_id,
                secret_access_key,
                session_token: env("AWS_SESSION_TOKEN"),
                expires_after: None,
            })
        }
        _ => S3Credentials::FromEnv,
    }
}

async fn storage(target: &RepoTarget) -> Result<Arc<dyn Storage + Send + Sync>, IcechunkError> {
    Ok(match target {
        RepoTarget::S3 { bucket, prefix } => icechunk::new_s3_storage(
            s3_options(),
            bucket.clone(),
            (!prefix.is_empty()).then(|| prefix.clone()),
            Some(s3_credentials()),
            vec![],
            vec![],
            None,
        )?,
        RepoTarget::Local(dir) => icechunk::new_local_filesystem_storage(dir).await?,
    })
}

/// The container of `prefix`: S3 (S3-compatible with an endpoint) or the local file system.
fn container(prefix: &VirtualPrefix) -> Result<VirtualChunkContainer, IcechunkError> {
    let store = if prefix.is_s3() {
        let o = s3_options();
        if o.endpoint_url.is_some() {
            ObjectStoreConfig::S3Compatible(o)
        } else {
            ObjectStoreConfig::S3(o)
        }
    } else {
        ObjectStoreConfig::LocalFileSystem(PathBuf::new())
    };
    VirtualChunkContainer::new(prefix.as_str().to_string(), store).map_err(IcechunkError::Target)
}

/// The repository at `target`, created (format 1) if there is none, its configuration
/// holding the container of `prefix`.
pub async fn open_or_create(
    target: &RepoTarget,
    prefix: &VirtualPrefix,
) -> Result<(Repository, bool), IcechunkError> {
    let storage = storage(target).await?;
    let credentials = if prefix.is_s3() {
        Credentials::S3(s3_credentials())
    } else {
        Credentials::LocalFileSystemAccess
    };
    let authorize = HashMap::from([(prefix.as_str().to_string(), Some(credentials))]);
    let mut config = RepositoryConfig::default();
    config.set_virtual_chunk_container(container(prefix)?).map_err(IcechunkError::Target)?;
    if Repository::exists(Arc::clone(&storage), None).await? {
        let repo = Repository::open(storage)
            .config(config)
            .authorize_virtual_chunk_access(authorize)
            .execute()
            .await?;
        // the container of this prefix persisted (it replaces an earlier prefix's: a new
        // prefix rewrites every dataset, so no reference points under the old one)
        repo.save_config().await?;
        return Ok((repo, false));
    }
    let repo = Repository::create(storage)
        .config(config)
        .spec_version(SpecVersionBin::V1)
        .authorize_virtual_chunk_access(authorize)
        .execute()
        .await?;
    Ok((repo, true))
}
