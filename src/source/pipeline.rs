//! An HDF5 filter pipeline and how its chunks can be served: as stored (shuffle and deflate,
//! which Zarr declares as codecs), decoded in Rust, or decoded by libhdf5.

use super::VariableError;
use crate::index::{Codec, SourceFilter};
use hdf5::filters::Filter as H5Filter;

/// How the chunks of a pipeline are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The stored bytes are valid Zarr chunks (shuffle → zlib, fletcher32 trailer cut off).
    ZeroCopy,
    /// Decoded in Rust (other filter orders, LZF), served uncompressed.
    Decode,
    /// Decoded by libhdf5 (szip, nbit, scaleoffset, plugins), served uncompressed.
    Library,
}

/// A stored HDF5 pipeline and the codecs its chunks carry when served as stored.
pub struct Pipeline {
    pub source: Vec<SourceFilter>,
    pub codecs: Vec<Codec>,
    pub mode: Mode,
}

/// h5py's LZF filter.
const H5Z_FILTER_LZF: i32 = 32000;

/// Map the HDF5 filter pipeline onto Zarr v2 codecs, or say why it cannot be served at all.
pub fn map_pipeline(filters: &[H5Filter], elementsize: usize) -> Result<Pipeline, VariableError> {
    let mut source = Vec::new();
    let mut library = false;
    for f in filters {
        source.push(match f {
            H5Filter::Shuffle => SourceFilter::Shuffle { elementsize },
            H5Filter::Deflate(level) => SourceFilter::Deflate { level: u32::from(*level) },
            H5Filter::Fletcher32 => SourceFilter::Fletcher32,
            H5Filter::User(H5Z_FILTER_LZF, _) => SourceFilter::Lzf,
            other => {
                let id = filter_id(other);
                if !filter_available(id) {
                    return Err(VariableError::NoDecoder(filter_name(other)));
                }
                library = true;
                continue;
            }
        });
    }
    let plain = |mode| Pipeline { source: vec![], codecs: vec![], mode };
    if library {
        return Ok(plain(Mode::Library));
    }
    // Zero-copy needs the order Zarr decodes in: [shuffle] [deflate] [fletcher32 trailer].
    let rank = |f: &SourceFilter| match f {
        SourceFilter::Shuffle { .. } => 0,
        SourceFilter::Deflate { .. } => 1,
        SourceFilter::Fletcher32 => 2,
        SourceFilter::Lzf => 9,
    };
    let ordered = source.windows(2).all(|w| rank(&w[0]) < rank(&w[1]));
    if !ordered || source.contains(&SourceFilter::Lzf) {
        return Ok(Pipeline { source, ..plain(Mode::Decode) });
    }
    // the fletcher32 trailer follows the zlib stream, which ends without it
    let codecs = source
        .iter()
        .filter_map(|f| match f {
            SourceFilter::Shuffle { elementsize } => {
                Some(Codec::Shuffle { elementsize: *elementsize })
            }
            SourceFilter::Deflate { level } => Some(Codec::Deflate { level: *level }),
            SourceFilter::Fletcher32 | SourceFilter::Lzf => None,
        })
        .collect();
    Ok(Pipeline { source, codecs, mode: Mode::ZeroCopy })
}

fn filter_id(f: &H5Filter) -> i32 {
    match f {
        H5Filter::Deflate(_) => 1,
        H5Filter::Shuffle => 2,
        H5Filter::Fletcher32 => 3,
        H5Filter::SZip(..) => 4,
        H5Filter::NBit => 5,
        H5Filter::ScaleOffset(..) => 6,
        H5Filter::User(id, _) => *id,
    }
}

fn filter_name(f: &H5Filter) -> String {
    match f {
        H5Filter::SZip(..) => "szip (id 4)".into(),
        H5Filter::NBit => "nbit (id 5)".into(),
        H5Filter::ScaleOffset(..) => "scaleoffset (id 6)".into(),
        H5Filter::User(id, _) => format!("id {id}"),
        other => format!("{other:?}"),
    }
}

/// Whether libhdf5 can decode filter `id` (built in, or a plugin it can load).
fn filter_available(id: i32) -> bool {
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: a query on a filter id.
    unsafe { hdf5_sys::h5z::H5Zfilter_avail(id) > 0 }
}
