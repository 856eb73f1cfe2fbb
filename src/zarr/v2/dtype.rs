//! NumPy type strings, as a v2 `.zarray` spells an element type: `<f4`, `>i2`, `|u1`, `|S1`,
//! and `|O` for variable-length strings (with the `vlen-utf8` filter).

use crate::index::{Dtype, ElementKind};

/// The type string; single-byte types use '|' as NumPy does.
pub fn numpy(d: Dtype) -> String {
    let kind = match d.kind {
        ElementKind::Int => 'i',
        ElementKind::UInt => 'u',
        ElementKind::Float => 'f',
        ElementKind::Char => 'S',
        ElementKind::Utf8 => return "|O".to_string(),
        // a structured type is spelled as its field list (metadata.rs), never as one string
        ElementKind::Compound | ElementKind::Opaque => return format!("|V{}", d.size),
    };
    let order = match (d.size, d.big_endian) {
        (1, _) => '|',
        _ if d.kind == ElementKind::Char => '|',
        (_, true) => '>',
        (_, false) => '<',
    };
    format!("{order}{kind}{}", d.size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_like_numpy() {
        let be = |kind, size| Dtype { kind, size, big_endian: true };
        assert_eq!(numpy(be(ElementKind::Int, 2)), ">i2");
        assert_eq!(numpy(be(ElementKind::UInt, 1)), "|u1");
        assert_eq!(numpy(Dtype::le(ElementKind::Float, 4)), "<f4");
        assert_eq!(numpy(Dtype::le(ElementKind::Char, 1)), "|S1");
        assert_eq!(numpy(Dtype::UTF8), "|O");
        assert_eq!(numpy(be(ElementKind::Char, 8)), "|S8");
    }
}
