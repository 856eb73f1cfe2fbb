//! The values of a (coordinate) array, CF-decoded to f64, read through the same chunk path the
//! mount serves: `_FillValue`/`missing_value`/NaN/`valid_*` values are skipped and
//! `scale_factor`/`add_offset` applied. Values are visited, never collected, so a 2-D
//! coordinate of any size costs one chunk of memory.

use super::StacError;
use crate::index::{ArrayNode, AttrValue, Attrs, ChunkFiles, ElementKind};
use crate::zarr::chunk::cache::ChunkCache;
pub use crate::zarr::chunk::OpenSource;
use crate::zarr::chunk::{read_chunk, ChunkSource, LibraryChunks};
use crate::zarr::mode;

/// Reads arrays of one open source file.
pub struct ArrayReader<'a> {
    /// Opened when a value is first read (a dataset's facts may need none).
    pub file: &'a dyn OpenSource,
    pub library: Option<&'a dyn LibraryChunks>,
}

/// The value of attribute `name`.
pub fn attr<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a AttrValue> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A string attribute.
pub fn attr_str<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a str> {
    match attr(attrs, name)? {
        AttrValue::Str(s) => Some(s.as_str()),
        _ => None,
    }
}

/// CF decoding of stored values.
struct Decoding {
    missing: Vec<f64>,
    /// Valid range of stored values, and of unpacked values.
    valid_packed: (f64, f64),
    valid_unpacked: (f64, f64),
    scale: f64,
    offset: f64,
}

fn is_float_attr(v: &AttrValue) -> bool {
    matches!(v.widened().as_ref(), AttrValue::Float(_) | AttrValue::Floats(_))
}

impl Decoding {
    fn of(array: &ArrayNode) -> Decoding {
        let missing = array.missing_values();
        let num = |n: &str| attr(&array.attrs, n).and_then(AttrValue::as_f64);
        let (scale, offset) = (num("scale_factor"), num("add_offset"));
        // CF 8.1: valid_* are in packed units, unless the variable is packed (an integer type
        // with scale_factor/add_offset) and they have the unpacked (float) type
        let integer =
            matches!(array.dtype.kind, ElementKind::Int | ElementKind::UInt | ElementKind::Char);
        let unpacked_units =
            |v: &AttrValue| integer && (scale.is_some() || offset.is_some()) && is_float_attr(v);
        let mut packed = (f64::NEG_INFINITY, f64::INFINITY);
        let mut unpacked = packed;
        let mut set = |v: &AttrValue, lo: Option<f64>, hi: Option<f64>| {
            let range = if unpacked_units(v) { &mut unpacked } else { &mut packed };
            range.0 = lo.unwrap_or(range.0);
            range.1 = hi.unwrap_or(range.1);
        };
        if let Some(v) = attr(&array.attrs, "valid_range") {
            let pair = match v.widened().as_ref() {
                AttrValue::Floats(x) if x.len() == 2 => Some((x[0], x[1])),
                AttrValue::Ints(x) if x.len() == 2 => Some((x[0] as f64, x[1] as f64)),
                AttrValue::UInts(x) if x.len() == 2 => Some((x[0] as f64, x[1] as f64)),
                _ => None,
            };
            if let Some((lo, hi)) = pair {
                set(v, Some(lo), Some(hi));
            }
        }
        if let Some(v) = attr(&array.attrs, "valid_min") {
            set(v, v.as_f64(), None);
        }
        if let Some(v) = attr(&array.attrs, "valid_max") {
            set(v, None, v.as_f64());
        }
        Decoding {
            missing,
            valid_packed: packed,
            valid_unpacked: unpacked,
            scale: scale.unwrap_or(1.0),
            offset: offset.unwrap_or(0.0),
        }
    }

    fn apply(&self, raw: f64) -> Option<f64> {
        let inside = |x: f64, (lo, hi): (f64, f64)| x >= lo && x <= hi;
        if raw.is_nan() || self.missing.contains(&raw) || !inside(raw, self.valid_packed) {
            return None;
        }
        let v = raw * self.scale + self.offset;
        (v.is_finite() && inside(v, self.valid_unpacked)).then_some(v)
    }
}

