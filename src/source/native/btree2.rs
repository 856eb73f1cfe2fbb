//! Version-2 B-trees: the indexes of dense link and attribute storage. Only the records are
//! wanted (callers order them themselves), so the tree is walked in any order.
//! Reference: HDF5 File Format Specification 3.0, section III.A.2.

use super::bytes::{enc_size, Cursor, Source};
use super::checksum;
use crate::source::Declined;

/// Bounds on records (more links or attributes than any file has) and on nodes visited.
const MAX_RECORDS: usize = 100_000;
const MAX_NODES: usize = 100_000;

/// Every record of the v2 B-tree whose header is at `addr`, if its records are of `kind`.
pub fn records(src: &Source<'_>, addr: u64, kind: u8) -> Result<Vec<Vec<u8>>, Declined> {
    let h = src.read(addr, 38)?;
    checksum::verify(&h, "B-tree header")?;
    let mut c = Cursor::new(&h);
    if c.take(4)? != b"BTHD" || c.u8()? != 0 {
        return Err("not a version-2 B-tree".into());
    }
    if c.u8()? != kind {
        return Err(Declined::Unsupported(format!("B-tree of another record type than {kind}")));
    }
    let node_size = u64::from(c.u32()?);
    let rec = usize::from(c.u16()?);
    let depth = usize::from(c.u16()?);
    c.skip(2)?;
    let root = c.u64()?;
    let root_n = usize::from(c.u16()?);
    if rec == 0 || depth > 16 || node_size < 16 {
        return Err("B-tree with odd sizes".into());
    }
    // HDF5's per-depth sizes of the child pointers' record counts (H5B2__hdr_init)
    let prefix = 10u64; // signature, version, type, checksum
    let leaf_max = (node_size - prefix) / rec as u64;
    let nrec_size = enc_size(leaf_max);
    let mut cum_max = vec![leaf_max];
    let mut cum_size = vec![0usize];
    for u in 1..=depth {
        let ptr = 8 + nrec_size + if u > 1 { cum_size[u - 1] } else { 0 };
        let room = node_size.checked_sub(prefix + ptr as u64).ok_or("B-tree nodes too small")?;
        let max = room / (rec + ptr) as u64;
        let cm = (max + 1).saturating_mul(cum_max[u - 1]).saturating_add(max);
        cum_max.push(cm);
        cum_size.push(enc_size(cm));
    }
    let mut out = Vec::new();
    let mut stack = vec![(root, root_n, depth)];
    let mut visited = std::collections::HashSet::new();
    while let Some((node, n, d)) = stack.pop() {
        // each node once (a node shared by two parents would repeat its records)
        if !visited.insert(node) || visited.len() > MAX_NODES || out.len() + n > MAX_RECORDS {
            return Err("B-tree too large, cyclic, or with shared nodes".into());
        }
        let b = src.read(node, node_size)?;
        let mut c = Cursor::new(&b);
        let sig = c.take(4)?;
        if sig != if d == 0 { b"BTLF" } else { b"BTIN" } {
            return Err("B-tree node with a wrong signature".into());
        }
        c.skip(2)?;
        for _ in 0..n {
            out.push(c.take(rec)?.to_vec());
        }
        let mut children = Vec::new();
        if d > 0 {
            for _ in 0..=n {
                let child = c.u64()?;
                let child_n = c.uint(nrec_size)? as usize;
                if d > 1 {
                    c.skip(cum_size[d - 1])?;
                }
                children.push((child, child_n, d - 1));
            }
        }
        // the checksum follows the records (and child pointers)
        checksum::verify(b.get(..c.at + 4).ok_or("short B-tree node")?, "B-tree node")?;
        stack.extend(children);
    }
    Ok(out)
}
