//! The members of a group: its link messages, in the header (compact storage) or in a fractal
//! heap indexed by a v2 B-tree (dense storage), in the order netcdf-c visits them — creation
//! order when the group tracks it, name order otherwise. Old-style symbol-table groups, soft
//! and external links are declined.
//! Reference: HDF5 File Format Specification 3.0, sections IV.A.2.c and IV.A.2.g.

use super::btree2;
use super::bytes::{Cursor, Source, UNDEFINED};
use super::header::{Header, LINK, LINK_INFO, SYMBOL_TABLE};
use super::heap::Heap;
use crate::source::Declined;

/// v2 B-tree record type of a link name index: name hash (4), heap ID (7).
const LINK_NAMES: u8 = 5;

/// A hard link: name and object header address.
pub struct Link {
    pub name: String,
    pub addr: u64,
    order: u64,
}

/// The group's links in netcdf-c's visiting order.
pub fn links(src: &Source<'_>, header: &Header) -> Result<Vec<Link>, Declined> {
    if header.first(SYMBOL_TABLE).is_some() {
        return Err("old-style (symbol table) group".into());
    }
    let info = header.first(LINK_INFO).ok_or("group without link info")?;
    let mut c = Cursor::new(&info.body);
    let _version = c.u8()?;
    let flags = c.u8()?;
    let tracked = flags & 0x01 != 0;
    if tracked {
        c.skip(8)?;
    }
    let (heap, names) = (c.u64()?, c.u64()?);
    let mut out = Vec::new();
    if heap != UNDEFINED {
        let mut heap = Heap::open(src, heap)?;
        for record in btree2::records(src, names, LINK_NAMES)? {
            out.push(parse_link(&heap.object(src, record.get(4..).unwrap_or(&[]))?)?);
        }
    }
    for m in header.all(LINK) {
        out.push(parse_link(&m.body)?);
    }
    if tracked {
        out.sort_by_key(|l| l.order);
    } else {
        out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    }
    Ok(out)
}

fn parse_link(body: &[u8]) -> Result<Link, Declined> {
    let mut c = Cursor::new(body);
    if c.u8()? != 1 {
        return Err("link message version".into());
    }
    let flags = c.u8()?;
    if flags & 0x08 != 0 && c.u8()? != 0 {
        return Err("soft or external link".into());
    }
    let order = if flags & 0x04 != 0 { c.u64()? } else { 0 };
    if flags & 0x10 != 0 {
        c.skip(1)?; // name character set
    }
    let name_len = c.uint(1 << (flags & 0x03))?;
    let name = c.take(usize::try_from(name_len).map_err(|_| "link name too long")?)?;
    let name = String::from_utf8(name.to_vec()).map_err(|_| "link name not UTF-8")?;
    if name.is_empty() || name.contains('/') {
        return Err(Declined::Unsupported(format!("link name {name:?}")));
    }
    let addr = c.u64()?;
    Ok(Link { name, addr, order })
}
