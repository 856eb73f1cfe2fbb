//! The Zarr store of one dataset, v2 or v3: the tree of keys over a [`DatasetIndex`].
//!
//! Metadata documents are rendered once when the view is built; chunk keys are resolved
//! against the index on demand (a variable may have 100,000 chunks). The version decides the
//! documents (`v2::metadata`, `v3::metadata`) and the chunk keys (`3.0.1`; `c/3/0/1`, whose
//! prefixes are directories); a sharded v3 array's keys name shards
//! ([`crate::zarr::v3::Sharding`]).

use super::format::ZarrFormat;
use super::names::{assign_keys, V2_RESERVED, V3_RESERVED};
use super::v2::key::{chunk_key, key_position};
use super::v2::metadata as v2doc;
use super::v3::key::{self as v3key, Under};
use super::v3::metadata as v3doc;
use super::v3::Sharding;
use crate::index::{ArrayNode, ChunkRef, DatasetIndex, GroupNode};
use std::collections::HashMap;
use std::sync::Arc;

/// Hasher of the view's maps (resolved on every request inside a store).
type Fast = foldhash::fast::RandomState;

/// What a path inside the store names.
#[derive(Clone, Debug)]
pub enum Entry<'a> {
    /// A group or an array directory (or, in v3, a directory of chunk keys).
    Dir,
    /// A metadata document.
    Meta(&'a Arc<[u8]>),
    /// A chunk file of array `array` (index into [`DatasetView::arrays`]).
    Chunk { array: usize, pos: usize, chunk: &'a ChunkRef },
    /// Shard `shard` (row-major in its shard grid) of sharded v3 array `array`.
    Shard { array: usize, shard: usize },
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
    /// How its chunks are grouped into shard files (v3 with `--shard-size` > 0).
    pub shards: Option<Sharding>,
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
    pub format: ZarrFormat,
    docs: HashMap<String, Arc<[u8]>, Fast>,
    dirs: HashMap<String, Dir, Fast>,
    /// v3: every node's document by path, for the groups' consolidated metadata.
    nodes: Vec<(String, Arc<str>)>,
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

impl DatasetView {
    /// The v2 view (renders every metadata document).
    pub fn new(index: DatasetIndex) -> DatasetView {
        DatasetView::with_format(index, ZarrFormat::V2)
    }

    /// The view in `format` (renders every metadata document).
    pub fn with_format(mut index: DatasetIndex, format: ZarrFormat) -> DatasetView {
        let reserved = if format == ZarrFormat::V2 { V2_RESERVED } else { V3_RESERVED };
        assign_keys(&mut index.root, reserved);
        let mut view = DatasetView {
            arrays: vec![],
            root_attrs: index.root.attrs.clone(),
            dimensions: vec![],
            format,
            docs: HashMap::default(),
            dirs: HashMap::default(),
            nodes: vec![],
        };
        let mut groups = Vec::new();
        view.add_group("", index.root, &mut groups);
        match format {
            ZarrFormat::V2 => {
                let zmeta = v2doc::zmetadata(&view.nodes);
                view.docs.insert(".zmetadata".into(), Arc::from(zmeta.into_bytes()));
                if let Some(Dir::Group { children }) = view.dirs.get_mut("") {
                    children.insert(0, Child { name: ".zmetadata".into(), is_dir: false });
                }
            }
            ZarrFormat::V3 { .. } => view.v3_group_docs(&groups),
        }
        view.nodes = Vec::new();
        view
    }

    fn add_doc(&mut self, key: String, doc: String) {
        let doc: Arc<str> = Arc::from(doc);
        self.docs.insert(key.clone(), Arc::from(doc.clone()));
        self.nodes.push((key, doc));
    }

    /// Walk a group: its arrays' documents (v2: its own too), directories and dimensions;
    /// `groups` collects (path, attributes) of every group for v3's documents.
    fn add_group(
        &mut self,
        path: &str,
        group: GroupNode,
        groups: &mut Vec<(String, crate::index::Attrs)>,
    ) {
        let file = |n: &str| Child { name: n.into(), is_dir: false };
        let mut children = match self.format {
            ZarrFormat::V2 => {
                self.add_doc(join(path, ".zgroup"), v2doc::zgroup());
                self.add_doc(join(path, ".zattrs"), v2doc::group_zattrs(&group.attrs));
                vec![file(".zattrs"), file(".zgroup")]
            }
            ZarrFormat::V3 { .. } => vec![file("zarr.json")],
        };
        groups.push((path.to_string(), group.attrs));
        for (name, len) in &group.dimensions {
            self.dimensions.push((path.to_string(), name.clone(), *len));
        }
        for mut array in group.arrays {
            // an index read back (serde) or from a worker grows its vector by doubling: held
            // for the dataset's life, the slack would be up to 3/4 more than the references
            array.chunk_refs.shrink_to_fit();
            let apath = join(path, &array.name);
            children.push(Child { name: array.name.clone(), is_dir: true });
            let mut shards = None;
            match self.format {
                ZarrFormat::V2 => {
                    self.add_doc(join(&apath, ".zarray"), v2doc::zarray(&array));
                    self.add_doc(join(&apath, ".zattrs"), v2doc::array_zattrs(&array));
                }
                ZarrFormat::V3 { shard_bytes } => {
                    // v3's fill_value is the element unwritten data reads as: a generated
                    // fill chunk says nothing it does not (no file, no shard index entry)
                    if array.dtype.is_number() {
                        for r in &mut array.chunk_refs {
                            if matches!(r, Some(ChunkRef::Fill { .. })) {
                                *r = None;
                            }
                        }
                    }
                    shards = Sharding::plan(&array, shard_bytes);
                    let doc = v3doc::array(&array, shards.as_ref());
                    self.docs.insert(join(&apath, "zarr.json"), Arc::from(doc.as_bytes()));
                    self.nodes.push((apath.clone(), Arc::from(doc)));
                }
            }
            self.dirs.insert(apath.clone(), Dir::Array(self.arrays.len()));
            self.arrays.push(ArrayEntry { path: apath, node: array, shards });
        }
        for sub in group.groups {
            children.push(Child { name: sub.name.clone(), is_dir: true });
            let gpath = join(path, &sub.name);
            if let ZarrFormat::V3 { .. } = self.format {
                self.nodes.push((gpath.clone(), Arc::from(v3doc::group(&sub.attrs, None))));
            }
            self.add_group(&gpath, sub, groups);
        }
        self.dirs.insert(path.to_string(), Dir::Group { children });
    }

    /// v3: each group's `zarr.json`, its consolidated metadata the documents of every node
    /// below it, keyed by their path below it.
    fn v3_group_docs(&mut self, groups: &[(String, crate::index::Attrs)]) {
        for (path, attrs) in groups {
            let below: Vec<(String, Arc<str>)> = self
                .nodes
                .iter()
                .filter_map(|(p, doc)| {
                    let rel = if path.is_empty() {
                        p.as_str()
                    } else {
                        p.strip_prefix(path.as_str())?.strip_prefix('/')?
                    };
                    Some((rel.to_string(), doc.clone()))
                })
                .collect();
            let doc = v3doc::group(attrs, Some(&below));
            self.docs.insert(join(path, "zarr.json"), Arc::from(doc.into_bytes()));
        }
    }

    /// Roughly the heap memory the view holds: chunk references, shard plans and metadata
    /// documents (what the dataset cache weighs it by).
    pub fn heap_bytes(&self) -> u64 {
        let arrays: u64 = self
            .arrays
            .iter()
            .map(|a| a.node.chunk_bytes() + a.shards.as_ref().map_or(0, Sharding::heap_bytes))
            .sum();
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
        match self.format {
            ZarrFormat::V2 => {
                let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
                let Some(Dir::Array(i)) = self.dirs.get(parent) else {
                    return None;
                };
                let node = &self.arrays[*i].node;
                let pos = key_position(name, node.grid_iter())?;
                let chunk = node.chunk_refs.get(pos)?.as_ref()?;
                Some(Entry::Chunk { array: *i, pos, chunk })
            }
            ZarrFormat::V3 { .. } => {
                let (i, rest) = self.v3_array_of(path)?;
                let entry = &self.arrays[i];
                match &entry.shards {
                    None => match v3key::parse(rest, entry.node.grid_iter())? {
                        Under::Leaf(pos) => {
                            let chunk = entry.node.chunk_refs.get(pos)?.as_ref()?;
                            Some(Entry::Chunk { array: i, pos, chunk })
                        }
                        Under::Dir { block, .. } => self.v3_present(i, block).then_some(Entry::Dir),
                    },
                    Some(s) => match v3key::parse(rest, s.grid.iter().copied())? {
                        Under::Leaf(shard) => {
                            s.exists(shard).then_some(Entry::Shard { array: i, shard })
                        }
                        Under::Dir { block, .. } => s.present(block).then_some(Entry::Dir),
                    },
                }
            }
        }
    }

    /// v3: the array a path below an array directory belongs to, and the rest of the path.
    fn v3_array_of<'p>(&self, path: &'p str) -> Option<(usize, &'p str)> {
        let mut end = path.len();
        while let Some(slash) = path[..end].rfind('/') {
            if let Some(Dir::Array(i)) = self.dirs.get(&path[..slash]) {
                return Some((*i, &path[slash + 1..]));
            }
            end = slash;
        }
        None
    }

    /// v3, unsharded: whether a chunk of array `i` is in the row-major range `block`.
    fn v3_present(&self, i: usize, block: std::ops::Range<usize>) -> bool {
        let refs = &self.arrays[i].node.chunk_refs;
        refs.get(block.start.min(refs.len())..block.end.min(refs.len()))
            .is_some_and(|r| r.iter().any(Option::is_some))
    }

    /// At most `max` children of a directory from the `start`-th on: a readdir of an array
    /// with 100,000 chunks comes in many small pages, and each page must not cost the whole
    /// listing (names are only made for the page).
    pub fn list_page(&self, path: &str, start: usize, max: usize) -> Option<Vec<Child>> {
        let file = |name: String| Child { name, is_dir: false };
        match self.dirs.get(path) {
            Some(Dir::Group { children }) => {
                Some(children.iter().skip(start).take(max).cloned().collect())
            }
            Some(Dir::Array(i)) if self.format == ZarrFormat::V2 => {
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
            Some(Dir::Array(i)) => {
                let entry = &self.arrays[*i];
                let is_dir = !entry.node.shape.is_empty();
                let any = match &entry.shards {
                    Some(s) => s.present(0..usize::MAX),
                    None => entry.node.chunk_refs.iter().any(Option::is_some),
                };
                let names = [
                    Some(file("zarr.json".into())),
                    any.then(|| Child { name: "c".into(), is_dir }),
                ];
                Some(names.into_iter().flatten().skip(start).take(max).collect())
            }
            None => self.v3_list_keys(path, start, max),
        }
    }

    /// v3: a page of a directory of chunk keys (`<array>/c`, `<array>/c/3`, …).
    fn v3_list_keys(&self, path: &str, start: usize, max: usize) -> Option<Vec<Child>> {
        let (i, rest) = self.v3_array_of(path)?;
        let entry = &self.arrays[i];
        let (grid, under) = match &entry.shards {
            Some(s) => (s.grid.clone(), v3key::parse(rest, s.grid.iter().copied())?),
            None => (entry.node.grid(), v3key::parse(rest, entry.node.grid_iter())?),
        };
        let Under::Dir { depth, block } = under else {
            return None;
        };
        let present = |r: std::ops::Range<usize>| match &entry.shards {
            Some(s) => s.present(r),
            None => self.v3_present(i, r),
        };
        let page = v3key::children(&grid, depth, block, present, (start, max));
        Some(page.into_iter().map(|(name, is_dir)| Child { name, is_dir }).collect())
    }
}
