//! Collections in the tree: a store made of several member files of one directory (see
//! `collection::by_name`). Its members are indexed (and persisted) one by one as single files;
//! the joined index is made when the store is first used and kept like a dataset's, stamped
//! with its members' identities. A chunk read checks the identity of the member it reads; every
//! other request checks all members, so a member written, replaced, added or removed is joined
//! again, never served stale.

use super::dataset::{DatasetError, Datasets, LoadResult, Loaded, Stamp};
use super::identity::{stat_source, Identity, SourceStat};
use super::source_file::SourceFile;
use super::VfsError;
use crate::collection::{assemble, combine, whole_array, JoinError, Member, Recipe};
use crate::index::{ArrayNode, DatasetIndex};
use crate::zarr::chunk::cache::ChunkCache;
use crate::zarr::chunk::{ChunkError, FileRef, JoinedChunks, LibraryChunks};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tracing::{debug, error, info, warn};

/// A member file of a loaded collection (opened among the tree's bounded open files).
pub struct MemberFile {
    pub path: PathBuf,
    pub identity: Identity,
    file: SourceFile,
}

/// A member's array read whole while joining is bounded (a coordinate, or a variable compared
/// between members).
const READ_MAX_BYTES: u64 = 64 << 20;

impl Loaded {
    /// The file chunk `pos` of `array` is read from, and the reader of chunks only libhdf5
    /// decodes. For a collection, the member's identity is checked first.
    pub fn chunk_file(
        &self,
        array: &ArrayNode,
        pos: usize,
    ) -> Result<(FileRef<'static>, Option<&dyn LibraryChunks>), VfsError> {
        if self.members.is_empty() {
            return Ok((self.file.get().map_err(VfsError::Dataset)?, self.library.as_deref()));
        }
        let m = self.members.get(array.member_of(pos) as usize).ok_or(VfsError::NotFound)?;
        let changed = || VfsError::Dataset(DatasetError::MemberChanged { path: m.path.clone() });
        if stat_source(&m.path)?.identity != m.identity {
            return Err(changed());
        }
        match m.file.get() {
            Ok(file) => Ok((file, None)),
            Err(DatasetError::Changed { .. }) => Err(changed()),
            Err(e) => Err(VfsError::Dataset(e)),
        }
    }
}

/// A collection's joined chunks, from its members' files (each checked before it is read).
impl JoinedChunks for Loaded {
    fn assemble(&self, array: &ArrayNode, pos: usize) -> Result<Vec<u8>, ChunkError> {
        let file = |m: usize| -> Result<FileRef<'_>, ChunkError> {
            let member = self.members.get(m).ok_or(ChunkError::NoAssembler)?;
            let named = |source: ChunkError| ChunkError::Member {
                member: member.path.display().to_string(),
                source: Box::new(source),
            };
            let now = stat_source(&member.path).map_err(|e| named(e.into()))?;
            if now.identity != member.identity {
                let changed = std::io::Error::other("changed since the collection was joined");
                return Err(named(changed.into()));
            }
            member.file.get().map_err(|e| named(std::io::Error::other(e).into()))
        };
        assemble(array, pos, &file)
    }
}

/// The identities of `members` (relative to `root`, absolute), in the listing's order (name
/// order, or a declared collection's globs' order).
fn stamp(root: &Path, members: &[PathBuf]) -> Result<Vec<(OsString, Identity)>, DatasetError> {
    members
        .iter()
        .map(|n| {
            let path = root.join(n);
            let stat = stat_source(&path).map_err(DatasetError::open(&path))?;
            Ok((n.clone().into_os_string(), stat.identity))
        })
        .collect()
}

impl Datasets {
    /// The loaded collection shown as `store` (absolute; not a file) with `members`
    /// (relative to `root`, absolute), made as `recipe` says. `check_all`: stat every
    /// member (else only the member list is compared: chunk reads check their own member).
    pub fn get_collection(
        &self,
        store: &Path,
        root: &Path,
        (members, recipe): (&Arc<[PathBuf]>, &Recipe),
        check_all: bool,
    ) -> LoadResult {
        if let Some(hit) = self.cache.get(store.as_os_str()) {
            let fresh = match &hit.0 {
                Stamp::Members(old, _) if check_all => stamp(root, members)? == *old,
                Stamp::Members(_, list) if Arc::ptr_eq(list, members) => true,
                // both in the listing's order: one pass
                Stamp::Members(old, _) => {
                    old.iter().map(|o| o.0.as_os_str()).eq(members.iter().map(|m| m.as_os_str()))
                }
                Stamp::File(_) => false,
            };
            if fresh {
                return hit.1.clone();
            }
            info!(store = %store.display(), "collection changed: joining again");
            self.cache.invalidate(store.as_os_str());
        }
        let now = stamp(root, members)?;
        let key = store.as_os_str().to_owned();
        let entry = self.cache.get_with(key, || {
            let loaded = self.load_collection(store, root, &now, recipe);
            Arc::new((Stamp::Members(now.clone(), members.clone()), loaded))
        });
        entry.1.clone()
    }

