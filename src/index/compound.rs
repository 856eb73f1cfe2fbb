//! Compound (structured) variables: how an array served for one is made from the stored
//! compound elements. An HDF5 compound dataset is never served as stored: each member `m` of
//! variable `v` is its own array `v.m`, and `v` itself may be served as a packed structured
//! array. Both carry a [`Compound`]: the stored dataset (its chunk references, filters and
//! fill element, on the same chunk grid) and the [`Field`]s one served element is made of.

use super::{ArrayNode, Dtype};
use serde::{Deserialize, Serialize};

/// The stored compound dataset an array is cut from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Compound {
    /// The compound variable's name (`v` of `v.m`).
    pub of: String,
    /// The same for every array cut from one stored dataset (within a dataset): the decoded
    /// stored chunks can be shared between them.
    pub id: u32,
    /// The HDF5 dataset as stored and placed: element = one compound element, its chunk
    /// references, filters and fill element; chunk grid that of the served array's leading
    /// dimensions.
    pub stored: ArrayNode,
    /// What one served element is made of, in order.
    pub fields: Vec<Field>,
}

/// One member of a compound type as served: `dtype` elements of shape `shape` (an array
/// member; empty for a scalar one) at byte `offset` of the stored element.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The member's name (a nested compound's member is `outer.inner`).
    pub name: String,
    /// The served element type (byte order as served).
    pub dtype: Dtype,
    pub shape: Vec<u64>,
    pub offset: u64,
    /// The byte order of the stored bytes (swapped when it differs from `dtype`'s).
    pub stored_big_endian: bool,
    /// A null-terminated fixed-length string (`H5T_STR_NULLTERM`): each string ends at its
    /// first NUL, the bytes after it served as NULs (libhdf5's conversion, what h5py reads).
    pub null_terminated: bool,
}

impl Field {
    /// Bytes of the member in one element.
    pub fn nbytes(&self) -> usize {
        self.dtype.size * self.shape.iter().product::<u64>() as usize
    }
}

impl Compound {
    /// Bytes of one served element (the fields packed, no padding).
    pub fn served_size(&self) -> usize {
        self.fields.iter().map(Field::nbytes).sum()
    }

    /// The served bytes of `raw`, stored elements one after the other: for each element,
    /// each field's bytes in turn, byte-swapped where the orders differ.
    pub fn extract(&self, raw: &[u8]) -> Vec<u8> {
        let es = self.stored.element_size();
        let mut out = Vec::with_capacity(raw.len() / es.max(1) * self.served_size());
        for element in raw.chunks_exact(es.max(1)) {
            for f in &self.fields {
                let at = f.offset as usize;
                let Some(bytes) = element.get(at..at + f.nbytes()) else {
                    out.resize(out.len() + f.nbytes(), 0);
                    continue;
                };
                let start = out.len();
                out.extend_from_slice(bytes);
                let unit = f.dtype.size;
                if f.stored_big_endian != f.dtype.big_endian && unit > 1 {
                    out[start..].chunks_exact_mut(unit).for_each(<[u8]>::reverse);
                }
                if f.null_terminated {
                    cut_at_first_nul(&mut out[start..], unit);
                }
            }
        }
        out
    }
}

/// Make each `unit`-byte string of `bytes` end at its first NUL (the bytes after it NULs), as
/// libhdf5 converts a null-terminated fixed-length string.
pub fn cut_at_first_nul(bytes: &mut [u8], unit: usize) {
    for s in bytes.chunks_exact_mut(unit.max(1)) {
        if let Some(nul) = s.iter().position(|b| *b == 0) {
            s[nul..].fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::ElementKind;

    fn field(name: &str, dtype: Dtype, shape: Vec<u64>, offset: u64, be: bool) -> Field {
        Field {
            name: name.into(),
            dtype,
            shape,
            offset,
            stored_big_endian: be,
            null_terminated: false,
        }
    }

    #[test]
    fn cuts_members_out_of_padded_elements() {
        // element of 8 bytes: u1 at 0, padding, >i2 at 2, <f4 (not used) at 4
        let mut stored = ArrayNode::unplaced(
            "v".into(),
            Dtype { kind: ElementKind::Compound, size: 8, big_endian: false },
            vec![2],
            vec![],
            None,
            vec![],
        );
        stored.fill_element = vec![0; 8];
        let c = Compound {
            of: "v".into(),
            id: 0,
            stored,
            fields: vec![
                field("a", Dtype::le(ElementKind::UInt, 1), vec![], 0, false),
                field("b", Dtype::le(ElementKind::Int, 2), vec![], 2, true),
            ],
        };
        let raw = [7, 0, 0x01, 0x02, 9, 9, 9, 9, 8, 0, 0xff, 0xfe, 9, 9, 9, 9];
        assert_eq!(c.served_size(), 3);
        assert_eq!(c.extract(&raw), vec![7, 0x02, 0x01, 8, 0xfe, 0xff]);
    }

    #[test]
    fn null_terminated_strings_end_at_their_first_nul() {
        // three 4-byte strings: one NUL inside, none, NUL first
        let mut bytes = b"ab\0cdefg\0xyz".to_vec();
        cut_at_first_nul(&mut bytes, 4);
        assert_eq!(bytes, b"ab\0\0defg\0\0\0\0");
    }
}
