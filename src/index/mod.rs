//! The neutral, serialisable index of one dataset: the facts of the stored data and nothing
//! of how a Zarr version spells them.
//!
//! Element types ([`Dtype`]), the filter pipeline of the stored chunks and of the chunks served
//! (HDF5 filter facts, [`SourceFilter`]), fill values and attributes as typed values
//! ([`AttrValue`]), dimensions, and one [`ChunkRef`] per chunk. Built by `source` from a
//! NetCDF/HDF5 file, spelled as Zarr by `zarr` (`zarr::v2`). It is a plain value (serde), so it
//! is persisted and produced in a child process.

mod attr;
mod chunk_ref;
mod codecs;
mod compound;
mod dtype;
mod unpacking;

pub use crate::codec::SourceFilter;
pub use attr::AttrValue;
pub use chunk_ref::ChunkRef;
pub use codecs::{encode, BloscName, BloscShuffle, Codec};
pub use compound::{cut_at_first_nul, Compound, Field};
pub use dtype::{Dtype, ElementKind};
pub use unpacking::Unpacking;

use serde::{Deserialize, Serialize};

/// Ordered attributes of a group or an array.
pub type Attrs = Vec<(String, AttrValue)>;

/// Index of one source file: its root group (NetCDF-4 groups nest below).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetIndex {
    /// Format as detected, e.g. "netCDF-4/HDF5".
    pub format: String,
    pub root: GroupNode,
}

/// A group: attributes, arrays, sub-groups, and the variables that could not be presented.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupNode {
    /// The group's name (empty for the root).
    pub name: String,
    pub attrs: Attrs,
    /// Dimensions defined in this group: (netCDF name, length).
    pub dimensions: Vec<(String, u64)>,
    pub arrays: Vec<ArrayNode>,
    pub groups: Vec<GroupNode>,
    pub skipped: Vec<Skipped>,
}

/// A variable left out of the Zarr view, with the reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// How the chunk bytes of an array are produced, for `cloudify inspect` and the docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StorageKind {
    /// HDF5 chunks served as stored (pread).
    ChunkedPassThrough,
    /// HDF5 chunks whose pipeline Zarr cannot express: decoded, served uncompressed.
    ChunkedDecoded,
    /// HDF5 chunks with a filter only libhdf5 (or a plugin) decodes: read through the library.
    ChunkedLibrary,
    /// A contiguous dataset split into byte ranges of the source.
    ContiguousPassThrough,
    /// A compact dataset: one chunk generated from the bytes in the object header.
    Compact,
    /// Never written: every chunk is the fill value.
    Unallocated,
    /// Variable-length strings, read when indexing and held in the index.
    Strings,
    /// A collection's variable in chunks assembled from its members' chunks.
    Joined,
    /// An N-bit type (fewer bits than its bytes, or at an offset): every chunk read through
    /// libhdf5, which converts the values to the served full-width type.
    Converted,
    /// A member of a compound variable, or the variable as a structured array: every chunk
    /// cut from the stored compound chunk ([`ArrayNode::compound`]), served uncompressed.
    Compound,
    /// A variable-length sequence variable as a CF contiguous ragged array (its values, or
    /// the lengths of its sequences): read when indexing and held in the index.
    Ragged,
}

/// One array (NetCDF variable / HDF5 dataset).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArrayNode {
    /// The variable's name in its group (netCDF/HDF5 name; a Zarr view makes a key of it).
    pub name: String,
    /// Element type and byte order of the chunks served.
    pub dtype: Dtype,
    pub shape: Vec<u64>,
    pub chunks: Vec<u64>,
    pub dims: Vec<String>,
    /// The `_FillValue` attribute (kept apart from `attrs`: Zarr declares it as the array's
    /// fill value where it can).
    pub fill_value: Option<AttrValue>,
    pub attrs: Attrs,
    /// Filters the served chunk bytes carry, in pipeline (write) order (empty: uncompressed).
    /// Strings (`Dtype::UTF8`) are encoded as vlen-utf8 besides.
    pub codecs: Vec<Codec>,
    pub storage: StorageKind,
    /// HDF5 filter pipeline as stored, needed to decode chunks whose filter mask is not 0.
    pub source_filters: Vec<SourceFilter>,
    /// One element of the value the source library returns for unwritten data, in `dtype` order.
    pub fill_element: Vec<u8>,
    /// One entry per chunk of the grid, row-major; `None` = no chunk file.
    pub chunk_refs: Vec<Option<ChunkRef>>,
    /// The encoded chunk used by [`ChunkRef::Fill`], when some chunk needs it.
    pub fill_chunk: Option<Vec<u8>>,
    /// HDF5 path of the dataset, when chunks are read through libhdf5 ([`ChunkRef::Library`]).
    pub library_path: Option<String>,
    /// Which file of the dataset each chunk's bytes come from.
    pub files: ChunkFiles,
    /// For [`ChunkRef::Joined`] chunks: the members' arrays they are assembled from.
    pub joined: Option<Box<JoinedParts>>,
    /// The shape of the stored chunks when the served `chunks` are smaller: a stored chunk
    /// larger than the array is served cropped to it (`zarr::crop`), so a stored chunk is
    /// decoded in this shape and then cropped. A fact of a view, never stored.
    #[serde(skip)]
    pub stored_chunks: Option<Vec<u64>>,
    /// For [`StorageKind::Compound`] arrays: the stored compound dataset and the members taken.
    pub compound: Option<Box<Compound>>,
    /// `--unpack`: this array serves CF-unpacked values ([`ChunkRef::Unpacked`] chunks) made
    /// from the packed array it holds. A fact of a view, never stored.
    #[serde(skip)]
    pub unpacking: Option<Box<Unpacking>>,
}

