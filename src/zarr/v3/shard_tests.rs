//! Shards of a small array: bytes, index, windows, and an index read that reads no chunk.

use super::*;
use crate::index::{Dtype, ElementKind};
use crate::zarr::chunk::ChunkError;

/// A 1-D uint8 array of 5 chunks of 2 (chunk 3 missing), chunk i holding i+1 bytes.
fn array() -> ArrayNode {
    let mut a = ArrayNode::unplaced(
        "x".into(),
        Dtype::le(ElementKind::UInt, 1),
        vec![10],
        vec!["x".into()],
        None,
        vec![],
    );
    a.chunks = vec![2];
    a.chunk_refs = (0..5u8)
        .map(|i| (i != 3).then(|| ChunkRef::Inline { bytes: vec![i; i as usize + 1] }))
        .collect();
    a
}

fn inline(chunk: &ChunkRef, at: u64, n: usize) -> Vec<u8> {
    let ChunkRef::Inline { bytes } = chunk else { unreachable!() };
    bytes[within(bytes.len(), at, n)].to_vec()
}

/// Inner chunks read from the inline references, counting how each is read.
#[derive(Default)]
struct Inline {
    whole: std::cell::Cell<usize>,
    into: std::cell::Cell<usize>,
}

impl InnerChunks for Inline {
    type Error = ChunkError;

    fn bytes(&self, _: usize, c: &ChunkRef, at: u64, n: usize) -> Result<Bytes, ChunkError> {
        self.whole.set(self.whole.get() + 1);
        Ok(Bytes::Owned(inline(c, at, n)))
    }

    fn bytes_into(
        &self,
        _: usize,
        c: &ChunkRef,
        at: u64,
        dst: &mut [u8],
    ) -> Result<usize, ChunkError> {
        self.into.set(self.into.get() + 1);
        let b = inline(c, at, dst.len());
        dst[..b.len()].copy_from_slice(&b);
        Ok(b.len())
    }
}

/// Chunks that must not be read.
struct Unread;

impl InnerChunks for Unread {
    type Error = ();

    fn bytes(&self, _: usize, _: &ChunkRef, _: u64, _: usize) -> Result<Bytes, ()> {
        panic!("the index read a chunk")
    }
}

#[test]
fn shards_are_chunks_then_index() {
    let a = array();
    // 3 chunks of 2 bytes fit in 6: shards (0, 1, 2) and (3, 4, -)
    let s = Sharding::plan(&a, 6).expect("sharded");
    assert_eq!((s.per_shard.clone(), s.grid.clone()), (vec![3], vec![2]));
    assert_eq!(s.shard_shape(&a), vec![6]);
    assert_eq!(s.size(0), 1 + 2 + 3 + 3 * 16 + 4);
    let read = |shard, offset, want| {
        s.read(&a, shard, offset, want, &Inline::default()).unwrap().into_vec()
    };
    let whole = read(1, 0, 1000);
    assert_eq!(whole.len() as u64, s.size(1));
    assert_eq!(&whole[..5], &[4; 5]);
    let entry = |i: usize| {
        let e = &whole[5 + 16 * i..5 + 16 * (i + 1)];
        (
            u64::from_le_bytes(e[..8].try_into().unwrap()),
            u64::from_le_bytes(e[8..].try_into().unwrap()),
        )
    };
    assert_eq!([entry(0), entry(1), entry(2)], [(MISSING, MISSING), (0, 5), (MISSING, MISSING)]);
    let crc = u32::from_le_bytes(whole[whole.len() - 4..].try_into().unwrap());
    assert_eq!(crc, crc32c(&whole[5..whole.len() - 4]));
    // any window equals the same bytes of the whole
    let whole0 = read(0, 0, 1000);
    assert_eq!(&whole0[..6], &[0, 1, 1, 2, 2, 2]);
    for (offset, want) in [(1, 3), (2, 10), (5, 40), (0, 6), (50, 100)] {
        let end = (offset + want).min(whole0.len());
        assert_eq!(read(0, offset as u64, want), whole0[offset..end], "{offset} {want}");
    }
}

#[test]
fn a_read_inside_a_chunk_is_its_bytes_across_chunks_one_buffer() {
    let a = array();
    let s = Sharding::plan(&a, 6).expect("sharded");
    // shard 0 = chunk 0 (1 byte), chunk 1 (2), chunk 2 (3): a read inside chunk 2 is that
    // chunk's own bytes, not a copy
    let chunks = Inline::default();
    let inside = s.read(&a, 0, 3, 2, &chunks).unwrap();
    assert!(matches!(inside, Bytes::Owned(_)), "the chunk's bytes as read");
    assert_eq!((&*inside, chunks.whole.get(), chunks.into.get()), (&[2u8, 2][..], 1, 0));
    // across chunks and into the index: each part written into one buffer
    let chunks = Inline::default();
    let across = s.read(&a, 0, 0, 8, &chunks).unwrap();
    assert!(matches!(across, Bytes::Read(_)), "one buffer of the pool");
    assert_eq!(&across[..6], &[0, 1, 1, 2, 2, 2]);
    assert_eq!(&across[6..], &s.index_bytes(&a, 0)[..2]);
    assert_eq!((chunks.whole.get(), chunks.into.get()), (0, 3));
}

#[test]
fn reading_the_index_reads_no_chunk() {
    let a = array();
    let s = Sharding::plan(&a, 6).expect("sharded");
    let size = s.size(0);
    let suffix = s.read(&a, 0, size - (3 * 16 + 4), 3 * 16 + 4, &Unread).unwrap();
    assert_eq!(suffix.into_vec(), s.index_bytes(&a, 0));
}

#[test]
fn unsharded_when_zero_or_scalar() {
    let a = array();
    assert!(Sharding::plan(&a, 0).is_none());
    let mut scalar = a.clone();
    scalar.shape = vec![];
    assert!(Sharding::plan(&scalar, 1 << 20).is_none());
    // everything in one shard when it fits
    assert_eq!(Sharding::plan(&a, 1 << 20).unwrap().per_shard, vec![5]);
}
