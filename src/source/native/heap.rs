//! Fractal heaps: where dense link and attribute storage keeps its link and attribute messages.
//! Objects are found by heap ID (offset, length) in the heap's direct blocks. Read: a root
//! direct block, or a root indirect block whose rows are all direct blocks (room for hundreds
//! of KiB of messages, far more than any group's links or attributes), and "huge" objects
//! (an attribute over 4 KiB in dense storage) through their own v2 B-tree; nested indirect
//! blocks, filtered heaps and tiny objects are declined.
//! Reference: HDF5 File Format Specification 3.0, section III.G.

use super::btree2;
use super::bytes::{enc_size, le, Cursor, Source, UNDEFINED};
use super::checksum;
use crate::source::Declined;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// v2 B-tree record type of indirectly accessed, unfiltered huge objects.
const HUGE_OBJECTS: u8 = 1;

pub struct Heap {
    id_len: usize,
    /// Bytes of an offset (from the heap's maximum size in bits) and of a length in an ID.
    off_size: usize,
    len_size: usize,
    checksummed: bool,
    /// (heap offset, size, address) of every allocated direct block.
    blocks: Vec<(u64, u64, u64)>,
    loaded: HashMap<u64, Vec<u8>>,
    /// The v2 B-tree of objects too large for the heap's blocks ("huge" objects), and its
    /// records (ID → address, length) once read.
    huge_btree: u64,
    huge: Option<HashMap<u64, (u64, u64)>>,
}

impl Heap {
    /// Read the heap header at `addr` and locate its direct blocks.
    pub fn open(src: &Source<'_>, addr: u64) -> Result<Heap, Declined> {
        let h = src.read(addr, 146)?;
        checksum::verify(&h, "fractal heap header")?;
        let mut c = Cursor::new(&h);
        if c.take(4)? != b"FRHP" || c.u8()? != 0 {
            return Err("not a fractal heap".into());
        }
        let id_len = usize::from(c.u16()?);
        if c.u16()? != 0 {
            return Err("filtered fractal heap".into());
        }
        let flags = c.u8()?;
        let max_managed = u64::from(c.u32()?);
        c.skip(8)?; // next huge object ID
        let huge_btree = c.u64()?;
        c.skip(8 * 10)?; // free-space/managed/huge/tiny bookkeeping
        let width = u64::from(c.u16()?);
        let start = c.u64()?;
        let max_direct = c.u64()?;
        let max_heap_bits = usize::from(c.u16()?);
        let _start_rows = c.u16()?;
        let root = c.u64()?;
        let rows = u64::from(c.u16()?);
        let powers = start.is_power_of_two() && max_direct.is_power_of_two();
        if width == 0 || width > 1024 || !powers || max_direct < start {
            return Err("fractal heap with an odd doubling table".into());
        }
        let off_size = max_heap_bits.div_ceil(8);
        let len_size = enc_size(max_direct).min(enc_size(max_managed));
        let mut heap = Heap {
            id_len,
            off_size,
            len_size,
            checksummed: flags & 0x02 != 0,
            blocks: vec![],
            loaded: HashMap::new(),
            huge_btree,
            huge: None,
        };
        if root == UNDEFINED {
            return Ok(heap);
        }
        if rows == 0 {
            heap.blocks.push((0, start, root));
            return Ok(heap);
        }
        // rows of direct blocks: 0 and 1 of the starting size, then doubling up to max_direct
        let direct_rows = u64::from(max_direct.trailing_zeros() - start.trailing_zeros()) + 2;
        if rows > direct_rows {
            return Err("fractal heap with nested indirect blocks".into());
        }
        let block_len = 4 + 1 + 8 + off_size + (rows * width) as usize * 8;
        let ib = src.read(root, block_len as u64 + 4)?;
        checksum::verify(&ib, "fractal heap indirect block")?;
        let mut c = Cursor::new(&ib);
        if c.take(4)? != b"FHIB" {
            return Err("not a fractal heap indirect block".into());
        }
        c.skip(1 + 8 + off_size)?;
        let mut offset = 0u64;
        for row in 0..rows {
            let size = if row == 0 { start } else { start << (row - 1) };
            for _ in 0..width {
                let a = c.u64()?;
                if a != UNDEFINED {
                    heap.blocks.push((offset, size, a));
                }
                offset = offset.checked_add(size).ok_or("fractal heap too large")?;
            }
        }
        Ok(heap)
    }

    /// A "huge" object: stored on its own in the file, found through the heap's v2 B-tree of
    /// huge objects (type-1 records: address, length, ID) or, with long IDs, in the ID itself.
    fn huge_object(&mut self, src: &Source<'_>, id: &[u8]) -> Result<Vec<u8>, Declined> {
        let id = id.get(1..self.id_len).ok_or("short heap ID")?;
        let (addr, len) = if id.len() >= 16 {
            (le(&id[..8]), le(&id[8..16]))
        } else {
            if self.huge.is_none() {
                let mut table = HashMap::new();
                for r in btree2::records(src, self.huge_btree, HUGE_OBJECTS)? {
                    let mut c = Cursor::new(&r);
                    let (addr, len, key) = (c.u64()?, c.u64()?, c.u64()?);
                    table.insert(key, (addr, len));
                }
                self.huge = Some(table);
            }
            let table = self.huge.as_ref().ok_or("huge object table")?;
            *table.get(&le(id)).ok_or("huge heap object not in its B-tree")?
        };
        Ok(src.read(addr, len)?.into_owned())
    }

    /// The object a heap ID names.
    pub fn object(&mut self, src: &Source<'_>, id: &[u8]) -> Result<Vec<u8>, Declined> {
        if id.len() < self.id_len.min(1 + self.off_size + self.len_size) {
            return Err("short heap ID".into());
        }
        match id[0] & 0x30 {
            0x00 => {}
            0x10 => return self.huge_object(src, id),
            _ => return Err("tiny heap object".into()),
        }
        let off = le(id.get(1..1 + self.off_size).ok_or("short heap ID")?);
        let end_id = 1 + self.off_size + self.len_size;
        let len = le(id.get(1 + self.off_size..end_id).ok_or("short heap ID")?);
        let &(start, size, addr) = self
            .blocks
            .iter()
            .find(|(o, s, _)| off >= *o && off - o < *s)
            .ok_or("heap object outside the heap's blocks")?;
        let block: &[u8] = match self.loaded.entry(addr) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let mut block = src.read(addr, size)?.into_owned();
                if block.get(..4) != Some(b"FHDB".as_slice()) {
                    return Err("not a fractal heap direct block".into());
                }
                if self.checksummed {
                    // computed over the whole block with its checksum field zeroed
                    let at = 4 + 1 + 8 + self.off_size;
                    let field = block.get_mut(at..at + 4).ok_or("short direct block")?;
                    let stored = u32::from_le_bytes([field[0], field[1], field[2], field[3]]);
                    field.fill(0);
                    if checksum::lookup3(&block) != stored && !cfg!(fuzzing) {
                        return Err("fractal heap direct block: checksum mismatch".into());
                    }
                }
                e.insert(block)
            }
        };
        let header = 4 + 1 + 8 + self.off_size + if self.checksummed { 4 } else { 0 };
        let at = usize::try_from(off - start).map_err(|_| "offset overflow")?;
        if at < header {
            return Err("heap object inside a block header".into());
        }
        let end = at.checked_add(len as usize).ok_or("length overflow")?;
        let object = block.get(at..end).ok_or("heap object beyond its block")?;
        src.charge(object.len() as u64)?;
        Ok(object.to_vec())
    }
}
