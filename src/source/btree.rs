//! Chunk addresses from the HDF5 file itself: the version-1 B-tree that NetCDF-4 files (and
//! most HDF5 files) index chunked datasets with. libhdf5 1.10's `H5Dget_chunk_info(i)` walks
//! the tree from the root for every `i`, so listing n chunks costs O(n²); this walks it once.
//!
//! Only the structures needed are read: superblock (sizes of offsets and lengths), the
//! dataset's object header (v1 or v2, with continuation blocks) up to its Data Layout message
//! (version 3, chunked), and the B-tree nodes (type 1). Anything else — other layout message
//! versions (v4: fixed/extensible arrays, v2 B-trees), 4-byte addresses, a malformed node —
//! returns `Ok(None)` or an error, and the caller falls back to libhdf5.
//! Reference: HDF5 File Format Specification version 3.0, sections II.A, III.A.1, IV.A.

use super::contiguous::MAX_GRID;
use super::VariableError;
use std::fs::File;
use std::os::unix::fs::FileExt;

/// One allocated chunk, as `H5Dget_chunk_info` reports it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChunkEntry {
    /// Element coordinates of the chunk's first element.
    pub offset: Vec<u64>,
    pub filter_mask: u32,
    /// Address relative to the superblock (add the user block for a file offset).
    pub addr: u64,
    pub size: u64,
}

const UNDEFINED: u64 = u64::MAX;
/// No real file has more B-tree nodes than this; a cycle would.
const MAX_NODES: usize = 10_000_000;

struct Reader<'a> {
    file: &'a File,
    base: u64,
    len: u64,
}

impl Reader<'_> {
    fn read(&self, addr: u64, n: usize) -> Result<Vec<u8>, VariableError> {
        let at = self.base.checked_add(addr).ok_or("address overflow")?;
        if at.checked_add(n as u64).is_none_or(|end| end > self.len) {
            let what = format!("structure at {addr} beyond the end of the file");
            return Err(VariableError::Unsupported(what));
        }
        let mut buf = vec![0u8; n];
        self.file.read_exact_at(&mut buf, at)?;
        Ok(buf)
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn uint_at(b: &[u8], at: usize, width: usize) -> Option<u64> {
    let bytes = b.get(at..at + width)?;
    Some(bytes.iter().rev().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)))
}

/// Address of the dataset's object header (relative to the superblock).
pub fn header_addr(ds: &hdf5::Dataset) -> Option<u64> {
    let _guard = hdf5_sys::LOCK.lock();
    let mut info = std::mem::MaybeUninit::<hdf5_sys::h5o::H5O_info1_t>::zeroed();
    // SAFETY: H5Oget_info2 fills the basic fields (addr among them) on success.
    let status = unsafe {
        hdf5_sys::h5o::H5Oget_info2(ds.id(), info.as_mut_ptr(), hdf5_sys::h5o::H5O_INFO_BASIC)
    };
    // SAFETY: zero-initialised, and filled by the call when it succeeded.
    (status >= 0).then(|| unsafe { info.assume_init() }.addr)
}

/// Chunk entries through libhdf5: the fallback, and the oracle of the tests.
pub fn library_entries(ds: &hdf5::Dataset) -> Result<Vec<ChunkEntry>, VariableError> {
    (0..ds.num_chunks().unwrap_or(0))
        .map(|i| {
            let no_info = || VariableError::Unsupported(format!("chunk {i}: no chunk info"));
            let info = ds.chunk_info(i).ok_or_else(no_info)?;
            Ok(ChunkEntry {
                offset: info.offset,
                filter_mask: info.filter_mask,
                addr: info.addr,
                size: info.size,
            })
        })
        .collect()
}

/// Chunk entries of the dataset whose object header is at `header_addr`, or `Ok(None)` when
/// its chunks are not indexed by a version-1 B-tree this reader understands.
pub fn read_chunk_index(
    file: &File,
    base: u64,
    header_addr: u64,
    rank: usize,
) -> Result<Option<Vec<ChunkEntry>>, VariableError> {
    let len = file.metadata()?.len();
    let r = Reader { file, base, len };
    let sb = r.read(0, 16)?;
    let (offsets, lengths) = match sb.get(8) {
        Some(0) | Some(1) => (sb[13], sb[14]),
        Some(2) | Some(3) => (sb[9], sb[10]),
        _ => return Ok(None),
    };
    if offsets != 8 || lengths != 8 {
        return Ok(None);
    }
    let Some(layout) = find_layout_message(&r, header_addr)? else { return Ok(None) };
    // Data Layout message version 3, class 2 (chunked): dimensionality, B-tree address.
    if layout.first() != Some(&3) || layout.get(1) != Some(&2) {
        return Ok(None);
    }
    let dims = usize::from(*layout.get(2).ok_or("short layout message")?);
    if dims != rank + 1 {
        let what = format!("layout has {dims} dimensions for rank {rank}");
        return Err(VariableError::Unsupported(what));
    }
    let root = u64_at(&layout, 3).ok_or("short layout message")?;
    if root == UNDEFINED {
        return Ok(Some(vec![])); // nothing written yet
    }
    walk_btree(&r, root, dims).map(Some)
}

