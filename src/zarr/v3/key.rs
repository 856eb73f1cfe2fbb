//! v3 chunk keys with the `default` encoding and separator `/`: grid coordinates `[3, 0, 1]`
//! → `c/3/0/1` (`c` for a 0-d array). The separator makes every key prefix a directory
//! (`c`, `c/3`, `c/3/0`), which [`parse`] resolves too. Only the canonical spelling is
//! accepted, so that every chunk has exactly one name.

use crate::zarr::v2::key::canonical;
use std::ops::Range;

/// What a path below an array directory names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Under {
    /// A directory of keys: the first `depth` coordinates given, `block` the row-major
    /// positions of the grid below it.
    Dir { depth: usize, block: Range<usize> },
    /// The chunk (or shard) at this row-major position.
    Leaf(usize),
}

/// The key of the chunk at `coords`.
pub fn chunk_key(coords: &[u64]) -> String {
    let mut key = String::from("c");
    for c in coords {
        key.push('/');
        key.push_str(&c.to_string());
    }
    key
}

/// What `rest` (the path below an array directory: `c`, `c/3`, `c/3/0/1`) names in a grid
/// of `grid` chunks per dimension; `None` when it names nothing there. Allocates nothing.
pub fn parse(rest: &str, grid: impl ExactSizeIterator<Item = u64>) -> Option<Under> {
    let rank = grid.len();
    let mut parts = rest.split('/');
    if parts.next()? != "c" {
        return None;
    }
    let (mut pos, mut depth, mut below) = (0u64, 0usize, 1u64);
    for g in grid {
        match parts.next() {
            // (the split is fused: once a part is missing, none follows)
            Some(part) => {
                let c = canonical(part)?;
                if c >= g {
                    return None;
                }
                pos = pos.checked_mul(g)?.checked_add(c)?;
                depth += 1;
            }
            None => below = below.checked_mul(g)?,
        }
    }
    if parts.next().is_some() {
        return None;
    }
    let pos = usize::try_from(pos).ok()?;
    if depth == rank {
        return Some(Under::Leaf(pos));
    }
    let below = usize::try_from(below).ok()?;
    Some(Under::Dir { depth, block: pos * below..(pos + 1) * below })
}

/// At most `max` entries from the `start`-th on of directory `Dir { depth, block }` in a grid
/// of `grid` chunks per dimension, each `(name, is_dir)`: only coordinates below which
/// `present` says some chunk exists.
pub fn children(
    grid: &[u64],
    depth: usize,
    block: Range<usize>,
    present: impl Fn(Range<usize>) -> bool,
    (start, max): (usize, usize),
) -> Vec<(String, bool)> {
    let Some(&n) = grid.get(depth) else {
        return Vec::new();
    };
    let sub = grid[depth + 1..].iter().product::<u64>() as usize;
    let is_dir = depth + 1 < grid.len();
    (0..n as usize)
        .map(|c| (c, block.start + c * sub..block.start + (c + 1) * sub))
        .filter(|(_, range)| present(range.clone()))
        .skip(start)
        .take(max)
        .map(|(c, _)| (c.to_string(), is_dir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_prefixes() {
        let grid = [3u64, 4, 5];
        let g = || grid.iter().copied();
        assert_eq!(chunk_key(&[2, 0, 1]), "c/2/0/1");
        assert_eq!(chunk_key(&[]), "c");
        assert_eq!(parse("c/2/0/1", g()), Some(Under::Leaf(2 * 20 + 1)));
        assert_eq!(parse("c", g()), Some(Under::Dir { depth: 0, block: 0..60 }));
        assert_eq!(parse("c/1", g()), Some(Under::Dir { depth: 1, block: 20..40 }));
        assert_eq!(parse("c/1/3", g()), Some(Under::Dir { depth: 2, block: 35..40 }));
        for bad in ["c/3/0/0", "c/01/0/0", "c/1/0/0/0", "c/", "c//0/0", "d/0/0/0", "", "c/+1"] {
            assert_eq!(parse(bad, g()), None, "{bad}");
        }
        assert_eq!(parse("c", std::iter::empty()), Some(Under::Leaf(0)));
        assert_eq!(parse("c/0", std::iter::empty()), None);
    }

    #[test]
    fn lists_only_what_holds_chunks() {
        let grid = [2u64, 3];
        // only chunk (1, 2) exists
        let present = |r: Range<usize>| r.contains(&5);
        assert_eq!(children(&grid, 0, 0..6, present, (0, 10)), vec![("1".to_string(), true)]);
        assert_eq!(children(&grid, 1, 3..6, present, (0, 10)), vec![("2".to_string(), false)]);
        let all = |_: Range<usize>| true;
        let names: Vec<String> =
            children(&grid, 1, 0..3, all, (1, 1)).into_iter().map(|c| c.0).collect();
        assert_eq!(names, ["1"]);
    }
}
