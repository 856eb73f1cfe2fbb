//! An HDF5 filter pipeline and how its chunks can be served: as stored (shuffle, and one of
//! deflate, Blosc, zstd, bzip2: Zarr codecs whose bytes are HDF5's), decoded in Rust (LZF,
//! HDF5's LZ4 framing, Blosc2 frames, szip, filter orders Zarr cannot express), or decoded by
//! libhdf5 (nbit, scaleoffset, plugins, szip parameters the Rust decoder does not take).

use super::VariableError;
use crate::codec::SzipParams;
use crate::index::{BloscName, BloscShuffle, Codec, SourceFilter};
use hdf5::filters::Filter as H5Filter;
use tracing::info;

/// How the chunks of a pipeline are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The stored bytes are valid Zarr chunks (shuffle → zlib, fletcher32 trailer cut off).
    ZeroCopy,
    /// Decoded in Rust (other filter orders, LZF, LZ4, Blosc2, szip), served uncompressed.
    Decode,
    /// Decoded by libhdf5 (nbit, scaleoffset, plugins, szip without its full cd_values or
    /// with parameters the Rust decoder refuses), served uncompressed.
    Library,
}

/// A stored HDF5 pipeline and the codecs its chunks carry when served as stored.
pub struct Pipeline {
    pub source: Vec<SourceFilter>,
    pub codecs: Vec<Codec>,
    pub mode: Mode,
}

/// HDF5's szip filter, as `User(4, cd_values)` when the reader kept all its cd_values.
const H5Z_FILTER_SZIP: i32 = 4;
/// h5py's LZF filter.
const H5Z_FILTER_LZF: i32 = 32000;
/// The registered filters that are Zarr codecs, or decoded in Rust (LZ4).
const H5Z_FILTER_BZIP2: i32 = 307;
const H5Z_FILTER_BLOSC: i32 = 32001;
const H5Z_FILTER_LZ4: i32 = 32004;
const H5Z_FILTER_ZSTD: i32 = 32015;
const H5Z_FILTER_BLOSC2: i32 = 32026;

/// Map the HDF5 filter pipeline onto Zarr v2 codecs, or say why it cannot be served at all.
pub fn map_pipeline(filters: &[H5Filter], elementsize: usize) -> Result<Pipeline, VariableError> {
    let mut source = Vec::new();
    let mut compressors = Vec::new(); // the Zarr codec of each compressing filter
    let mut library = false;
    for f in filters {
        source.push(match f {
            H5Filter::Shuffle => SourceFilter::Shuffle { elementsize },
            H5Filter::Deflate(level) => {
                compressors.push(Codec::Deflate { level: u32::from(*level) });
                SourceFilter::Deflate { level: u32::from(*level) }
            }
            H5Filter::Fletcher32 => SourceFilter::Fletcher32,
            H5Filter::User(H5Z_FILTER_LZF, _) => SourceFilter::Lzf,
            H5Filter::User(H5Z_FILTER_LZ4, _) => SourceFilter::Lz4,
            H5Filter::User(H5Z_FILTER_BLOSC2, _) => SourceFilter::Blosc2,
            H5Filter::User(H5Z_FILTER_BLOSC, cd) => {
                compressors.push(blosc_codec(cd, elementsize));
                SourceFilter::Blosc
            }
            H5Filter::User(H5Z_FILTER_ZSTD, cd) => {
                // cd_values[0]: the level (a negative one as its two's complement)
                let level = cd.first().map_or(3, |l| *l as i32);
                compressors.push(Codec::Zstd { level });
                SourceFilter::Zstd
            }
            H5Filter::User(H5Z_FILTER_BZIP2, cd) => {
                let level = cd.first().copied().filter(|l| (1..=9).contains(l)).unwrap_or(9);
                compressors.push(Codec::Bzip2 { level });
                SourceFilter::Bzip2
            }
            H5Filter::User(H5Z_FILTER_SZIP, cd) => match SzipParams::from_cd_values(cd) {
                Ok(p) => SourceFilter::Szip(p),
                Err(why) => {
                    if !filter_available(H5Z_FILTER_SZIP) {
                        return Err(VariableError::NoDecoder(format!("szip (id 4): {why}")));
                    }
                    info!(cd_values = ?cd, why, "szip chunks decoded by libhdf5");
                    library = true;
                    continue;
                }
            },
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
    // Zero-copy needs the order Zarr decodes in: [shuffle] [one compressor] [fletcher32
    // trailer]; LZF, HDF5's LZ4 framing, Blosc2 frames and szip have no Zarr v2 codec.
    let rank = |f: &SourceFilter| match f {
        SourceFilter::Shuffle { .. } => 0,
        SourceFilter::Deflate { .. }
        | SourceFilter::Blosc
        | SourceFilter::Zstd
        | SourceFilter::Bzip2 => 1,
        SourceFilter::Fletcher32 => 2,
        SourceFilter::Lzf | SourceFilter::Lz4 | SourceFilter::Blosc2 | SourceFilter::Szip(_) => 9,
    };
    let ordered = source.windows(2).all(|w| rank(&w[0]) < rank(&w[1]));
    if !ordered || source.iter().any(|f| rank(f) == 9) {
        return Ok(Pipeline { source, ..plain(Mode::Decode) });
    }
    // the fletcher32 trailer follows the compressed stream, which ends without it (zlib, zstd
    // and bzip2 streams end themselves; a Blosc chunk's header gives its length)
    let mut codecs: Vec<Codec> = source
        .iter()
        .filter_map(|f| match f {
            SourceFilter::Shuffle { elementsize } => {
                Some(Codec::Shuffle { elementsize: *elementsize })
            }
            _ => None,
        })
        .collect();
    codecs.extend(compressors);
    Ok(Pipeline { source, codecs, mode: Mode::ZeroCopy })
}

/// The Zarr codec of an HDF5 Blosc filter, from its cd_values as the filter completes them:
/// [filter revision, Blosc version, format version, type size, chunk bytes, clevel, shuffle,
/// compressor code] (the settings after the chunk bytes are absent when the defaults apply).
fn blosc_codec(cd: &[u32], elementsize: usize) -> Codec {
    let typesize = cd.get(2).map_or(elementsize, |t| *t as usize);
    let shuffle = match cd.get(5) {
        Some(0) => BloscShuffle::None,
        Some(2) => BloscShuffle::Bit,
        _ => BloscShuffle::Byte,
    };
    Codec::Blosc {
        cname: cd.get(6).and_then(|c| BloscName::from_code(*c)).unwrap_or(BloscName::BloscLz),
        clevel: cd.get(4).copied().unwrap_or(5).min(9),
        shuffle,
        typesize,
    }
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
        H5Filter::SZip(..) | H5Filter::User(H5Z_FILTER_SZIP, _) => "szip (id 4)".into(),
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
