//! An open source file as a reader gets it: borrowed from whoever keeps it open, or shared
//! with a bounded set of open files that may close it once every reader is done with it
//! (so that the daemon holds a bounded number of descriptors whatever it serves); and
//! [`OpenSource`], a file opened only when something is read from it.

use std::fs::File;
use std::ops::Deref;
use std::sync::Arc;

/// An open file, borrowed or shared.
pub enum FileRef<'a> {
    Borrowed(&'a File),
    Shared(Arc<File>),
}

impl Deref for FileRef<'_> {
    type Target = File;

    fn deref(&self) -> &File {
        match self {
            FileRef::Borrowed(f) => f,
            FileRef::Shared(f) => f,
        }
    }
}

/// A source file, open or opened on first use.
pub trait OpenSource: Sync {
    /// The open file.
    fn open(&self) -> std::io::Result<FileRef<'_>>;
}

impl OpenSource for File {
    fn open(&self) -> std::io::Result<FileRef<'_>> {
        Ok(FileRef::Borrowed(self))
    }
}