impl ArrayReader<'_> {
    /// Call `f(flat_index, value)` for every valid, CF-decoded element of `array`, chunk by chunk
    /// (`flat_index` is the element's row-major index in the whole array).
    pub fn visit(&self, array: &ArrayNode, f: &mut dyn FnMut(u64, f64)) -> Result<(), StacError> {
        let dtype = array.dtype;
        if !dtype.is_number() {
            return Err(StacError::NotNumeric(array.name.clone()));
        }
        if array.joined.is_some() || matches!(array.files, ChunkFiles::AlongDim { .. }) {
            return Err(StacError::Joined(array.name.clone()));
        }
        let decoded = mode::decoded(array);
        let cache = ChunkCache::new(0);
        let decoding = Decoding::of(array);
        for (pos, chunk) in decoded.chunk_refs.iter().enumerate() {
            let Some(chunk) = chunk else { continue };
            let read = |source| StacError::Read { variable: array.name.clone(), source };
            let file = self.file.open().map_err(|e| read(e.into()))?;
            let src = ChunkSource {
                file: &file,
                cache: &cache,
                key: (0, 0, pos),
                library: self.library,
                joined: None,
            };
            let bytes =
                read_chunk(&src, &decoded, chunk, 0, chunk.size() as usize).map_err(read)?;
            let coords = decoded.chunk_coords(pos as u64);
            for_each_element(&decoded.shape, &decoded.chunks, &coords, |within, flat| {
                let at = within * dtype.size;
                let value = bytes.get(at..at + dtype.size).and_then(|b| dtype.decode(b));
                if let Some(v) = value.and_then(|v| v.as_f64()).and_then(|raw| decoding.apply(raw))
                {
                    f(flat, v);
                }
            });
        }
        Ok(())
    }

    /// All valid values in row-major order (for small, 1-D arrays).
    pub fn values(&self, array: &ArrayNode) -> Result<Vec<(u64, f64)>, StacError> {
        let mut out = Vec::new();
        self.visit(array, &mut |i, v| out.push((i, v)))?;
        out.sort_by_key(|(i, _)| *i);
        Ok(out)
    }
}

/// Call `f(index within the chunk, flat index in the array)` for the elements of chunk `coords`
/// that lie inside the array (edge chunks are padded).
fn for_each_element(shape: &[u64], chunks: &[u64], coords: &[u64], mut f: impl FnMut(usize, u64)) {
    if shape.is_empty() {
        f(0, 0);
        return;
    }
    let n = shape.len();
    let start: Vec<u64> = coords.iter().zip(chunks).map(|(c, k)| c * k).collect();
    let extent: Vec<u64> =
        (0..n).map(|d| chunks[d].min(shape[d].saturating_sub(start[d]))).collect();
    if extent.contains(&0) {
        return;
    }
    let mut idx = vec![0u64; n];
    loop {
        let mut within: u64 = 0;
        let mut flat: u64 = 0;
        for d in 0..n {
            within = within * chunks[d] + idx[d];
            flat = flat * shape[d] + start[d] + idx[d];
        }
        f(within as usize, flat);
        // next index, last dimension fastest
        let mut d = n;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < extent[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::for_each_element;

    #[test]
    fn edge_chunks_skip_padding() {
        let mut seen = Vec::new();
        // shape 3x5, chunks 2x2: chunk (1, 2) holds only element (2, 4)
        for_each_element(&[3, 5], &[2, 2], &[1, 2], |w, f| seen.push((w, f)));
        assert_eq!(seen, vec![(0, 14)]);
        seen.clear();
        for_each_element(&[3, 5], &[2, 2], &[0, 1], |w, f| seen.push((w, f)));
        assert_eq!(seen, vec![(0, 2), (1, 3), (2, 7), (3, 8)]);
    }
}
