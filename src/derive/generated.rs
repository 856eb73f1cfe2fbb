//! The tree's generated files made from derived datasets (`crate::vfs::Generator`): the
//! thumbnail beside each item (the plot route's image of the variable the item names, see
//! `crate::stac::thumbnail`) and the derived stores declared in the `--collections` file
//! (`[[derived]]`), computed on first use and cached as the HTTP routes' results are (the
//! same caches, keyed by the source's identity). Declarations are checked when this is made
//! (start-up): an unknown dataset, variable, grouping or action, or a name in no directory of
//! the archive, refuses the mount with a message naming the declaration.

use super::plot_request::{Kind, PlotRequest};
use super::{DeriveError, Derived, Request, Store};
use crate::collection::declared_derived::DeclaredDerived;
use crate::plot::Format;
use crate::stac::thumbnail::{Thumbnail, THUMBNAIL_CMAP};
use crate::vfs::{GenerateError, GeneratedStore, Generator};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Generated files of one tree, made by `derived`.
pub struct Generated {
    derived: Arc<Derived>,
    /// Each declared store: its name, its input store and what is computed.
    declared: Vec<(PathBuf, PathBuf, Request)>,
}

impl std::fmt::Debug for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.declared.iter().map(|(n, _, _)| n).collect();
        f.debug_struct("Generated").field("declared", &names).finish()
    }
}

/// A declaration that cannot be computed.
#[derive(Debug, thiserror::Error)]
#[error("derived store {name}: {source}")]
pub struct DeclarationError {
    pub name: String,
    #[source]
    pub source: DeriveError,
}

impl Generated {
    /// Over `derived`, with the declarations `declared`, each checked against its dataset
    /// (indexed now, its coordinates read for the grouping; nothing is computed yet).
    pub fn new(
        derived: Arc<Derived>,
        declared: &[DeclaredDerived],
    ) -> Result<Generated, DeclarationError> {
        let mut out = Vec::new();
        for d in declared {
            let failed = |source| DeclarationError { name: d.name.display().to_string(), source };
            let request =
                Request::parse(&d.derive, &d.variable, &d.what(), &d.action).map_err(failed)?;
            derived.check(&d.dataset, &request).map_err(failed)?;
            let dir = d.name.parent().unwrap_or(Path::new(""));
            if !matches!(derived.vfs.resolve(dir), Ok(crate::vfs::NodeKey::Dir(_))) {
                let why =
                    format!("its directory {} is not a directory of the archive", dir.display());
                return Err(failed(DeriveError::Request(why)));
            }
            out.push((d.name.clone(), d.dataset.clone(), request));
        }
        Ok(Generated { derived, declared: out })
    }
}

impl Derived {
    /// Whether `request` of `store` can be computed: the store exists, has the variable, and
    /// the grouping or dimensions are the variable's (reads coordinates, computes nothing).
    pub fn check(&self, store: &Path, request: &Request) -> Result<(), DeriveError> {
        let meta = match self.vfs.resolve(&store.join(".zmetadata")) {
            Ok(_) => super::input::metadata(&self.vfs, store)?,
            Err(crate::vfs::VfsError::NotFound) => {
                let why = format!("dataset {} is not a store of the tree", store.display());
                return Err(DeriveError::Request(why));
            }
            Err(e) => return Err(e.into()),
        };
        let array = super::input::array(&meta, &request.var)?;
        super::plan::plan(&self.vfs, store, (&meta, &array), &request.over)?;
        Ok(())
    }
}

/// A derived store's files, as the tree reads them.
struct Files(Arc<Store>);

impl GeneratedStore for Files {
    fn files(&self) -> &BTreeMap<String, bytes::Bytes> {
        &self.0.files
    }
}

impl Generator for Generated {
    fn derived_store(&self, name: &Path) -> Result<Arc<dyn GeneratedStore>, GenerateError> {
        let (_, input, request) = self
            .declared
            .iter()
            .find(|(n, _, _)| n == name)
            .ok_or_else(|| format!("{} is not declared", name.display()))?;
        // a mount cannot tell that a reader went away: never cancelled
        let store = self.derived.store(input, request, &AtomicBool::new(false))?;
        Ok(Arc::new(Files(store)))
    }

    fn thumbnail(&self, store: &Path, thumb: &Thumbnail) -> Result<Arc<Vec<u8>>, GenerateError> {
        let request = PlotRequest {
            var: thumb.var.clone(),
            kind: if thumb.map { Kind::Map } else { Kind::Line },
            cmap: THUMBNAIL_CMAP.into(),
            selection: Vec::new(),
            format: Format::Png,
        };
        Ok(self.derived.plot(store, &request)?)
    }
}