/// Members' arrays joined along a dimension into one whose chunks are generated on a regular
/// grid (a collection's variable whose members' chunks cannot pass through as they are).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JoinedParts {
    /// The dimension joined along.
    pub dim: usize,
    /// Where member `i` starts along `dim`, in elements.
    pub starts: Vec<u64>,
    /// Member `i`'s array as decoded chunks (uncompressed), with the same chunk shape as the
    /// joined array but along `dim`.
    pub arrays: Vec<ArrayNode>,
    /// The dataset's number of the member `arrays[i]` is read from.
    pub members: Vec<u32>,
    /// Members packed differently: member `i`'s values unpacked into the joined array's
    /// type (float64); empty when the members' values are copied as they are.
    pub unpack: Vec<Unpack>,
}

/// How one member's packed values become the joined array's: a stored value equal to one of
/// `missing` is NaN, any other `raw * scale + offset` (as CF and xarray decode them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unpack {
    pub scale: f64,
    pub offset: f64,
    pub missing: Vec<f64>,
}

/// Which file a chunk's bytes are read from: the dataset's own file, or, in a dataset made of
/// several files (a collection), the member a chunk reference names. Members are numbered
/// by the dataset; a reference's offsets are offsets in its member.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChunkFiles {
    /// The one file of the dataset (member 0).
    #[default]
    Own,
    /// Every chunk from member `m`.
    Member(u32),
    /// Joined along dimension `dim`: member `i` holds the chunks whose coordinate along `dim`
    /// is at least `starts[i]` (and less than `starts[i + 1]`); `members[i]` names it.
    AlongDim { dim: usize, starts: Vec<u64>, members: Vec<u32> },
}

impl ChunkFiles {
    /// The member holding the chunk at grid coordinates `coords`.
    pub fn member(&self, coords: impl Fn(usize) -> u64) -> u32 {
        match self {
            ChunkFiles::Own => 0,
            ChunkFiles::Member(m) => *m,
            ChunkFiles::AlongDim { dim, starts, members } => {
                let c = coords(*dim);
                let i = starts.partition_point(|s| *s <= c).saturating_sub(1);
                members.get(i).copied().unwrap_or(0)
            }
        }
    }
}

impl ArrayNode {
    /// An array whose storage is not placed yet: one chunk over the whole shape, no codecs,
    /// no chunk files, a zero fill element.
    pub fn unplaced(
        name: String,
        dtype: Dtype,
        shape: Vec<u64>,
        dims: Vec<String>,
        fill_value: Option<AttrValue>,
        attrs: Attrs,
    ) -> ArrayNode {
        ArrayNode {
            name,
            dtype,
            chunks: shape.iter().map(|s| (*s).max(1)).collect(),
            shape,
            dims,
            fill_value,
            attrs,
            codecs: vec![],
            storage: StorageKind::Unallocated,
            source_filters: vec![],
            fill_element: vec![0; dtype.size],
            chunk_refs: vec![],
            fill_chunk: None,
            library_path: None,
            files: ChunkFiles::Own,
            joined: None,
            stored_chunks: None,
            compound: None,
            unpacking: None,
        }
    }

    /// The member file holding the chunk at row-major position `pos`.
    pub fn member_of(&self, pos: usize) -> u32 {
        match &self.files {
            ChunkFiles::Own => 0,
            ChunkFiles::Member(m) => *m,
            along @ ChunkFiles::AlongDim { dim, .. } => {
                let (mut inner, mut along_dim) = (1u64, 1u64);
                for (i, g) in self.grid_iter().enumerate() {
                    match i.cmp(dim) {
                        std::cmp::Ordering::Greater => inner *= g.max(1),
                        std::cmp::Ordering::Equal => along_dim = g.max(1),
                        std::cmp::Ordering::Less => {}
                    }
                }
                let c = (pos as u64 / inner) % along_dim;
                along.member(|_| c)
            }
        }
    }

