//! Chunk keys: grid coordinates `[3, 0, 1]` → `"3.0.1"` (`"0"` for a 0-d array), and a key →
//! its position in the grid. Only the canonical spelling is accepted (no signs, no leading
//! zeros), so that every chunk has exactly one name.

use crate::index::row_major;

/// Row-major position of chunk `name` in a grid of `grid` chunks per dimension; `None` for a
/// name not spelled canonically or outside the grid. Allocates nothing (every read
/// request resolves its chunk's name).
pub fn key_position(name: &str, grid: impl ExactSizeIterator<Item = u64>) -> Option<usize> {
    if grid.len() == 0 {
        return (name == "0").then_some(0);
    }
    row_major(name.split('.').map(canonical), grid)
}

/// A coordinate in its one spelling: decimal digits, no sign, no leading zero (v3 keys too).
pub fn canonical(part: &str) -> Option<u64> {
    let digits = part.as_bytes();
    let leading_zero = digits.len() > 1 && digits[0] == b'0';
    if digits.is_empty() || leading_zero || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    part.parse().ok()
}

/// The key of the chunk at `coords`.
pub fn chunk_key(coords: &[u64]) -> String {
    if coords.is_empty() {
        return "0".to_string();
    }
    let parts: Vec<String> = coords.iter().map(u64::to_string).collect();
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The coordinates a key names, as the table states them (the oracle of `key_position`).
    fn parse_chunk_key(name: &str, rank: usize) -> Option<Vec<u64>> {
        if rank == 0 {
            return (name == "0").then(Vec::new);
        }
        let coords: Vec<u64> = name.split('.').map(canonical).collect::<Option<_>>()?;
        (coords.len() == rank).then_some(coords)
    }

    #[test]
    fn table() {
        let cases: &[(&str, usize, Option<Vec<u64>>)] = &[
            ("0", 0, Some(vec![])),
            ("1", 0, None),
            ("3.0.1", 3, Some(vec![3, 0, 1])),
            ("3.0", 3, None),
            ("3.0.1.2", 3, None),
            ("03.0.1", 3, None),
            ("+3.0.1", 3, None),
            ("3..1", 3, None),
            ("a.b.c", 3, None),
            ("18446744073709551615", 1, Some(vec![u64::MAX])),
            ("18446744073709551616", 1, None),
            (".zarray", 1, None),
            ("", 1, None),
        ];
        for (key, rank, want) in cases {
            assert_eq!(&parse_chunk_key(key, *rank), want, "{key} rank {rank}");
            if let Some(c) = want {
                assert_eq!(&chunk_key(c), key);
            }
            // the position in a grid just large enough, and one too small
            let grid: Vec<u64> = match want {
                Some(c) => c.iter().map(|c| c.saturating_add(1)).collect(),
                None => vec![4; *rank],
            };
            // (u64::MAX has no grid to fit in)
            let fits = |c: &Vec<u64>| c.iter().zip(&grid).all(|(c, g)| c < g);
            let row_major = want
                .as_ref()
                .filter(|c| fits(c))
                .map(|c| c.iter().zip(&grid).fold(0u64, |p, (c, g)| p * g + c));
            let expected = row_major.and_then(|p| usize::try_from(p).ok());
            assert_eq!(key_position(key, grid.iter().copied()), expected, "{key}");
            if let Some(c) = want.as_ref().filter(|c| !c.is_empty()) {
                assert_eq!(key_position(key, c.iter().copied()), None, "{key}: outside");
            }
        }
    }
}
