//! Why a set of files is not served as one dataset, and why a member could not be read.

use crate::cf::calendar::TimeError;

/// A member's array could not be read while joining.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("{0}")]
    Chunk(#[from] crate::zarr::chunk::ChunkError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("array larger than a joined coordinate may be ({0} bytes)")]
    TooLarge(u64),
}

/// Why members are not joined at all: the whole collection is refused with this reason.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the first member has no CF time coordinate (a 1-D variable named like its \
             dimension, with units '<unit> since <date>')"
    )]
    NoTime,
    #[error("{member} has no time coordinate '{name}'")]
    MissingTime { member: String, name: String },
    #[error("calendars differ: {a} ({ca}) and {b} ({cb})")]
    Calendars { a: String, ca: String, b: String, cb: String },
    #[error("{member}: time: {source}")]
    Units { member: String, source: TimeError },
    #[error("{member}: time has missing or unreadable values")]
    MissingValues { member: String },
    #[error("{member}: time values are not increasing")]
    Unsorted { member: String },
    #[error("times overlap: {a} ends at or after {b} begins")]
    Overlap { a: String, b: String },
    #[error("{member}: reading the time coordinate: {source}")]
    Read { member: String, source: JoinError },
    #[error("no member can be read")]
    NoMembers,
    #[error("union: {0}")]
    Union(String),
    #[error("{member} has no coordinate variable '{name}'")]
    MissingCoordinate { member: String, name: String },
    #[error("{member} has no dimension '{dim}' to join along")]
    MissingDim { member: String, dim: String },
    #[error("{member}: {dim} values are not strictly monotonic")]
    NotMonotonic { member: String, dim: String },
    #[error("{dim} values overlap or run the other way: {a} and {b}")]
    DimOverlap { dim: String, a: String, b: String },
    #[error("NcML {file}: {source}")]
    Ncml {
        file: String,
        #[source]
        source: super::ncml::NcmlError,
    },
}
