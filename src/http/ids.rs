//! Dataset ids of the cloudify/xpublish routes (`/datasets/{id}/…`): a store's path in the tree
//! without `.zarr`, its `/` written `~`, so that an id is one URL path segment that survives
//! proxies (no encoded `/`). A `~` or `%` inside a name is percent-escaped within the id
//! (`%7E`, `%25`), which keeps the rule reversible: `run1/tas_day.zarr` ⇄ `run1~tas_day`.

/// The id of the store at tree path `store` (ends in `.zarr`; `None` otherwise).
pub fn id_of(store: &str) -> Option<String> {
    let stem = store.strip_suffix(".zarr")?;
    let parts: Vec<String> =
        stem.split('/').map(|p| p.replace('%', "%25").replace('~', "%7E")).collect();
    Some(parts.join("~"))
}

/// The tree path of the store `id` names (`None` for what no [`id_of`] gives).
pub fn store_of(id: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in id.split('~') {
        if part.is_empty() || part == "." || part == ".." || part.contains(['/', '\0']) {
            return None;
        }
        parts.push(unescape(part)?);
    }
    Some(parts.join("/") + ".zarr")
}

/// `%7E` → `~`, `%25` → `%`; any other `%` is not of an id.
fn unescape(part: &str) -> Option<String> {
    let mut out = String::with_capacity(part.len());
    let mut rest = part;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        match rest.get(at..at + 3) {
            Some("%7E") => out.push('~'),
            Some("%25") => out.push('%'),
            _ => return None,
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for store in ["tas_day.zarr", "run1/tas_day.zarr", "a~b/c%d/e~~.zarr", "x/y/z.nc.zarr"] {
            let id = id_of(store).unwrap();
            assert!(!id.contains('/'), "{id}");
            assert_eq!(store_of(&id).as_deref(), Some(store), "{id}");
        }
        assert_eq!(id_of("run1/tas_day.zarr").as_deref(), Some("run1~tas_day"));
        // a ~ in a name and a / between names give different ids
        assert_ne!(id_of("a~/b.zarr"), id_of("a/~b.zarr"));
    }

    #[test]
    fn what_no_store_gives_is_refused() {
        assert_eq!(id_of("catalog.json"), None);
        // found by fuzz/http_request: an id is one segment, never a path
        for id in ["", "~a", "a~", "a~~b", "..~a", "a%2Fb", "a%", "/a.zarr/tas", "a/b", "a\0"] {
            assert_eq!(store_of(id), None, "{id}");
        }
    }
}
