//! The checksums of HDF5 metadata (superblock v2/v3, v2 object headers and their
//! continuation blocks, v2 B-tree nodes, fractal heap blocks): Bob Jenkins' lookup3
//! `hashlittle` with seed 0, as libhdf5's `H5_checksum_metadata`. libhdf5 refuses a structure
//! whose checksum does not match, so the native reader must not read past one either.
//! Reference: HDF5 File Format Specification 3.0, section II.D; lookup3.c (public domain).

use crate::source::Declined;

/// `hashlittle(data, data.len(), 0)`.
pub fn lookup3(data: &[u8]) -> u32 {
    let mut a = 0xdead_beefu32.wrapping_add(data.len() as u32);
    let (mut b, mut c) = (a, a);
    let word = |k: &[u8], i: usize| -> u32 {
        let mut w = [0u8; 4];
        let part = k.get(i..(i + 4).min(k.len())).unwrap_or(&[]);
        w[..part.len()].copy_from_slice(part);
        u32::from_le_bytes(w)
    };
    let mut k = data;
    while k.len() > 12 {
        a = a.wrapping_add(word(k, 0));
        b = b.wrapping_add(word(k, 4));
        c = c.wrapping_add(word(k, 8));
        // mix
        a = a.wrapping_sub(c) ^ c.rotate_left(4);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a) ^ a.rotate_left(6);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b) ^ b.rotate_left(8);
        b = b.wrapping_add(a);
        a = a.wrapping_sub(c) ^ c.rotate_left(16);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a) ^ a.rotate_left(19);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b) ^ b.rotate_left(4);
        b = b.wrapping_add(a);
        k = &k[12..];
    }
    if k.is_empty() {
        return c;
    }
    // the last 1..=12 bytes, zero-padded
    a = a.wrapping_add(word(k, 0));
    b = b.wrapping_add(word(k, 4));
    c = c.wrapping_add(word(k, 8));
    // final
    c = (c ^ b).wrapping_sub(b.rotate_left(14));
    a = (a ^ c).wrapping_sub(c.rotate_left(11));
    b = (b ^ a).wrapping_sub(a.rotate_left(25));
    c = (c ^ b).wrapping_sub(b.rotate_left(16));
    a = (a ^ c).wrapping_sub(c.rotate_left(4));
    b = (b ^ a).wrapping_sub(a.rotate_left(14));
    (c ^ b).wrapping_sub(b.rotate_left(24))
}

/// Check `bytes`, whose last four bytes are the checksum of the ones before.
pub fn verify(bytes: &[u8], what: &str) -> Result<(), Declined> {
    let split = bytes.len().checked_sub(4).ok_or("structure shorter than its checksum")?;
    // fuzzing builds let mutated structures through, to reach the code behind them
    if cfg!(fuzzing) {
        return Ok(());
    }
    let (body, sum) = bytes.split_at(split);
    let stored = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
    if lookup3(body) == stored {
        Ok(())
    } else {
        Err(Declined::Unsupported(format!("{what}: checksum mismatch (libhdf5 refuses it too)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // from lookup3.c's driver: hashlittle("", 0, 0) and the "Four score" sentence
        assert_eq!(lookup3(b""), 0xdead_beef);
        assert_eq!(lookup3(b"Four score and seven years ago"), 0x1777_0551);
    }
}
