//! Why an NcML file is not served: it cannot be read or parsed, it asks for something not
//! supported (named, never ignored), or a location it names is remote or outside the archive.

/// An NcML aggregation refused, with the reason.
#[derive(Debug, thiserror::Error)]
pub enum NcmlError {
    #[error("cannot be read: {0}")]
    Read(#[source] std::io::Error),
    #[error("larger than {0} bytes: not read")]
    TooLarge(u64),
    #[error("not XML: {0}")]
    Xml(#[source] roxmltree::Error),
    #[error("not an NcML document: {0}")]
    NotNcml(String),
    /// Something NcML can say that is not supported (yet): never served half-applied.
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("location {0:?} is remote: only files of the archive are served")]
    Remote(String),
    #[error("location {0:?} is outside the archive")]
    Outside(String),
    #[error("scan of {location:?}: regExp {pattern:?}: {source}")]
    Pattern {
        location: String,
        pattern: String,
        #[source]
        source: Box<regex::Error>,
    },
    #[error("scan of {location:?}: {source}")]
    Scan {
        location: String,
        #[source]
        source: std::io::Error,
    },
    #[error("member {member}: {source}")]
    Member {
        member: String,
        #[source]
        source: std::io::Error,
    },
    #[error("more than {0} members: not served")]
    TooMany(usize),
    #[error("no members (the locations and scans found no file)")]
    NoMembers,
}
