//! Chunk keys: `"3.0.1"` ⇄ grid coordinates `[3, 0, 1]` (`"0"` for a 0-d array).

/// Parse a chunk key of an array of rank `rank`. Only the canonical spelling is accepted
/// (no signs, no leading zeros), so that every chunk has exactly one name.
pub fn parse_chunk_key(name: &str, rank: usize) -> Option<Vec<u64>> {
    if rank == 0 {
        return (name == "0").then(Vec::new);
    }
    let coords: Vec<u64> = name
        .split('.')
        .map(|part| {
            let v: u64 = part.parse().ok()?;
            (v.to_string() == part).then_some(v)
        })
        .collect::<Option<_>>()?;
    (coords.len() == rank).then_some(coords)
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
        }
    }
}
