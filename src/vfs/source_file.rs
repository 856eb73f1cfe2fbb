//! The open source file of a loaded dataset. A dataset whose index comes from the index
//! directory is served without opening its source until a chunk is read: a `find` or a
//! metadata read of a whole archive opens no file (and holds no descriptors). The file
//! opened then is checked to be the version its index describes.

use super::dataset::DatasetError;
use super::identity::Identity;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A source file, open now or on first use.
pub struct SourceFile {
    path: PathBuf,
    identity: Identity,
    file: OnceLock<File>,
}

impl SourceFile {
    /// The file at `path` of version `identity`, open already (`file`) or opened when first
    /// read.
    pub fn new(path: &Path, identity: Identity, file: Option<File>) -> Self {
        let cell = OnceLock::new();
        if let Some(file) = file {
            let _ = cell.set(file);
        }
        SourceFile { path: path.to_path_buf(), identity, file: cell }
    }

    /// Whether the file has been opened.
    pub fn is_open(&self) -> bool {
        self.file.get().is_some()
    }

    /// The open file: opened now if it was not, and refused with [`DatasetError::Changed`]
    /// when what the path leads to is not the version indexed.
    pub fn get(&self) -> Result<&File, DatasetError> {
        if let Some(file) = self.file.get() {
            return Ok(file);
        }
        let file = File::open(&self.path).map_err(DatasetError::open(&self.path))?;
        let m = file.metadata().map_err(DatasetError::open(&self.path))?;
        let now = Identity {
            ino: m.ino(),
            size: m.len(),
            mtime: m.modified().map_err(DatasetError::open(&self.path))?,
        };
        if now != self.identity {
            return Err(DatasetError::Changed { path: self.path.clone() });
        }
        // two readers may open it at once: one file is kept, the other closed
        Ok(self.file.get_or_init(|| file))
    }
}

/// STAC facts read values through it (opening the file only if one is read).
impl crate::stac::OpenSource for SourceFile {
    fn open(&self) -> std::io::Result<&File> {
        self.get().map_err(std::io::Error::other)
    }
}
