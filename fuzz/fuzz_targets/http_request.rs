//! What a client sends the HTTP server must never panic it: the URL path (decoded per
//! segment; never a path that climbs out), the dataset id rule (an id that resolves gives
//! itself back), the Range header against any size (a part always lies in the file), and the
//! segments of a derived dataset's path (`reduce/{var}/{dims}/{action}`).
#![no_main]

use cloudify_mount::derive::Request;
use cloudify_mount::http::{ids, path::tree_path, range};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = tree_path(text) {
        assert!(p.components().all(|c| matches!(c, std::path::Component::Normal(_))));
    }
    if let Some(store) = ids::store_of(text) {
        assert_eq!(ids::id_of(&store).as_deref(), Some(text));
    }
    if let [kind, var, what, action] = text.splitn(4, '/').collect::<Vec<_>>().as_slice() {
        if let Ok(r) = Request::parse(kind, var, what, action) {
            assert_eq!(r.var, *var);
        }
    }
    let size = data.iter().fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(*b)));
    for size in [0, 1, size % 1_000_000, size] {
        if let range::Wanted::Part(r) = range::wanted(Some(text), size) {
            assert!(r.start < r.end && r.end <= size, "{text:?} {size} {r:?}");
        }
    }
});