/// The body of the dataset's Data Layout message (type 8), following continuation blocks.
fn find_layout_message(r: &Reader<'_>, header_addr: u64) -> Result<Option<Vec<u8>>, VariableError> {
    let head = r.read(header_addr, 16)?;
    // blocks still to scan: (address, length, v2?)
    let mut blocks: Vec<(u64, u64, bool)> = Vec::new();
    let v2 = head.starts_with(b"OHDR");
    let mut creation_order = false;
    if v2 {
        let flags = head[5];
        creation_order = flags & 0x04 != 0;
        let mut at =
            6 + if flags & 0x20 != 0 { 16 } else { 0 } + if flags & 0x10 != 0 { 4 } else { 0 };
        let width = 1usize << (flags & 0x03);
        let prefix = r.read(header_addr, at + width)?;
        let size = uint_at(&prefix, at, width).ok_or("short header")?;
        at += width;
        blocks.push((header_addr + at as u64, size, true));
    } else if head[0] == 1 {
        let size = u64::from(u32_at(&head, 8).ok_or("short header")?);
        blocks.push((header_addr + 16, size, false));
    } else {
        return Ok(None);
    }
    let mut seen = 0;
    while let Some((addr, size, is_v2)) = blocks.pop() {
        seen += 1;
        if seen > 1000 || size > 64 << 20 {
            return Err("object header too large or cyclic".into());
        }
        let block = r.read(addr, size as usize)?;
        let mut at = 0usize;
        let hdr = if is_v2 { 4 + usize::from(creation_order) * 2 } else { 8 };
        while at + hdr <= block.len() {
            let (mtype, msize) = if is_v2 {
                (u16::from(block[at]), usize::from(u16_at(&block, at + 1).ok_or("short")?))
            } else {
                (
                    u16_at(&block, at).ok_or("short")?,
                    usize::from(u16_at(&block, at + 2).ok_or("short")?),
                )
            };
            let body = block.get(at + hdr..at + hdr + msize).ok_or("message beyond its block")?;
            match mtype {
                0x0008 => return Ok(Some(body.to_vec())),
                0x0010 => {
                    let (caddr, clen) =
                        (u64_at(body, 0).ok_or("short")?, u64_at(body, 8).ok_or("short")?);
                    if is_v2 {
                        // "OCHK" signature first, checksum last
                        blocks.push((caddr + 4, clen.saturating_sub(8), true));
                    } else {
                        blocks.push((caddr, clen, false));
                    }
                }
                _ => {}
            }
            at += hdr + msize;
        }
    }
    Ok(None)
}

/// All chunk entries of the chunk B-tree rooted at `root` (`dims`: the layout's dimensionality,
/// the dataset's rank + 1) in a file of length `len` whose superblock is at `base`.
pub fn walk_chunk_btree(
    file: &File,
    base: u64,
    len: u64,
    root: u64,
    dims: usize,
) -> Result<Vec<ChunkEntry>, VariableError> {
    walk_btree(&Reader { file, base, len }, root, dims)
}

/// All leaf entries of a type-1 (raw data chunk) v1 B-tree.
fn walk_btree(r: &Reader<'_>, root: u64, dims: usize) -> Result<Vec<ChunkEntry>, VariableError> {
    let key_size = 8 + 8 * dims;
    let mut out = Vec::new();
    let mut stack = vec![(root, None::<u8>)];
    let mut visited = std::collections::HashSet::new();
    while let Some((addr, expect_level)) = stack.pop() {
        // each node once: a node shared by two parents would repeat its entries
        if !visited.insert(addr) || visited.len() > MAX_NODES {
            return Err("B-tree too large, cyclic, or with shared nodes".into());
        }
        let head = r.read(addr, 24)?;
        if &head[..4] != b"TREE" || head[4] != 1 {
            return Err(VariableError::Unsupported(format!("not a chunk B-tree node at {addr}")));
        }
        let level = head[5];
        if expect_level.is_some_and(|l| l != level) {
            let what = format!("B-tree node at {addr} has level {level}");
            return Err(VariableError::Unsupported(what));
        }
        let entries = usize::from(u16_at(&head, 6).ok_or("short node")?);
        let body = r.read(addr + 24, entries * (key_size + 8) + key_size)?;
        for e in 0..entries {
            let key = &body[e * (key_size + 8)..];
            let child = u64_at(key, key_size).ok_or("short node")?;
            if level > 0 {
                stack.push((child, Some(level - 1)));
                continue;
            }
            let size = u64::from(u32_at(key, 0).ok_or("short key")?);
            let filter_mask = u32_at(key, 4).ok_or("short key")?;
            let offset: Vec<u64> = (0..dims - 1)
                .map(|d| u64_at(key, 8 + 8 * d))
                .collect::<Option<_>>()
                .ok_or("short key")?;
            out.push(ChunkEntry { offset, filter_mask, addr: child, size });
            if out.len() as u64 > MAX_GRID {
                return Err(VariableError::Unsupported(format!("more than {MAX_GRID} chunks")));
            }
        }
    }
    out.sort();
    Ok(out)
}