    /// Roughly the heap memory of the chunk references (what makes an index of many chunks
    /// big; attributes and names are small beside them).
    pub fn chunk_bytes(&self) -> u64 {
        let slot = std::mem::size_of::<Option<ChunkRef>>();
        let extra = |c: &ChunkRef| match c {
            ChunkRef::Merged { parts, .. } => parts.capacity() * slot,
            ChunkRef::Inline { bytes } => bytes.capacity(),
            _ => 0,
        };
        let own: usize = self.chunk_refs.iter().flatten().map(extra).sum();
        let fill = self.fill_chunk.as_ref().map_or(0, Vec::capacity);
        let parts =
            self.joined.as_ref().map_or(0, |j| j.arrays.iter().map(ArrayNode::chunk_bytes).sum());
        let stored = self.compound.as_ref().map_or(0, |c| c.stored.chunk_bytes());
        let packed = self.unpacking.as_ref().map_or(0, |u| u.packed.chunk_bytes());
        (self.chunk_refs.capacity() * slot + own + fill) as u64 + parts + stored + packed
    }

    /// Number of chunks along each dimension.
    pub fn grid(&self) -> Vec<u64> {
        self.grid_iter().collect()
    }

    /// [`ArrayNode::grid`] without the vector.
    pub fn grid_iter(&self) -> impl ExactSizeIterator<Item = u64> + '_ {
        self.shape.iter().zip(&self.chunks).map(|(s, c)| s.div_ceil((*c).max(1)))
    }

    /// True when `fill_value` is one value of the element type (what Zarr can declare as the
    /// array's fill value), not a list, a string or a number the type cannot hold.
    pub fn fill_is_one_value(&self) -> bool {
        let Some(fill) = &self.fill_value else {
            return false;
        };
        let scalar = fill.len() == 1 && !matches!(fill, AttrValue::Str(_) | AttrValue::Strs(_));
        scalar && self.dtype.is_number() && self.dtype.encode(fill).is_some()
    }

    /// The stored values CF says are missing: `_FillValue` and every `missing_value`.
    pub fn missing_values(&self) -> Vec<f64> {
        let mut out: Vec<f64> = self.fill_value.iter().filter_map(AttrValue::as_f64).collect();
        out.extend(self.missing_value_attr());
        out
    }

    /// The values of the `missing_value` attribute.
    pub fn missing_value_attr(&self) -> Vec<f64> {
        let missing = self.attrs.iter().find(|(k, _)| k == "missing_value");
        match missing.map(|(_, v)| v.widened()).as_deref() {
            Some(AttrValue::Floats(v)) => v.clone(),
            Some(AttrValue::Ints(v)) => v.iter().map(|x| *x as f64).collect(),
            Some(AttrValue::UInts(v)) => v.iter().map(|x| *x as f64).collect(),
            Some(v) => v.as_f64().into_iter().collect(),
            None => vec![],
        }
    }

    /// Size in bytes of one element.
    pub fn element_size(&self) -> usize {
        self.fill_element.len()
    }

    /// Uncompressed size of one full chunk in bytes.
    pub fn chunk_nbytes(&self) -> u64 {
        self.chunks.iter().product::<u64>() * self.element_size() as u64
    }

    /// Uncompressed size of one stored chunk in bytes (see `stored_chunks`).
    pub fn stored_chunk_nbytes(&self) -> u64 {
        let shape = self.stored_chunks.as_ref().unwrap_or(&self.chunks);
        shape.iter().product::<u64>() * self.element_size() as u64
    }

    /// Row-major position of chunk `coords` in `chunk_refs`, if inside the grid.
    pub fn chunk_position(&self, coords: &[u64]) -> Option<usize> {
        row_major(coords.iter().map(|c| Some(*c)), self.grid_iter())
    }

    /// Grid coordinates of the chunk at row-major position `pos`.
    pub fn chunk_coords(&self, mut pos: u64) -> Vec<u64> {
        let grid = self.grid();
        let mut coords = vec![0; grid.len()];
        for (c, g) in coords.iter_mut().zip(&grid).rev() {
            *c = pos % g.max(&1);
            pos /= g.max(&1);
        }
        coords
    }
}

/// Row-major position of the coordinates `coords` gives (`None` for one it could not read) in
/// a grid of `grid` chunks per dimension: `None` unless there is exactly one coordinate per
/// dimension, each inside the grid.
pub fn row_major(
    mut coords: impl Iterator<Item = Option<u64>>,
    grid: impl ExactSizeIterator<Item = u64>,
) -> Option<usize> {
    let mut pos: u64 = 0;
    for g in grid {
        let c = coords.next()??;
        if c >= g {
            return None;
        }
        pos = pos.checked_mul(g)?.checked_add(c)?;
    }
    match coords.next() {
        Some(_) => None,
        None => usize::try_from(pos).ok(),
    }
}
