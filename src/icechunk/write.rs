//! One run of `cloudify icechunk`: compare the archive with what the branch holds, write the
//! datasets that are new or changed (their groups replaced whole), remove those gone, and
//! commit one snapshot; nothing is committed when nothing changed. A dataset that cannot be
//! read is reported and left out (its group removed), the others are written.

use super::plan::{self, DatasetPlace, DatasetPlan, Payload};
use super::repo;
use super::sources::Sources;
use super::state::{self, Changes, State};
use super::target::{RepoTarget, VirtualPrefix};
use super::IcechunkError;
use crate::vfs::Vfs;
use bytes::Bytes;
use icechunk::format::manifest::{VirtualChunkLocation, VirtualChunkRef};
use icechunk::format::ByteRange;
use icechunk::Store;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::RwLock;
use tracing::info;

/// What to write where.
pub struct Options {
    pub repo: RepoTarget,
    pub prefix: VirtualPrefix,
    pub branch: String,
    /// The commit message (default: what changed).
    pub message: Option<String>,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// The branch's snapshot after the run (the new one, or the tip when nothing changed).
    pub snapshot: String,
    pub committed: bool,
    pub created: bool,
    pub changes: Changes,
    pub virtual_chunks: u64,
    pub native_chunks: u64,
    pub native_bytes: u64,
    /// Datasets (or directories) that could not be read, and why.
    pub failed: Vec<IcechunkError>,
    /// The datasets the snapshot holds, by group.
    pub datasets: Vec<DatasetPlace>,
}

const EMPTY_GROUP: &[u8] = br#"{"zarr_format":3,"node_type":"group","attributes":{}}"#;

/// Write the archive `vfs` shows (a v3 unsharded view) into the repository.
pub fn publish(vfs: &Vfs, options: &Options) -> Result<Report, IcechunkError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(IcechunkError::Runtime)?;
    rt.block_on(run(vfs, options))
}

async fn run(vfs: &Vfs, options: &Options) -> Result<Report, IcechunkError> {
    let mut report = Report::default();
    let mut unreadable = Vec::new();
    let places = plan::datasets(vfs, &mut unreadable);
    for (dir, e) in unreadable {
        report.failed.push(IcechunkError::Dataset(dir, e));
    }
    let mut now = BTreeMap::new();
    let mut by_group = BTreeMap::new();
    for place in places {
        match plan::current(vfs, &place) {
            Ok(f) => {
                now.insert(place.group.clone(), f);
                by_group.insert(place.group.clone(), place);
            }
            Err(e) => report.failed.push(IcechunkError::Dataset(place.group, e)),
        }
    }
    let (repository, created) = repo::open_or_create(&options.repo, &options.prefix).await?;
    report.created = created;
    let session = repository.writable_session(&options.branch).await?;
    let store = Store::from_session(Arc::new(RwLock::new(session))).await;
    let old = match store.exists("zarr.json").await? {
        true => Some(store.get("zarr.json", &ByteRange::ALL).await?),
        false => None,
    };
    let mut state = State::from_root_doc(old.as_deref())?;
    let changes = state::compare(&state, &now, options.prefix.as_str());
    for group in changes.changed.iter().chain(&changes.removed) {
        store.delete_dir(group).await?;
        state.datasets.remove(group);
    }
    state.virtual_prefix = Some(options.prefix.as_str().to_string());
    let mut written = Vec::new();
    let mut sources = Sources::new(&options.prefix).await;
    // in path order: a group is written before the datasets below it, so that removing a
    // group that failed half way never takes a dataset below it along
    let mut to_write: Vec<&String> = changes.added.iter().chain(&changes.changed).collect();
    to_write.sort();
    for group in to_write {
        let place = &by_group[group];
        let done = match plan::plan(vfs, place) {
            Ok(p) => write_dataset(vfs, &store, (&options.prefix, &mut sources), &p, &mut report)
                .await
                .map_err(|e| IcechunkError::Writing(group.clone(), Box::new(e))),
            Err(e) => Err(IcechunkError::Dataset(group.clone(), e)),
        };
        match done {
            Ok(()) => {
                info!(group = %group, "written");
                state.datasets.insert(group.clone(), now[group].clone());
                written.push(group.clone());
            }
            Err(e) => {
                // nothing of a dataset half written stays
                store.delete_dir(group).await?;
                report.failed.push(e);
            }
        }
    }
    let anything = !written.is_empty() || !changes.removed.is_empty() || old.is_none();
    let record = state.to_root_doc();
    if anything || old.as_deref() != Some(&record[..]) {
        store.set("zarr.json", Bytes::from(record)).await?;
        let message = options.message.clone().unwrap_or_else(|| message(&changes, &written));
        let session = store.session();
        let mut session = session.write().await;
        let id = session.commit(message).execute().await?;
        report.snapshot = id.to_string();
        report.committed = true;
    } else {
        report.snapshot = repository.lookup_branch(&options.branch).await?.to_string();
    }
    report.changes = changes;
    report.datasets = state.datasets.keys().filter_map(|g| by_group.get(g).cloned()).collect();
    Ok(report)
}

fn message(changes: &Changes, written: &[String]) -> String {
    let added = changes.added.iter().filter(|g| written.contains(g)).count();
    let changed = changes.changed.iter().filter(|g| written.contains(g)).count();
    format!(
        "cloudify: {added} datasets added, {changed} changed, {} removed, {} unchanged",
        changes.removed.len(),
        changes.unchanged.len()
    )
}

/// Dataset `p`'s group (and the groups above it), documents and chunk references.
async fn write_dataset(
    vfs: &Vfs,
    store: &Store,
    (prefix, sources): (&VirtualPrefix, &mut Sources),
    p: &DatasetPlan,
    report: &mut Report,
) -> Result<(), IcechunkError> {
    let group = &p.place.group;
    let mut above = String::new();
    for part in group.split('/').collect::<Vec<_>>().split_last().map_or(&[][..], |(_, a)| a) {
        above = if above.is_empty() { part.to_string() } else { format!("{above}/{part}") };
        store.set_if_not_exists(&format!("{above}/zarr.json"), Bytes::from(EMPTY_GROUP)).await?;
    }
    for (key, doc) in &p.docs {
        let key = format!("{group}/{key}");
        store
            .set(&key, Bytes::from(doc.clone()))
            .await
            .map_err(|e| IcechunkError::Writing(key.clone(), Box::new(IcechunkError::Store(e))))?;
    }
    for chunk in &p.chunks {
        let key = format!("{group}/{}", chunk.key);
        match &chunk.payload {
            Payload::Virtual { file, offset, len } => {
                let location = VirtualChunkLocation::from_url(&prefix.url_of(file))
                    .map_err(|e| IcechunkError::Target(format!("{}: {e}", file.display())))?;
                let checksum = sources.checksum(file).await?;
                let r = VirtualChunkRef { location, offset: *offset, length: *len, checksum };
                store.set_virtual_ref(&key, r, true).await?;
                report.virtual_chunks += 1;
            }
            Payload::Native { size } => {
                let bytes = plan::native_bytes(vfs, p, &chunk.key, *size)
                    .map_err(|e| IcechunkError::Dataset(format!("{group}/{}", chunk.key), e))?;
                store.set(&key, Bytes::from(bytes)).await?;
                report.native_chunks += 1;
                report.native_bytes += size;
            }
        }
    }
    Ok(())
}
