//! The source file of a loaded dataset (or of a collection's member). A dataset whose index
//! comes from the index directory is served without opening its source until a chunk is
//! read: a `find` or a metadata read of a whole archive opens no file (and holds no
//! descriptors). The file is kept open among the tree's bounded [`OpenFiles`], opened again
//! when it was closed meanwhile, and checked then to be the version its index describes.

use super::dataset::DatasetError;
use super::identity::Identity;
use super::open_files::OpenFiles;
use crate::zarr::chunk::FileRef;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A source file, open now or on use.
pub struct SourceFile {
    path: PathBuf,
    identity: Identity,
    files: Arc<OpenFiles>,
}

impl SourceFile {
    /// The file at `path` of version `identity`, open already (`file`: kept among `files`)
    /// or opened when first read.
    pub fn new(path: &Path, identity: Identity, file: Option<File>, files: Arc<OpenFiles>) -> Self {
        if let Some(file) = file {
            files.keep(path, identity, file);
        }
        SourceFile { path: path.to_path_buf(), identity, files }
    }

    /// Whether the file is open now.
    pub fn is_open(&self) -> bool {
        self.files.is_open(&self.path)
    }

    /// The open file: opened now if it was not, and refused with [`DatasetError::Changed`]
    /// when what the path leads to is not the version indexed.
    pub fn get(&self) -> Result<FileRef<'static>, DatasetError> {
        self.files.get(&self.path, self.identity).map(FileRef::Shared)
    }
}

/// STAC facts read values through it (opening the file only if one is read).
impl crate::stac::OpenSource for SourceFile {
    fn open(&self) -> std::io::Result<FileRef<'_>> {
        self.get().map_err(std::io::Error::other)
    }
}
