//! What a repository holds of the archive, recorded by cloudify in its root group's
//! attributes (`"cloudify": {"virtual_prefix": …, "datasets": {group: fingerprint}}`): a later
//! run compares the archive with it and rewrites only the datasets whose source files changed,
//! adds new ones and removes those gone from the archive.

use super::IcechunkError;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The attribute of the root group cloudify keeps its record in.
pub const ATTRIBUTE: &str = "cloudify";

/// The datasets a snapshot holds (group → fingerprint of its source files) and the prefix
/// their virtual references point under.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub virtual_prefix: Option<String>,
    pub datasets: BTreeMap<String, String>,
    /// The root group's other attributes (kept as they are).
    others: Map<String, Value>,
}

impl State {
    /// The record in a root group's `zarr.json` (none: an empty state).
    pub fn from_root_doc(doc: Option<&[u8]>) -> Result<State, IcechunkError> {
        let Some(doc) = doc else { return Ok(State::default()) };
        let bad = |why: &str| IcechunkError::State(format!("root group zarr.json: {why}"));
        let v: Value = serde_json::from_slice(doc).map_err(|e| bad(&e.to_string()))?;
        let mut attrs = match v.get("attributes") {
            Some(Value::Object(a)) => a.clone(),
            None => Map::new(),
            Some(_) => return Err(bad("attributes is no object")),
        };
        let mut state = State::default();
        if let Some(record) = attrs.remove(ATTRIBUTE) {
            state.virtual_prefix =
                record.get("virtual_prefix").and_then(Value::as_str).map(String::from);
            if let Some(Value::Object(ds)) = record.get("datasets") {
                for (k, v) in ds {
                    let f = v.as_str().ok_or_else(|| bad("a fingerprint is no string"))?;
                    state.datasets.insert(k.clone(), f.to_string());
                }
            }
        }
        state.others = attrs;
        Ok(state)
    }

    /// The root group's `zarr.json` holding this record.
    pub fn to_root_doc(&self) -> Vec<u8> {
        let mut attrs = self.others.clone();
        let datasets: Map<String, Value> =
            self.datasets.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        attrs.insert(
            ATTRIBUTE.into(),
            json!({"virtual_prefix": self.virtual_prefix, "datasets": datasets}),
        );
        let doc = json!({"zarr_format": 3, "node_type": "group", "attributes": attrs});
        serde_json::to_vec(&doc).unwrap_or_default()
    }
}

/// What a run does to each dataset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: Vec<String>,
}

/// Compare the archive's datasets (group → fingerprint, in group order) with the record.
/// A dataset below a group that is rewritten or removed is rewritten too (removing a group
/// removes every node below it).
pub fn compare(old: &State, now: &BTreeMap<String, String>, prefix: &str) -> Changes {
    let same_prefix = old.virtual_prefix.as_deref() == Some(prefix);
    let mut c = Changes::default();
    for (group, fingerprint) in now {
        match old.datasets.get(group) {
            None => c.added.push(group.clone()),
            Some(f) if f == fingerprint && same_prefix => c.unchanged.push(group.clone()),
            Some(_) => c.changed.push(group.clone()),
        }
    }
    c.removed = old.datasets.keys().filter(|g| !now.contains_key(*g)).cloned().collect();
    let cleared: Vec<String> = c.changed.iter().chain(&c.removed).cloned().collect();
    let below = |g: &String| cleared.iter().any(|p| g.starts_with(&format!("{p}/")));
    let (moved, kept): (Vec<String>, Vec<String>) = c.unchanged.drain(..).partition(below);
    c.unchanged = kept;
    c.changed.extend(moved);
    c.changed.sort();
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn record_round_trips_and_keeps_other_attributes() {
        let doc = br#"{"zarr_format":3,"node_type":"group","attributes":{"title":"x"}}"#;
        let mut s = State::from_root_doc(Some(doc)).unwrap();
        assert!(s.datasets.is_empty());
        s.virtual_prefix = Some("s3://b/a/".into());
        s.datasets = map(&[("a", "1")]);
        let back = State::from_root_doc(Some(&s.to_root_doc())).unwrap();
        assert_eq!(back, s);
        let v: Value = serde_json::from_slice(&s.to_root_doc()).unwrap();
        assert_eq!(v["attributes"]["title"], "x");
        assert!(State::from_root_doc(Some(b"[")).is_err());
    }

    #[test]
    fn changes_only_what_changed() {
        let old = State {
            virtual_prefix: Some("p/".into()),
            datasets: map(&[("a", "1"), ("a/b", "2"), ("c", "3"), ("gone", "4")]),
            ..State::default()
        };
        let now = map(&[("a", "1"), ("a/b", "2"), ("c", "9"), ("new", "5")]);
        let c = compare(&old, &now, "p/");
        assert_eq!(c.added, ["new"]);
        assert_eq!(c.changed, ["c"]);
        assert_eq!(c.removed, ["gone"]);
        assert_eq!(c.unchanged, ["a", "a/b"]);
        // a group rewritten takes the datasets below it along
        let now = map(&[("a", "7"), ("a/b", "2")]);
        let c = compare(&old, &now, "p/");
        assert_eq!(c.changed, ["a", "a/b"]);
        // another prefix: every reference changes
        let c = compare(&old, &map(&[("a", "1")]), "q/");
        assert_eq!(c.changed, ["a"]);
    }
}
