//! v3 data types as zarr-python 3 spells them: `int16`, `float32`, … with the byte order in
//! the `bytes` codec; netCDF `char` as `null_terminated_bytes` of length 1 (NumPy `S1`), and
//! variable-length strings as `string` with the `vlen-utf8` codec.

use crate::index::{Dtype, ElementKind};
use crate::zarr::json::Object;

/// The `data_type` field (JSON text).
pub fn data_type(d: Dtype) -> String {
    let bits = d.size * 8;
    match d.kind {
        ElementKind::Int => format!("\"int{bits}\""),
        ElementKind::UInt => format!("\"uint{bits}\""),
        ElementKind::Float => format!("\"float{bits}\""),
        ElementKind::Char => Object::new()
            .raw("name", "\"null_terminated_bytes\"")
            .object("configuration", Object::new().raw("length_bytes", d.size.to_string()))
            .render(),
        ElementKind::Utf8 => "\"string\"".to_string(),
        // the spec's raw bits: a v3 view never holds a structured array (`zarr::structured`)
        ElementKind::Compound => format!("\"r{bits}\""),
        // as zarr-python 3 writes NumPy's void `V<n>`
        ElementKind::Opaque => Object::new()
            .raw("name", "\"raw_bytes\"")
            .object("configuration", Object::new().raw("length_bytes", d.size.to_string()))
            .render(),
    }
}

/// The array-to-bytes codec: `bytes` in the stored byte order (no order for one byte), or
/// `vlen-utf8` for strings.
pub fn array_to_bytes(d: Dtype) -> Object<'static> {
    let name = |n: &str| Object::new().raw("name", format!("\"{n}\""));
    match (d.kind, d.size) {
        (ElementKind::Utf8, _) => name("vlen-utf8").object("configuration", Object::new()),
        (_, 1) => name("bytes"),
        _ => {
            let endian = if d.big_endian { "\"big\"" } else { "\"little\"" };
            name("bytes").object("configuration", Object::new().raw("endian", endian))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_like_zarr_python() {
        let be = Dtype { kind: ElementKind::Int, size: 2, big_endian: true };
        assert_eq!(data_type(be), "\"int16\"");
        assert_eq!(data_type(Dtype::le(ElementKind::Float, 4)), "\"float32\"");
        assert_eq!(data_type(Dtype::le(ElementKind::UInt, 1)), "\"uint8\"");
        assert_eq!(data_type(Dtype::UTF8), "\"string\"");
        assert!(data_type(Dtype::le(ElementKind::Char, 1)).contains("null_terminated_bytes"));
        assert!(array_to_bytes(be).render().contains("\"big\""));
        assert_eq!(
            array_to_bytes(Dtype::le(ElementKind::UInt, 1)).render(),
            "{\n  \"name\": \"bytes\"\n}"
        );
    }
}
