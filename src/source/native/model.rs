//! The netCDF data model of the file, the way netcdf-c builds it from HDF5 objects: groups
//! from links (visited in creation order), dimensions from dimension scales (`CLASS =
//! "DIMENSION_SCALE"`; ids from `_Netcdf4Dimid`, else in reading order; an unlimited dimension as long as the longest
//! variable using it), variables' dimensions from their `DIMENSION_LIST` references, netcdf-c's
//! own bookkeeping attributes hidden.

use super::attribute::{self, GlobalHeap, RawAttribute};
use super::btree2;
use super::bytes::{Cursor, Source, UNDEFINED};
use super::header::{
    self, Header, ATTRIBUTE, ATTRIBUTE_INFO, DATATYPE, LAYOUT, LINK_INFO, SYMBOL_TABLE,
};
use super::heap::Heap;
use super::links::links;
use super::storage_facts;
use super::types::{parse_space, parse_type, Space, Type, UNLIMITED};
use super::var::Var;
use super::IndexOptions;
use crate::index::{Attrs, GroupNode};
use crate::source::nc4::join;
use crate::source::reserved::HIDDEN;
use crate::source::Declined;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Attribute names netcdf-c versions disagree on (4.9.0 hides it, netCDF4-python's own
/// build lists it): a file carrying one is left to the libraries.
const DISPUTED: &[&str] = &["_NCZARR_ATTR"];

/// netcdf-c's `NAME` of a dimension scale that is not also a variable.
const DIM_WITHOUT_VARIABLE: &[u8] = b"This is a netCDF dimension but not a netCDF variable";

/// v2 B-tree record type of an attribute name index.
const ATTRIBUTE_NAMES: u8 = 8;

/// Prefix of a variable named like a dimension it is not the coordinate variable of.
const NON_COORD: &str = "_nc4_non_coord_";

/// Bound on links followed.
const MAX_OBJECTS: usize = 100_000;

/// Bounds on groups and on their nesting (the depth of the recursion).
const MAX_GROUPS: usize = 10_000;
const MAX_DEPTH: usize = 64;

struct Dim {
    name: String,
    len: u64,
    unlimited: bool,
    id: i64,
    group: usize,
}

/// An object's attributes as stored, and whether their order is the creation order.
struct RawAttrs {
    list: Vec<RawAttribute>,
    ordered: bool,
}

struct Group {
    name: String,
    parent: Option<usize>,
    attrs: Attrs,
    dims: Vec<usize>,
    vars: Vec<Var>,
    children: Vec<usize>,
}

struct Reader<'a, 'f> {
    src: &'a Source<'f>,
    heap: GlobalHeap,
    groups: Vec<Group>,
    dims: Vec<Dim>,
    /// Dimension of each dimension scale, by object header address.
    scales: HashMap<u64, usize>,
    next_dimid: i64,
    /// Every object reached so far, by header address (the root included).
    object_addrs: HashSet<u64>,
}

/// Read the whole tree below the root group at `root` into index groups, storage included.
pub fn read(
    src: &Source<'_>,
    root: u64,
    path: &Path,
    options: &IndexOptions,
) -> Result<GroupNode, Declined> {
    let mut r = Reader {
        src,
        heap: GlobalHeap::default(),
        groups: vec![],
        dims: vec![],
        scales: HashMap::new(),
        next_dimid: 0,
        object_addrs: HashSet::from([root]),
    };
    r.group(header::read(src, root)?, String::new(), "/".into(), None)?;
    r.unlimited_lengths();
    let target = storage_facts::target(src, path, options);
    r.build(0, &target)
}

impl Reader<'_, '_> {
    /// Read the group whose object header is `header` (every object is reached once: a
    /// group linked twice, or into itself, was declined where its link was read).
    fn group(
        &mut self,
        header: Header,
        name: String,
        path: String,
        parent: Option<usize>,
    ) -> Result<usize, Declined> {
        let depth = std::iter::successors(parent, |p| self.groups[*p].parent).count();
        if depth >= MAX_DEPTH || self.groups.len() >= MAX_GROUPS {
            return Err(Declined::Unsupported(format!(
                "{path}: groups nested too deeply, or too many groups"
            )));
        }
        let raw = self.raw_attrs(&header)?;
        let attrs = self.convert(&raw)?;
        let me = self.groups.len();
        self.groups.push(Group {
            name,
            parent,
            attrs,
            dims: vec![],
            vars: vec![],
            children: vec![],
        });
        let mut datasets = Vec::new();
        let mut groups = Vec::new();
        for link in links(self.src, &header)? {
            // an object linked twice has no single netCDF meaning (and would be read twice)
            if !self.object_addrs.insert(link.addr) || self.object_addrs.len() > MAX_OBJECTS {
                return Err(Declined::Unsupported(format!(
                    "{path}: an object linked twice, or too many objects"
                )));
            }
            let h = header::read(self.src, link.addr)?;
            let child_path = join(&path, &link.name);
            if h.first(LAYOUT).is_some() {
                datasets.push((link, h, child_path));
            } else if h.first(LINK_INFO).is_some() || h.first(SYMBOL_TABLE).is_some() {
                groups.push((link, h, child_path));
            } else {
                return Err(Declined::Unsupported(format!(
                    "{child_path}: neither a group nor a dataset"
                )));
            }
        }
        // Scales first: a variable may use a dimension defined after it in the same group.
        let mut candidates = Vec::new();
        for (link, h, child_path) in datasets {
            let raw = self.raw_attrs(&h)?;
            if let Some(is_var) = self.scale(me, &link.name, link.addr, &h, &raw.list)? {
                if !is_var {
                    continue;
                }
            }
            candidates.push((link, h, child_path, raw));
        }
        for (link, h, child_path, raw) in candidates {
            let var = self.variable(me, link.name, link.addr, h, child_path, raw)?;
            self.groups[me].vars.push(var);
        }
        for (link, h, child_path) in groups {
            let child = self.group(h, link.name, child_path, Some(me))?;
            self.groups[me].children.push(child);
        }
        Ok(me)
    }

    /// Register the dimension of a dimension scale; `Some(is_variable)` for a scale.
    fn scale(
        &mut self,
        group: usize,
        name: &str,
        addr: u64,
        h: &Header,
        raw: &[RawAttribute],
    ) -> Result<Option<bool>, Declined> {
        let class = raw.iter().find(|a| a.name == "CLASS");
        if !class.is_some_and(|a| a.data.starts_with(b"DIMENSION_SCALE")) {
            return Ok(None);
        }
        let space = dataspace(h)?;
        if space.dims.len() != 1 {
            return Err(Declined::Unsupported(format!(
                "{name}: dimension scale of rank {}",
                space.dims.len()
            )));
        }
        let is_var =
            !raw.iter().any(|a| a.name == "NAME" && a.data.starts_with(DIM_WITHOUT_VARIABLE));
        // netcdf-c: the id stored with the scale, else the next one in reading order
        let id = match raw.iter().find(|a| a.name == "_Netcdf4Dimid") {
            Some(a) => match attribute::value(a, self.src, &mut self.heap)?.int64() {
                crate::index::AttrValue::Int(i) if i >= 0 => i,
                _ => return Err("_Netcdf4Dimid is not a dimension id".into()),
            },
            None => self.next_dimid,
        };
        self.next_dimid = self.next_dimid.max(id.saturating_add(1));
        let d = self.dims.len();
        self.dims.push(Dim {
            name: name.to_string(),
            len: space.dims[0],
            unlimited: space.max[0] == UNLIMITED,
            id,
            group,
        });
        self.groups[group].dims.push(d);
        self.scales.insert(addr, d);
        Ok(Some(is_var))
    }

    fn variable(
        &mut self,
        group: usize,
        link_name: String,
        addr: u64,
        header: Header,
        hdf5_path: String,
        raw: RawAttrs,
    ) -> Result<Var, Declined> {
        let space = dataspace(&header)?;
        let dims = if let Some(&d) = self.scales.get(&addr) {
            vec![d]
        } else if let Some(list) = raw.list.iter().find(|a| a.name == "DIMENSION_LIST") {
            let refs = attribute::references(list, self.src, &mut self.heap)?;
            refs.iter().map(|r| self.visible_dim(group, *r)).collect::<Result<Vec<_>, _>>()?
        } else {
            vec![]
        };
        if dims.len() != space.dims.len() {
            return Err(Declined::Unsupported(format!(
                "{hdf5_path}: no netCDF dimensions (phony dimensions)"
            )));
        }
        let attrs = self.convert(&raw)?;
        // netcdf-c strips the prefix only from a longer name
        let stripped = link_name.strip_prefix(NON_COORD).filter(|rest| !rest.is_empty());
        let name = stripped.unwrap_or(&link_name).to_string();
        Ok(Var { name, hdf5_path, header, space, attrs, dims })
    }

    /// The dimension of the scale at `addr`, if it is defined in `group` or an ancestor.
    fn visible_dim(&self, group: usize, addr: u64) -> Result<usize, Declined> {
        let d = *self.scales.get(&addr).ok_or("DIMENSION_LIST names an unknown scale")?;
        let mut g = Some(group);
        while let Some(i) = g {
            if self.dims[d].group == i {
                return Ok(d);
            }
            g = self.groups[i].parent;
        }
        Err("DIMENSION_LIST names a scale outside the variable's groups".into())
    }

    /// Attribute messages in creation order, from the header or from dense storage.
    fn raw_attrs(&self, h: &Header) -> Result<RawAttrs, Declined> {
        let mut bodies: Vec<(Option<u32>, Vec<u8>)> = Vec::new();
        let mut dense_untracked = false;
        if let Some(info) = h.first(ATTRIBUTE_INFO) {
            let mut c = Cursor::new(&info.body);
            let _version = c.u8()?;
            let tracked = c.u8()? & 0x01 != 0;
            dense_untracked = !tracked;
            if tracked {
                c.skip(2)?;
            }
            let (heap, names) = (c.u64()?, c.u64()?);
            if heap != UNDEFINED {
                let mut heap = Heap::open(self.src, heap)?;
                // record: heap ID (8), message flags (1), creation order (4), name hash (4)
                for r in btree2::records(self.src, names, ATTRIBUTE_NAMES)? {
                    let mut c = Cursor::new(&r);
                    let id = c.take(8)?;
                    if c.u8()? & 0x02 != 0 {
                        return Err("shared attribute message".into());
                    }
                    bodies.push((Some(c.u32()?), heap.object(self.src, id)?));
                }
            }
        }
        for m in h.all(ATTRIBUTE) {
            if m.shared() {
                return Err("shared attribute message".into());
            }
            bodies.push((m.order.map(u32::from), m.body.clone()));
        }
        let ordered = !dense_untracked && bodies.iter().all(|(order, _)| order.is_some());
        bodies.sort_by_key(|(order, _)| *order);
        let list =
            bodies.iter().map(|(_, body)| attribute::parse(body)).collect::<Result<_, _>>()?;
        Ok(RawAttrs { list, ordered })
    }

    /// The attributes netcdf-c lists, converted. Their order is netcdf-c's (creation order)
    /// only where the object tracks it; without, one listed attribute is all that is taken.
    fn convert(&mut self, raw: &RawAttrs) -> Result<Attrs, Declined> {
        if let Some(a) = raw.list.iter().find(|a| DISPUTED.contains(&a.name.as_str())) {
            return Err(Declined::Unsupported(format!(
                "attribute {} (netcdf-c versions differ on it)",
                a.name
            )));
        }
        let listed: Vec<&RawAttribute> =
            raw.list.iter().filter(|a| !HIDDEN.contains(&a.name.as_str())).collect();
        if listed.len() > 1 && !raw.ordered {
            return Err("attribute creation order not tracked".into());
        }
        listed
            .into_iter()
            .map(|a| Ok((a.name.clone(), attribute::value(a, self.src, &mut self.heap)?)))
            .collect()
    }

    /// netcdf-c's length of an unlimited dimension: the longest extent along it of the
    /// variables using it, in its group and below (0 when none does).
    fn unlimited_lengths(&mut self) {
        let mut longest: HashMap<usize, u64> = HashMap::new();
        for g in &self.groups {
            for v in &g.vars {
                for (d, extent) in v.dims.iter().zip(&v.space.dims) {
                    let e = longest.entry(*d).or_insert(0);
                    *e = (*e).max(*extent);
                }
            }
        }
        for (i, dim) in self.dims.iter_mut().enumerate() {
            if dim.unlimited {
                dim.len = longest.get(&i).copied().unwrap_or(0);
            }
        }
    }

    /// Group `g` as an index group, arrays with their storage.
    fn build(
        &mut self,
        g: usize,
        target: &storage_facts::Target<'_>,
    ) -> Result<GroupNode, Declined> {
        let mut dims: Vec<&Dim> = self.groups[g].dims.iter().map(|d| &self.dims[*d]).collect();
        dims.sort_by_key(|d| d.id);
        let dimensions = dims.iter().map(|d| (d.name.clone(), d.len)).collect();
        let vars = std::mem::take(&mut self.groups[g].vars);
        let mut arrays = Vec::with_capacity(vars.len());
        for v in vars {
            let names = v.dims.iter().map(|d| self.dims[*d].name.clone()).collect();
            let shape = v.dims.iter().map(|d| self.dims[*d].len).collect();
            let strings =
                parse_type(storage_facts::message(&v.header, DATATYPE)?)? == Type::VlenString;
            arrays.push(if strings {
                super::string_values::array(self.src, &mut self.heap, v, names, shape)?
            } else {
                storage_facts::array(target, v, names, shape)?
            });
        }
        let mut groups = Vec::new();
        for child in self.groups[g].children.clone() {
            groups.push(self.build(child, target)?);
        }
        let group = &mut self.groups[g];
        Ok(GroupNode {
            name: std::mem::take(&mut group.name),
            attrs: std::mem::take(&mut group.attrs),
            dimensions,
            arrays,
            groups,
            skipped: vec![],
        })
    }
}

fn dataspace(h: &Header) -> Result<Space, Declined> {
    let m = h.first(header::DATASPACE).ok_or("dataset without a dataspace")?;
    if m.shared() {
        return Err("shared dataspace".into());
    }
    parse_space(&m.body)
}
