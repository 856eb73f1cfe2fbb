//! Variable-length string variables (NC_STRING): read through netcdf-c when indexing and kept
//! in the index as one generated chunk in zarr-python's `vlen-utf8` encoding (`|O` dtype), the
//! way xarray writes string arrays to Zarr v2. String variables are small in practice (time
//! stamps, metadata); larger ones are left out rather than held in memory.

use super::VariableError;
use crate::index::{ArrayNode, ChunkRef, Dtype, StorageKind};

/// Largest encoded string chunk kept in an index.
pub const MAX_STRING_BYTES: usize = 16 << 20;

/// numcodecs VLenUTF8: item count, then per item its byte length and bytes (all u32 LE).
pub fn encode_vlen_utf8(items: &[String]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(4 + items.iter().map(|s| 4 + s.len()).sum::<usize>());
    out.extend_from_slice(&u32::try_from(items.len()).ok()?.to_le_bytes());
    for s in items {
        out.extend_from_slice(&u32::try_from(s.len()).ok()?.to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    Some(out)
}

/// Turn `array` (dims and attributes already set) into a string array holding `var`'s values.
pub fn fill_strings(
    var: &netcdf::Variable<'_>,
    array: &mut ArrayNode,
) -> Result<(), VariableError> {
    let shape: Vec<usize> = array.shape.iter().map(|s| *s as usize).collect();
    let total: usize = shape.iter().product();
    let mut items = Vec::with_capacity(total.min(1 << 20));
    let mut bytes = 0usize;
    let mut index = vec![0usize; shape.len()];
    for _ in 0..total {
        let s =
            if shape.is_empty() { var.get_string(..) } else { var.get_string(index.as_slice()) }
                .map_err(|source| VariableError::NetCdf { what: "reading strings", source })?;
        bytes += s.len() + 4;
        if bytes > MAX_STRING_BYTES {
            return Err(VariableError::StringsTooLarge);
        }
        items.push(s);
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    set_strings(array, &items)
}

/// Make `array` (dims and attributes set) a string array holding `items` (row-major).
pub fn set_strings(array: &mut ArrayNode, items: &[String]) -> Result<(), VariableError> {
    array.dtype = Dtype::UTF8;
    array.chunks = array.shape.iter().map(|s| (*s).max(1)).collect();
    array.codecs = vec![];
    array.storage = StorageKind::Strings;
    array.fill_element = vec![];
    array.chunk_refs = if items.is_empty() {
        vec![]
    } else {
        let bytes = encode_vlen_utf8(items).ok_or("too many strings")?;
        vec![Some(ChunkRef::Inline { bytes })]
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_numcodecs() {
        // bytes zarr-python writes for ["a", "héllo", ""] before compression
        let want = b"\x03\x00\x00\x00\x01\x00\x00\x00a\x06\x00\x00\x00h\xc3\xa9llo\x00\x00\x00\x00";
        let got = encode_vlen_utf8(&["a".into(), "h\u{e9}llo".into(), String::new()]).unwrap();
        assert_eq!(got, want);
    }
}
