//! Zero-copy shards (`sharding_indexed`): an array's chunks, as the view serves them, grouped
//! in blocks of up to `shard_bytes` (uncompressed); a shard file is its inner chunks' bytes
//! concatenated in row-major order within the shard (each read as the chunk file would be:
//! a `pread` of the source for a stored chunk), followed by the index zarr reads first: per
//! inner chunk `(offset, nbytes)` as little-endian u64 (`2^64-1` twice for a chunk that is
//! not there) and the index's CRC-32C. The index is made from the chunk references' sizes
//! alone, so a shard's size is exact before any read and reading the index reads no source.

use crate::codec::crc32c;
use crate::index::{ArrayNode, ChunkRef};
use crate::zarr::chunk::{within, Bytes, Recycled};
use std::ops::Range;

/// Bytes of an index entry, and of the index's checksum.
const ENTRY: u64 = 16;
const CHECKSUM: u64 = 4;
const MISSING: u64 = u64::MAX;

/// How an array's chunks are grouped into shards.
#[derive(Debug)]
pub struct Sharding {
    /// Inner chunks per shard along each dimension.
    pub per_shard: Vec<u64>,
    /// Shards along each dimension.
    pub grid: Vec<u64>,
    /// Per shard (row-major): the end of each inner chunk's bytes in the shard, in shard
    /// order (a missing chunk ends where the one before it does); empty when no inner chunk
    /// is there (no shard file).
    ends: Vec<Box<[u64]>>,
}

impl Sharding {
    /// The shards of `array` for shards of up to `shard_bytes` (0: none), or `None` when the
    /// array is not sharded (0-d arrays are not, nor opaque ones: zarr-python 3.1 fails to
    /// read a sharded `raw_bytes` array, hashing its fill value).
    pub fn plan(array: &ArrayNode, shard_bytes: u64) -> Option<Sharding> {
        let opaque = array.dtype.kind == crate::index::ElementKind::Opaque;
        if shard_bytes == 0 || array.shape.is_empty() || opaque {
            return None;
        }
        let chunk_grid = array.grid();
        // whole rows first: the trailing dimensions are filled before the leading ones grow
        let mut room = (shard_bytes / array.chunk_nbytes().max(1)).max(1);
        let mut per_shard = vec![1u64; chunk_grid.len()];
        for (d, g) in chunk_grid.iter().enumerate().rev() {
            let take = room.min((*g).max(1));
            per_shard[d] = take;
            room /= take;
            if take < (*g).max(1) {
                break;
            }
        }
        let grid: Vec<u64> =
            chunk_grid.iter().zip(&per_shard).map(|(g, p)| g.div_ceil(*p)).collect();
        let mut sharding = Sharding { per_shard, grid, ends: Vec::new() };
        let shards: u64 = sharding.grid.iter().product();
        sharding.ends = (0..shards as usize)
            .map(|s| {
                let refs: Vec<Option<&ChunkRef>> = sharding.inner(array, s).collect();
                if refs.iter().all(Option::is_none) {
                    return Box::default();
                }
                let mut end = 0;
                refs.iter()
                    .map(|r| {
                        end += r.map_or(0, ChunkRef::size);
                        end
                    })
                    .collect()
            })
            .collect();
        Some(sharding)
    }

    /// The shard shape in elements (the array's chunk grid in v3 metadata).
    pub fn shard_shape(&self, array: &ArrayNode) -> Vec<u64> {
        self.per_shard.iter().zip(&array.chunks).map(|(p, c)| p * c).collect()
    }

    fn inner_count(&self) -> usize {
        self.per_shard.iter().product::<u64>() as usize
    }

    /// True when a shard in the row-major range `shards` has a file.
    pub fn present(&self, shards: Range<usize>) -> bool {
        let n = self.ends.len();
        self.ends[shards.start.min(n)..shards.end.min(n)].iter().any(|e| !e.is_empty())
    }

    /// Whether shard `shard` has a file.
    pub fn exists(&self, shard: usize) -> bool {
        self.ends.get(shard).is_some_and(|e| !e.is_empty())
    }

    /// Exact size of the shard file.
    pub fn size(&self, shard: usize) -> u64 {
        self.data_len(shard) + self.index_len()
    }

    fn data_len(&self, shard: usize) -> u64 {
        self.ends.get(shard).and_then(|e| e.last()).copied().unwrap_or(0)
    }

    fn index_len(&self) -> u64 {
        self.inner_count() as u64 * ENTRY + CHECKSUM
    }

    /// Heap bytes held (the dataset cache's weight).
    pub fn heap_bytes(&self) -> u64 {
        let ends: usize = self.ends.iter().map(|e| e.len() * 8 + 16).sum();
        ends as u64
    }

    /// The grid coordinates of the first inner chunk of shard `shard`.
    fn origin(&self, shard: usize) -> Vec<u64> {
        let mut rest = shard as u64;
        let mut origin = vec![0u64; self.grid.len()];
        for (o, (g, p)) in origin.iter_mut().zip(self.grid.iter().zip(&self.per_shard)).rev() {
            *o = (rest % g.max(&1)) * p;
            rest /= g.max(&1);
        }
        origin
    }

    /// The row-major position in an array of chunk grid `grid` of the `local`-th inner chunk
    /// (in shard order) of the shard starting at `origin`; `None` past the grid.
    fn inner_position(&self, grid: &[u64], origin: &[u64], mut local: u64) -> Option<usize> {
        let (mut pos, mut stride) = (0u64, 1u64);
        for d in (0..grid.len()).rev() {
            let p = self.per_shard[d].max(1);
            let c = origin[d] + local % p;
            local /= p;
            if c >= grid[d] {
                return None;
            }
            pos = pos.checked_add(c.checked_mul(stride)?)?;
            stride = stride.checked_mul(grid[d])?;
        }
        usize::try_from(pos).ok()
    }

