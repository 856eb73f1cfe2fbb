//! Why one variable cannot be served (its values cannot be read, or its storage cannot be
//! turned into Zarr chunks): the typed reason, its cause kept, until it becomes text in the one
//! place a variable is left out of the index ([`leave_out`]: an `index::Skipped` entry, whose
//! reason is data — persisted, shown by `cloudify inspect`). The native reader declines the
//! whole file with it instead ([`super::Declined::Variable`]).

use super::contiguous::MAX_GRID;
use super::nc4_strings::MAX_STRING_BYTES;
use super::placement::MAX_FILE_REFS;
use crate::codec::CodecError;
use crate::index::{GroupNode, Skipped};
use std::path::Path;
use tracing::warn;

/// One variable's storage or values cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum VariableError {
    /// A libhdf5 call (through the hdf5 crate) failed; `what` says which.
    #[error("{what}: {source}")]
    Hdf5 { what: &'static str, source: hdf5::Error },
    /// A direct libhdf5 call returned a failure status (it leaves no error value to keep).
    #[error("{0}")]
    Hdf5Status(&'static str),
    /// A filter's parameters the hdf5 crate refuses.
    #[error("{0}")]
    Filter(hdf5::Error),
    /// A netcdf-c call failed; `what` says which.
    #[error("{what}: {source}")]
    NetCdf { what: &'static str, source: netcdf::Error },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Codec(#[from] CodecError),
    /// A filter with no Zarr v2 codec, no Rust decoder and no libhdf5 plugin (its name).
    #[error("HDF5 filter {0} has no Zarr v2 codec and libhdf5 cannot decode it (no plugin)")]
    NoDecoder(String),
    /// A variable of a netCDF type not served (its kind: compound, opaque, vlen, …).
    #[error("{0} variables are not supported yet")]
    Type(&'static str),
    /// The stored bytes end past the end of the file (which of them: contiguous data, …).
    #[error("{0} lies beyond the end of the file (truncated?)")]
    DataBeyondEnd(&'static str),
    /// A chunk (its grid coordinates) ends past the end of the file.
    #[error("chunk {0:?} lies beyond the end of the file (truncated?)")]
    ChunkBeyondEnd(Vec<u64>),
    /// More chunks than one array may have.
    #[error("chunk grid larger than {MAX_GRID} chunks is not served")]
    GridTooLarge,
    /// More chunk references than one file's arrays may hold in all.
    #[error("the file's arrays have more than {MAX_FILE_REFS} chunks in all")]
    FileTooManyChunks,
    /// A chunk shape whose decoded chunk is larger than served.
    #[error("chunks {0:?} are larger than served")]
    ChunksTooLarge(Vec<u64>),
    /// A compact dataset claiming more bytes than HDF5 allows (its claim).
    #[error("compact dataset claims {0} bytes (HDF5 allows 64 KiB)")]
    CompactTooLarge(u64),
    /// A string variable larger than an index keeps.
    #[error("string variable larger than {MAX_STRING_BYTES} bytes")]
    StringsTooLarge,
    /// A chunk whose filter mask says a filter was skipped could not be re-encoded.
    #[error("chunk {coords:?} with skipped filters: {source}")]
    SkippedFilters { coords: Vec<u64>, source: Box<VariableError> },
    /// A structure this reader does not take, or a damaged one, in its own words.
    #[error("{0}")]
    Unsupported(String),
}

/// A description of the structure (see [`VariableError::Unsupported`]).
impl From<&'static str> for VariableError {
    fn from(what: &'static str) -> Self {
        VariableError::Unsupported(what.into())
    }
}

/// Leave the variable `name` out of `group` because of `reason` (logged with `file` and
/// `variable`, its full path): the one place the typed reason becomes the text of a
/// [`Skipped`] entry.
pub fn leave_out(
    group: &mut GroupNode,
    file: &Path,
    variable: &str,
    name: String,
    reason: VariableError,
) {
    warn!(file = %file.display(), variable = %variable, "left out: {reason}");
    group.skipped.push(Skipped { name, reason: reason.to_string() });
}

#[cfg(test)]
mod tests {
    use super::VariableError as E;

    /// A Skipped reason is data (persisted, shown by `cloudify inspect`): the wording of the
    /// reasons that were strings before the enum stays as it was.
    #[test]
    fn reasons_read_as_before() {
        let cases = [
            (E::ChunkBeyondEnd(vec![1, 2]), "chunk [1, 2] lies beyond the end of the file (truncated?)"),
            (E::DataBeyondEnd("record data"), "record data lies beyond the end of the file (truncated?)"),
            (E::Type("compound"), "compound variables are not supported yet"),
            (E::GridTooLarge, "chunk grid larger than 16777216 chunks is not served"),
            (E::FileTooManyChunks, "the file's arrays have more than 16777216 chunks in all"),
            (E::ChunksTooLarge(vec![4, 0]), "chunks [4, 0] are larger than served"),
            (E::CompactTooLarge(70000), "compact dataset claims 70000 bytes (HDF5 allows 64 KiB)"),
            (E::StringsTooLarge, "string variable larger than 16777216 bytes"),
            (
                E::NoDecoder("szip (id 4)".into()),
                "HDF5 filter szip (id 4) has no Zarr v2 codec and libhdf5 cannot decode it (no plugin)",
            ),
            (
                E::SkippedFilters { coords: vec![0], source: Box::new(E::from("chunk too large")) },
                "chunk [0] with skipped filters: chunk too large",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }
}
