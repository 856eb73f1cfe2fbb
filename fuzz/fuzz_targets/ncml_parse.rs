//! The NcML reader must never panic, hang or over-allocate, whatever the text: parsing, the
//! recipe, and the resolution of every location it names (lexically, against a fixed root).
#![no_main]

use cloudify_mount::collection::ncml::{parse::parse, recipe, resolve::location, Part};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(n) = parse(text) else { return };
    let _ = recipe(&n);
    let mut parts: Vec<&Part> = n.aggregation.parts.iter().collect();
    while let Some(p) = parts.pop() {
        match p {
            Part::File(loc) => {
                if let Ok(rel) = location(loc, Path::new("/archive"), Path::new("a/b")) {
                    // never a path that climbs out
                    assert!(rel.components().all(|c| matches!(c, std::path::Component::Normal(_))));
                }
            }
            Part::Scan(s) => {
                let _ = location(&s.location, Path::new("/archive"), Path::new("a/b"));
            }
            Part::Nested(agg) => parts.extend(agg.parts.iter()),
        }
    }
});
