//! The layer rule of docs/ARCHITECTURE.md, checked on the source: a module may use its own
//! layer and the layers below it, never one above. Every top-level module of `src/` must have
//! a layer here, so a new module is placed on purpose.
//!
//! ```text
//!  telemetry < codec, cf, plot < index < source < worker < zarr < stac, collection < vfs
//!    < fuse, offline, inspect, derive, icechunk < http
//! ```

use std::path::{Path, PathBuf};

/// Top-level modules and their layers, lowest first.
const LAYERS: &[(&str, u32)] = &[
    ("telemetry", 0),
    ("codec", 1),
    ("cf", 1),
    ("plot", 1),
    ("index", 2),
    ("source", 3),
    ("worker", 4),
    ("zarr", 5),
    ("stac", 6),
    ("collection", 6),
    ("vfs", 7),
    ("fuse", 8),
    ("offline", 8),
    ("inspect", 8),
    ("derive", 8),
    ("icechunk", 8),
    ("http", 9),
];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level modules a line of code names through `crate::` (in paths and in
/// `use crate::{a::…, b}` groups).
fn named_modules(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                out.push(ident(item.trim()));
            }
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn ident(s: &str) -> String {
    s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

#[test]
fn no_module_uses_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("inside src");
        let top = rel.components().next().expect("a component").as_os_str().to_string_lossy();
        let top = top.trim_end_matches(".rs");
        if matches!(top, "bin" | "lib" | "main") {
            continue; // the front ends and the crate root sit above every layer
        }
        let Some(own) = layer(top) else {
            wrong
                .push(format!("{}: module `{top}` has no layer in tests/layers.rs", rel.display()));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for used in named_modules(code) {
                match layer(&used) {
                    Some(l) if l > own => wrong.push(format!(
                        "{}:{}: `{top}` (layer {own}) uses `{used}` (layer {l})",
                        rel.display(),
                        n + 1
                    )),
                    Some(_) => {}
                    None => wrong.push(format!(
                        "{}:{}: `crate::{used}` has no layer in tests/layers.rs",
                        rel.display(),
                        n + 1
                    )),
                }
            }
        }
    }
    assert!(wrong.is_empty(), "layer rule broken:\n  {}", wrong.join("\n  "));
}

#[test]
fn the_checker_sees_paths_and_groups() {
    assert_eq!(named_modules("use crate::zarr::chunk::Bytes;"), ["zarr"]);
    assert_eq!(named_modules("use crate::{index::Dtype, vfs};"), ["index", "vfs"]);
    assert_eq!(named_modules("let x = crate::stac::f(crate::index::g());"), ["stac", "index"]);
    assert!(named_modules("let crate_name = 1;").is_empty());
}
