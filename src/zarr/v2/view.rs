//! The Zarr v2 store of one dataset: the tree of keys over a [`DatasetIndex`].
//!
//! Metadata documents are rendered once when the view is built; chunk keys are resolved
//! against the index on demand (a variable may have 100,000 chunks).

use super::key::{chunk_key, key_position};
use super::metadata;
use super::names::assign_keys;
use crate::index::{ArrayNode, ChunkRef, DatasetIndex, GroupNode};
use std::collections::HashMap;
use std::sync::Arc;

/// Hasher of the view's maps (resolved on every request inside a store).
type Fast = foldhash::fast::RandomState;

/// What a path inside the store names.
#[derive(Clone, Debug)]
pub enum Entry<'a> {
    /// A group or an array directory.
    Dir,
    /// A metadata document.
    Meta(&'a Arc<[u8]>),
    /// A chunk file of array `array` (index into [`DatasetView::arrays`]).
    Chunk { array: usize, pos: usize, chunk: &'a ChunkRef },
}

/// A child of a directory, for listings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Child {
    pub name: String,
    pub is_dir: bool,
}

/// An array with its path in the store ("FS/SLV/precipRate").
#[derive(Debug)]
pub struct ArrayEntry {
    pub path: String,
    pub node: ArrayNode,
}

enum Dir {
    Group { children: Vec<Child> },
    Array(usize),
}

/// The store of one dataset.
pub struct DatasetView {
    pub arrays: Vec<ArrayEntry>,
    /// Attributes of the root group (global attributes).
    pub root_attrs: crate::index::Attrs,
    /// Every group's dimensions: (group path, name, length).
    pub dimensions: Vec<(String, String, u64)>,
    docs: HashMap<String, Arc<[u8]>, Fast>,
    dirs: HashMap<String, Dir, Fast>,
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

impl DatasetView {
    /// Build the view (renders every metadata document).
    pub fn new(mut index: DatasetIndex) -> DatasetView {
        assign_keys(&mut index.root);
        let mut view = DatasetView {
            arrays: vec![],
            root_attrs: index.root.attrs.clone(),
            dimensions: vec![],
            docs: HashMap::default(),
            dirs: HashMap::default(),
        };
        let mut consolidated = Vec::new();
        view.add_group("", index.root, &mut consolidated);
        let zmeta = metadata::zmetadata(&consolidated);
        view.docs.insert(".zmetadata".into(), Arc::from(zmeta.into_bytes()));
        if let Some(Dir::Group { children }) = view.dirs.get_mut("") {
            children.insert(0, Child { name: ".zmetadata".into(), is_dir: false });
        }
        view
    }

    fn add_doc(&mut self, key: String, doc: String, consolidated: &mut Vec<(String, Arc<str>)>) {
        let doc: Arc<str> = Arc::from(doc);
        self.docs.insert(key.clone(), Arc::from(doc.clone()));
        consolidated.push((key, doc));
    }

    fn add_group(&mut self, path: &str, group: GroupNode, out: &mut Vec<(String, Arc<str>)>) {
        let file = |n: &str| Child { name: n.into(), is_dir: false };
        let mut children = vec![file(".zattrs"), file(".zgroup")];
        self.add_doc(join(path, ".zgroup"), metadata::zgroup(), out);
        self.add_doc(join(path, ".zattrs"), metadata::group_zattrs(&group.attrs), out);
        for (name, len) in &group.dimensions {
            self.dimensions.push((path.to_string(), name.clone(), *len));
        }
        for mut array in group.arrays {
            // an index read back (serde) or from a worker grows its vector by doubling: held
            // for the dataset's life, the slack would be up to 3/4 more than the references
            array.chunk_refs.shrink_to_fit();
            let apath = join(path, &array.name);
            children.push(Child { name: array.name.clone(), is_dir: true });
            self.add_doc(join(&apath, ".zarray"), metadata::zarray(&array), out);
            self.add_doc(join(&apath, ".zattrs"), metadata::array_zattrs(&array), out);
            self.dirs.insert(apath.clone(), Dir::Array(self.arrays.len()));
            self.arrays.push(ArrayEntry { path: apath, node: array });
        }
        for sub in group.groups {
            children.push(Child { name: sub.name.clone(), is_dir: true });
            let gpath = join(path, &sub.name);
            self.add_group(&gpath, sub, out);
        }
        self.dirs.insert(path.to_string(), Dir::Group { children });
    }

    /// Roughly the heap memory the view holds: chunk references and metadata documents
    /// (what the dataset cache weighs it by).
    pub fn heap_bytes(&self) -> u64 {
        let arrays: u64 = self.arrays.iter().map(|a| a.node.chunk_bytes()).sum();
        let docs: usize = self.docs.iter().map(|(k, v)| k.len() + v.len() + 64).sum();
        arrays + docs as u64
    }

    /// Resolve a path inside the store ("" is the root group).
    pub fn resolve(&self, path: &str) -> Option<Entry<'_>> {
        if self.dirs.contains_key(path) {
            return Some(Entry::Dir);
        }
        if let Some(doc) = self.docs.get(path) {
            return Some(Entry::Meta(doc));
        }
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        let Some(Dir::Array(i)) = self.dirs.get(parent) else {
            return None;
        };
        let node = &self.arrays[*i].node;
        let pos = key_position(name, node.grid_iter())?;
        let chunk = node.chunk_refs.get(pos)?.as_ref()?;
        Some(Entry::Chunk { array: *i, pos, chunk })
    }

    /// At most `max` children of a directory from the `start`-th on: a readdir of an array
    /// with 100,000 chunks comes in many small pages, and each page must not cost the whole
    /// listing (names are only made for the page).
    pub fn list_page(&self, path: &str, start: usize, max: usize) -> Option<Vec<Child>> {
        let file = |name: String| Child { name, is_dir: false };
        match self.dirs.get(path)? {
            Dir::Group { children } => {
                Some(children.iter().skip(start).take(max).cloned().collect())
            }
            Dir::Array(i) => {
                let node = &self.arrays[*i].node;
                let meta = [".zarray", ".zattrs"];
                let mut out: Vec<Child> =
                    meta.iter().skip(start).take(max).map(|n| file(n.to_string())).collect();
                let present = node.chunk_refs.iter().enumerate().filter(|(_, s)| s.is_some());
                let chunks = present
                    .skip(start.saturating_sub(meta.len()))
                    .take(max - out.len())
                    .map(|(pos, _)| file(chunk_key(&node.chunk_coords(pos as u64))));
                out.extend(chunks);
                Some(out)
            }
        }
    }
}