    fn load_collection(
        &self,
        store: &Path,
        dir: &Path,
        members: &[(OsString, Identity)],
        recipe: &Recipe,
    ) -> LoadResult {
        let started = Instant::now();
        // opened when read (a member indexed now is open already), among the tree's bounded
        // open files: a join of more members than the process may open at once still works
        let mut files: Vec<SourceFile> = Vec::with_capacity(members.len());
        let mut indexes: Vec<DatasetIndex> = Vec::with_capacity(members.len());
        let mut stats: Vec<SourceStat> = Vec::with_capacity(members.len());
        let mut names: Vec<&OsString> = Vec::with_capacity(members.len());
        // members' indexes read back (or made) on two threads: a remount of a 1,000-member
        // collection reads 1,000 index files before it can join them
        let open = |name: &OsString| {
            let path = dir.join(name);
            let stat = stat_source(&path).map_err(DatasetError::open(&path))?;
            let (index, file) = self.index_of(&path, stat)?;
            let file = SourceFile::new(&path, stat.identity, file, self.files.clone());
            Ok::<_, DatasetError>((stat, file, index))
        };
        let half = members.len().div_ceil(2);
        let (front, back) = members.split_at(half);
        let opened: Option<Vec<_>> = std::thread::scope(|s| {
            let other = s.spawn(|| back.iter().map(|(n, _)| open(n)).collect::<Vec<_>>());
            let mut mine: Vec<_> = front.iter().map(|(n, _)| open(n)).collect();
            mine.extend(other.join().ok()?);
            Some(mine)
        });
        // a panic in the other thread (a bug) costs this collection, never a silent member
        let opened = opened.ok_or_else(|| {
            let r = crate::collection::Refusal::NoMembers;
            DatasetError::Refused { store: store.to_path_buf(), source: Arc::new(r) }
        })?;
        for ((name, _), opened) in members.iter().zip(opened) {
            let path = dir.join(name);
            match opened {
                Ok((stat, file, index)) => {
                    indexes.push(index);
                    files.push(file);
                    stats.push(stat);
                    names.push(name);
                }
                // a file a glob or a variable tree names that is no NetCDF/HDF5 file (a
                // checksum beside the data) is no member
                Err(_) if matches!(crate::source::sniff_path(&path), Ok(None)) => {
                    debug!(store = %store.display(), member = %path.display(),
                        "not a NetCDF/HDF5 file: no member");
                }
                Err(e) if self.skip_bad_members => {
                    warn!(store = %store.display(), member = %path.display(),
                        "member left out (--skip-bad-members): {e}");
                }
                Err(e) => {
                    let member = name.to_string_lossy().into_owned();
                    error!(store = %store.display(), "collection not available: member {member}: {e}");
                    let store = store.to_path_buf();
                    return Err(DatasetError::Member { store, member, source: Box::new(e) });
                }
            }
        }
        if names.is_empty() {
            let r = crate::collection::Refusal::NoMembers;
            error!(store = %store.display(), "collection not available: {r}");
            return Err(DatasetError::Refused { store: store.to_path_buf(), source: Arc::new(r) });
        }
        let input: Vec<Member<'_>> = names
            .iter()
            .zip(&indexes)
            .zip(&files)
            .map(|((name, index), f)| Member {
                name: name.to_string_lossy().into_owned(),
                index,
                file: Some(f),
            })
            .collect();
        let cache = ChunkCache::new(0);
        let read = |i: usize, a: &ArrayNode| -> Result<Vec<u8>, JoinError> {
            let file = files[i].get().map_err(|e| JoinError::from(std::io::Error::other(e)))?;
            whole_array((&file, None), &cache, a, READ_MAX_BYTES)
        };
        let joined = combine(&input, recipe, &read).map_err(|r| {
            error!(store = %store.display(), "collection not available: {r}");
            DatasetError::Refused { store: store.to_path_buf(), source: Arc::new(r) }
        })?;
        for note in &joined.notes {
            debug!(store = %store.display(), "{note}");
        }
        for refused in &joined.refused {
            warn!(store = %store.display(), "variables not merged: {refused}");
        }
        let view = self.view(joined.index);
        let mut files: Vec<Option<SourceFile>> = files.into_iter().map(Some).collect();
        let mut numbered = Vec::with_capacity(joined.order.len());
        for i in &joined.order {
            let path = dir.join(names[*i]);
            let changed = || DatasetError::MemberChanged { path: path.clone() };
            let file = files[*i].take().ok_or_else(changed)?;
            numbered.push(MemberFile { path: path.clone(), identity: stats[*i].identity, file });
        }
        let first = &numbered[0];
        let file = SourceFile::new(&first.path, first.identity, None, self.files.clone());
        let stat = collection_stat(&stats);
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let us = started.elapsed().as_micros() as u64;
        info!(store = %store.display(), members = numbered.len(), arrays = view.arrays.len(), us,
            "collection joined");
        Ok(Arc::new(Loaded {
            view,
            file,
            stat,
            generation,
            library: None,
            facts: OnceLock::new(),
            members: numbered,
        }))
    }
}

/// What a collection's store shows as its attributes: the newest member's mtime, the first
/// member's (by name) ownership and mode; the size counts the members.
pub(super) fn collection_stat(stats: &[SourceStat]) -> SourceStat {
    let mut out = stats[0];
    out.identity.mtime = stats.iter().map(|s| s.identity.mtime).max().unwrap_or(out.identity.mtime);
    out.identity.size = stats.len() as u64;
    out
}

/// [`collection_stat`] of `members` (relative to `root`, absolute), each stat'ed now.
pub(super) fn stat_collection(root: &Path, members: &[PathBuf]) -> std::io::Result<SourceStat> {
    let stats: Vec<SourceStat> =
        members.iter().map(|m| stat_source(&root.join(m))).collect::<Result<_, _>>()?;
    if stats.is_empty() {
        return Err(std::io::ErrorKind::NotFound.into());
    }
    Ok(collection_stat(&stats))
}
