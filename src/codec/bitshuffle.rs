//! Blosc's bit shuffle undone: a block of n elements of `typesize` bytes stored as
//! `8 * typesize` rows of n bits (row b: bit b of every element, least significant bit of
//! the element's little-endian bytes first). Blocks whose element count is not a multiple of
//! 8 are stored unshuffled, as c-blosc 1 writes them.

/// Undo the bit shuffle of one block (`src` and `dst` of the block's length).
pub fn bitunshuffle(src: &[u8], typesize: usize, dst: &mut [u8]) {
    let n = src.len().checked_div(typesize).unwrap_or(0);
    if !n.is_multiple_of(8) || n == 0 {
        dst.copy_from_slice(src);
        return;
    }
    dst.fill(0);
    let row_bytes = n / 8;
    for bit in 0..typesize * 8 {
        let row = &src[bit * row_bytes..(bit + 1) * row_bytes];
        let (byte_in_elem, shift) = (bit / 8, bit % 8);
        for (k, b) in row.iter().enumerate() {
            if *b == 0 {
                continue;
            }
            for j in 0..8 {
                let i = k * 8 + j;
                dst[i * typesize + byte_in_elem] |= ((b >> j) & 1) << shift;
            }
        }
    }
    let whole = n * typesize;
    dst[whole..].copy_from_slice(&src[whole..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undoes_a_bit_transpose() {
        // 8 elements of 2 bytes: element i = i (low byte), so row b holds bit b of 0..8
        let elems: Vec<u16> = (0..8).collect();
        let mut src = vec![0u8; 16];
        for (bit, row) in src.iter_mut().enumerate() {
            for (i, e) in elems.iter().enumerate() {
                *row |= (((e >> bit) & 1) as u8) << i;
            }
        }
        let mut dst = vec![0u8; 16];
        bitunshuffle(&src, 2, &mut dst);
        let want: Vec<u8> = elems.iter().flat_map(|e| e.to_le_bytes()).collect();
        assert_eq!(dst, want);
        // 3 elements: not a multiple of 8, stored as they are
        let mut dst = vec![0u8; 6];
        bitunshuffle(&[1, 2, 3, 4, 5, 6], 2, &mut dst);
        assert_eq!(dst, [1, 2, 3, 4, 5, 6]);
    }
}
