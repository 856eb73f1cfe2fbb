//! NcML aggregation files in the tree: what `X.ncml` makes of its members (a [`Plan`]: the
//! member files and the recipe), read when its store is first used (never by a listing) and
//! kept while the NcML file and the directories its scans read are unchanged. A member must
//! lie inside the archive where it really is (symbolic links followed, as for any source);
//! the directories a plan reads are watched like listed ones. A refused NcML file (not
//! supported, remote or outside locations, no members) is a refused collection: EIO on its
//! store with the reason logged once per version of the file.

use super::identity::{stat_source, Identity};
use super::{Members, Vfs, VfsError};
use crate::collection::ncml::{self, NcmlError};
use crate::collection::{Recipe, Refusal};
use moka::sync::Cache;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use tracing::{info, warn};

/// What an NcML file made of its members when last read.
pub(super) struct Plan {
    /// The NcML file's identity when read (`None`: it could not be stat'ed).
    identity: Option<Identity>,
    /// The store's key (archive-relative), forgotten with the plan.
    store: PathBuf,
    /// Directories read (scans) and the mtime each had.
    scanned: Vec<(PathBuf, Option<SystemTime>)>,
    /// A file left out as too new (`olderThan`) is old enough from then on.
    ripe_at: Option<SystemTime>,
    /// The members (archive-relative, in name order) and the recipe, or why it is refused.
    made: Result<Members, Arc<Refusal>>,
}

impl Plan {
    /// Whether a change to `rel` (archive-relative) may change what this plan says.
    fn covers(&self, rel: &Path) -> bool {
        let parent = rel.parent().unwrap_or(Path::new(""));
        self.scanned.iter().any(|(d, _)| d == parent)
            || self.made.as_ref().is_ok_and(|(m, _)| m.iter().any(|f| f == rel))
    }

    fn fresh(&self, root: &Path, ncml: &Path) -> bool {
        let now = stat_source(&root.join(ncml)).map(|s| s.identity).ok();
        now == self.identity
            && self.ripe_at.is_none_or(|t| SystemTime::now() < t)
            && self.scanned.iter().all(|(d, t)| mtime(&root.join(d)) == *t)
    }
}

fn mtime(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(dir).and_then(|m| m.modified()).ok()
}

/// The plans of the archive's NcML files, by the file's archive-relative path.
pub(super) type Plans = Cache<PathBuf, Arc<Plan>, foldhash::fast::RandomState>;

pub(super) fn plans() -> Plans {
    Cache::builder().max_capacity(10_000).build_with_hasher(foldhash::fast::RandomState::default())
}

impl Vfs {
    /// The members and recipe of NcML file `ncml` (archive-relative) shown as `store`;
    /// `check`: make sure the file and the directories it scans are unchanged (a chunk read
    /// takes the plan as it is: its member is checked on the read).
    pub(super) fn ncml_members(
        &self,
        ncml: &Path,
        store: &Path,
        check: bool,
    ) -> Result<Members, VfsError> {
        let store_key = || self.root.join(store);
        let plan = match self.ncml_plans.get(ncml) {
            Some(p) if !check || p.fresh(&self.root, ncml) => p,
            old => {
                if old.is_some() {
                    info!(ncml = %ncml.display(), "NcML file or scanned directory changed: read again");
                    self.datasets.forget(&store_key());
                }
                let plan = Arc::new(self.make_plan(ncml, store));
                self.ncml_plans.insert(ncml.to_path_buf(), plan.clone());
                plan
            }
        };
        plan.made.clone().map_err(|source| {
            let store = store_key();
            VfsError::Dataset(super::DatasetError::Refused { store, source })
        })
    }

    fn make_plan(&self, ncml: &Path, store: &Path) -> Plan {
        let path = self.root.join(ncml);
        let identity = stat_source(&path).map(|s| s.identity).ok();
        let dir = ncml.parent().unwrap_or(Path::new(""));
        let mut scanned = Vec::new();
        let mut ripe_at = None;
        let made = self.read_ncml(&path, dir, (&mut scanned, &mut ripe_at)).map_err(|source| {
            let r = Refusal::Ncml { file: ncml.display().to_string(), source };
            warn!(store = %store.display(), "collection not available: {r}");
            Arc::new(r)
        });
        // watched like listed directories: a file created there may be a member
        let mut watched: Vec<&Path> = scanned.iter().map(PathBuf::as_path).collect();
        if let Ok((members, _)) = &made {
            watched.extend(members.iter().filter_map(|m| m.parent()));
        }
        watched.sort_unstable();
        watched.dedup();
        for d in watched {
            self.listings.watch(d);
        }
        let scanned =
            scanned.into_iter().map(|d| (d.clone(), mtime(&self.root.join(&d)))).collect();
        Plan { identity, store: store.to_path_buf(), scanned, ripe_at, made }
    }

    /// Parse the NcML file at `path` (in archive directory `dir`) and find its members, each
    /// really inside the archive.
    fn read_ncml(
        &self,
        path: &Path,
        dir: &Path,
        (scanned, ripe_at): (&mut Vec<PathBuf>, &mut Option<SystemTime>),
    ) -> Result<Members, NcmlError> {
        // the NcML file itself where it really is (a link swapped since it was listed)
        let meta = std::fs::metadata(path).map_err(NcmlError::Read)?;
        let mtime = meta.modified().map_err(NcmlError::Read)?;
        if self.confinement.check(path, meta.ino(), mtime).is_err() {
            return Err(NcmlError::Outside(path.display().to_string()));
        }
        let parsed = ncml::read(path)?;
        let recipe: Recipe = ncml::recipe(&parsed)?;
        let mut found = ncml::resolve::Found::default();
        let resolved = ncml::resolve::members(&parsed.aggregation, &self.root, dir, &mut found);
        scanned.extend(found.scanned);
        *ripe_at = found.ripe_at;
        resolved?;
        let mut members = found.members;
        for m in &members {
            if ncml::is_ncml(m.as_os_str().as_encoded_bytes()) {
                let what = format!("a member that is an NcML file ({})", m.display());
                return Err(NcmlError::Unsupported(what));
            }
            let full = self.root.join(m);
            let member = |source| NcmlError::Member { member: m.display().to_string(), source };
            let meta = std::fs::metadata(&full).map_err(member)?;
            let mtime = meta.modified().map_err(member)?;
            if self.confinement.check(&full, meta.ino(), mtime).is_err() {
                return Err(NcmlError::Outside(m.display().to_string()));
            }
        }
        // in name order, as the joined dataset's stamp lists them (the join orders by time)
        members.sort();
        info!(ncml = %path.display(), members = members.len(), "{}", ncml::describe(&parsed));
        Ok((members.into(), recipe))
    }

    /// The NcML stores a change to `rel` (archive-relative) makes stale: each plan forgotten,
    /// its joined dataset too; their store keys.
    pub(super) fn ncml_changed(&self, rel: &Path) -> Vec<PathBuf> {
        let mut stores = Vec::new();
        for (ncml, plan) in self.ncml_plans.iter() {
            if plan.covers(rel) || ncml.as_path() == rel {
                self.ncml_plans.invalidate(ncml.as_path());
                self.datasets.forget(&self.root.join(&plan.store));
                stores.push(plan.store.clone());
            }
        }
        stores
    }
}
