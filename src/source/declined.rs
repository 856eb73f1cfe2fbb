//! Why the native reader declines a file (the caller then indexes it with the C libraries):
//! the file could not be read, is not HDF5, a stored chunk did not decode, a variable's
//! storage cannot be placed ([`VariableError`]), the reader met something it does not fully
//! know (free text: the structure and what about it), or it panicked.

use super::VariableError;
use crate::codec::CodecError;

/// The native reader's answer when it does not make the index.
#[derive(Debug, thiserror::Error)]
pub enum Declined {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not an HDF5 file")]
    NotHdf5,
    /// A stored chunk (string variables' values) did not decode.
    #[error("{0}")]
    Codec(#[from] CodecError),
    /// A variable whose storage cannot be placed (the libraries then leave it out).
    #[error("{0}")]
    Variable(#[from] VariableError),
    /// What the reader does not fully know, in its own words.
    #[error("{0}")]
    Unsupported(String),
    #[error("native reader panicked")]
    Panicked,
}

impl Declined {
    /// True when the reader panicked (a bug in the reader, never a crash).
    pub fn is_panic(&self) -> bool {
        matches!(self, Declined::Panicked)
    }
}

/// A description of the structure declined (see [`Declined::Unsupported`]).
impl From<&'static str> for Declined {
    fn from(what: &'static str) -> Self {
        Declined::Unsupported(what.into())
    }
}
