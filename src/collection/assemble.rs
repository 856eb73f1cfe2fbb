//! The bytes of a joined chunk ([`ChunkRef::Joined`]): the part of each member's decoded chunks
//! that falls in it, copied into place along the joined dimension; the rest is the fill value.
//! Members' chunks have the joined array's chunk shape in every other dimension (the join
//! checks it), so a member chunk and the joined chunk share their layout but along `dim`.

use crate::index::{ArrayNode, Unpack};
use crate::zarr::chunk::cache::ChunkCache;
use crate::zarr::chunk::{read_chunk, ChunkError, ChunkSource, FileRef};

/// A member's file as [`assemble`] reads it: the file, or why it cannot be read now.
pub type MemberFile<'f> = dyn Fn(usize) -> Result<FileRef<'f>, ChunkError> + 'f;

/// The uncompressed bytes of chunk `pos` of `array` (which has `joined` parts).
pub fn assemble(
    array: &ArrayNode,
    pos: usize,
    file: &MemberFile<'_>,
) -> Result<Vec<u8>, ChunkError> {
    let parts = array.joined.as_deref().ok_or(ChunkError::NoAssembler)?;
    let d = parts.dim;
    let es = array.element_size().max(1);
    let coords = array.chunk_coords(pos as u64);
    let c = array.chunks[d].max(1);
    let outer: usize = array.chunks[..d].iter().product::<u64>() as usize;
    let inner: usize = array.chunks[d + 1..].iter().product::<u64>() as usize * es;
    let mut out = array.fill_element.repeat(array.chunks.iter().product::<u64>() as usize);
    let (t0, t1) = (coords[d] * c, ((coords[d] + 1) * c).min(array.shape[d]));
    let cache = ChunkCache::new(0);
    for (m, member) in parts.arrays.iter().enumerate() {
        let (s, e) = (parts.starts[m], parts.starts[m] + member.shape[d]);
        let (lo, hi) = (t0.max(s), t1.min(e));
        if lo >= hi {
            continue;
        }
        let cm = member.chunks[d].max(1);
        for j in (lo - s) / cm..=(hi - 1 - s) / cm {
            let mut mc = coords.clone();
            mc[d] = j;
            let Some(at) = member.chunk_position(&mc) else { continue };
            let Some(chunk) = member.chunk_refs.get(at).and_then(Option::as_ref) else {
                continue; // unwritten: the fill value already there
            };
            let f = file(parts.members.get(m).map_or(m, |n| *n as usize))?;
            let src = ChunkSource {
                file: &f,
                cache: &cache,
                key: (0, 0, at),
                library: None,
                joined: None,
            };
            let bytes = read_chunk(&src, member, chunk, 0, chunk.size() as usize)?;
            let unpack = parts.unpack.get(m);
            let converted;
            let (bytes, block): (&[u8], usize) = match unpack {
                None => (&bytes, inner),
                Some(u) => {
                    converted = unpacked(&bytes, member, u);
                    (&converted, inner)
                }
            };
            // member time steps j*cm .. (j+1)*cm, overlapping [lo, hi) in joined steps
            let first = (s + j * cm).max(lo);
            let last = (s + (j + 1) * cm).min(hi);
            for o in 0..outer {
                for t in first..last {
                    let from = (o * cm as usize + (t - s - j * cm) as usize) * block;
                    let to = (o * c as usize + (t - t0) as usize) * inner;
                    if let (Some(src), Some(dst)) =
                        (bytes.get(from..from + block), out.get_mut(to..to + inner))
                    {
                        dst.copy_from_slice(src);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A member chunk's values unpacked into float64 (little-endian), NaN for a missing value.
fn unpacked(bytes: &[u8], member: &ArrayNode, u: &Unpack) -> Vec<u8> {
    let size = member.dtype.size.max(1);
    let mut out = Vec::with_capacity(bytes.len() / size * 8);
    for b in bytes.chunks_exact(size) {
        let raw = member.dtype.decode(b).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
        let missing = raw.is_nan() || u.missing.contains(&raw);
        let v = if missing { f64::NAN } else { raw * u.scale + u.offset };
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}