    /// The row-major position in the array of each inner chunk of shard `shard`, in shard
    /// order (`None` past the array's grid).
    fn positions<'a>(
        &'a self,
        array: &'a ArrayNode,
        shard: usize,
    ) -> impl Iterator<Item = Option<usize>> + 'a {
        let (grid, origin) = (array.grid(), self.origin(shard));
        (0..self.inner_count() as u64).map(move |l| self.inner_position(&grid, &origin, l))
    }

    /// The chunk reference of each inner chunk of `shard`, in shard order.
    fn inner<'a>(
        &'a self,
        array: &'a ArrayNode,
        shard: usize,
    ) -> impl Iterator<Item = Option<&'a ChunkRef>> + 'a {
        self.positions(array, shard).map(|p| array.chunk_refs.get(p?)?.as_ref())
    }

    /// The shard's index as stored at its end (entries and checksum).
    pub fn index_bytes(&self, array: &ArrayNode, shard: usize) -> Vec<u8> {
        let ends = self.ends.get(shard).map_or(&[][..], |e| &e[..]);
        let mut out = Vec::with_capacity(self.index_len() as usize);
        let mut start = 0;
        for (i, r) in self.inner(array, shard).enumerate() {
            let end = ends.get(i).copied().unwrap_or(start);
            let (offset, nbytes) =
                if r.is_some() { (start, end - start) } else { (MISSING, MISSING) };
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&nbytes.to_le_bytes());
            start = end;
        }
        let crc = crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Up to `want` bytes at `offset` of shard `shard`, the inner chunks' parts read by
    /// `chunks`: a read inside one chunk is that chunk's bytes ([`InnerChunks::bytes`], no
    /// copy: a window on a cached chunk stays one); a read across chunks or into the index is
    /// assembled in one buffer of the thread's pool, each part read straight into its place
    /// ([`InnerChunks::bytes_into`]: a `pread` of the source for a stored chunk), the index
    /// made here.
    pub fn read<C: InnerChunks>(
        &self,
        array: &ArrayNode,
        shard: usize,
        offset: u64,
        want: usize,
        chunks: &C,
    ) -> Result<Bytes, C::Error> {
        let size = self.size(shard);
        let end = offset.saturating_add(want as u64).min(size);
        if offset >= end {
            return Ok(Bytes::Owned(Vec::new()));
        }
        let data_len = self.data_len(shard);
        let ends = self.ends.get(shard).map_or(&[][..], |e| &e[..]);
        let (grid, origin) = (array.grid(), self.origin(shard));
        // the inner chunk `i` (in shard order) with its start in the shard, when it is there
        let inner = |i: usize| {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            let pos = self.inner_position(&grid, &origin, i as u64)?;
            let chunk = array.chunk_refs.get(pos)?.as_ref()?;
            (ends[i] > start).then_some((pos, chunk, start))
        };
        let first = ends.partition_point(|e| *e <= offset);
        if end <= data_len && end <= ends[first] {
            if let Some((pos, chunk, start)) = inner(first) {
                return chunks.bytes(pos, chunk, offset - start, (end - offset) as usize);
            }
        }
        let mut buf = Recycled::with_len((end - offset) as usize);
        let out = buf.as_mut_slice();
        let mut filled = 0usize;
        for (i, &chunk_end) in ends.iter().enumerate().skip(first) {
            let at = offset + filled as u64;
            if at >= end.min(data_len) {
                break;
            }
            let Some((pos, chunk, start)) = inner(i) else { continue };
            let n = (end.min(chunk_end) - at) as usize;
            let got = chunks.bytes_into(pos, chunk, at - start, &mut out[filled..filled + n])?;
            filled += got;
            if got < n {
                // a chunk shorter than indexed: what was read, nothing after it
                buf.truncate(filled);
                return Ok(Bytes::Read(buf));
            }
        }
        let at = offset + filled as u64;
        if end > data_len && at >= data_len {
            let index = self.index_bytes(array, shard);
            let part = &index[within(index.len(), at - data_len, (end - at) as usize)];
            out[filled..filled + part.len()].copy_from_slice(part);
            filled += part.len();
        }
        buf.truncate(filled);
        Ok(Bytes::Read(buf))
    }
}

/// How a shard read gets its inner chunks' bytes (the vfs passes the chunk read a chunk file
/// uses).
pub trait InnerChunks {
    type Error;

    /// Up to `want` bytes at `offset` of inner chunk `pos` (`chunk` its reference).
    fn bytes(
        &self,
        pos: usize,
        chunk: &ChunkRef,
        offset: u64,
        want: usize,
    ) -> Result<Bytes, Self::Error>;

    /// The bytes at `offset` of inner chunk `pos` written to `dst`: how many (fewer only at
    /// the chunk's end). By default a copy of [`InnerChunks::bytes`].
    fn bytes_into(
        &self,
        pos: usize,
        chunk: &ChunkRef,
        offset: u64,
        dst: &mut [u8],
    ) -> Result<usize, Self::Error> {
        let bytes = self.bytes(pos, chunk, offset, dst.len())?;
        dst[..bytes.len()].copy_from_slice(&bytes);
        Ok(bytes.len())
    }
}

#[cfg(test)]
#[path = "shard_tests.rs"]
mod tests;
