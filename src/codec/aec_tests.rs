//! Hand-built streams for each coding option of [`super`]; streams written by the real libaec
//! (through HDF5's szip filter) are decoded in `tests/szip.rs`.

use super::*;

/// An MSB-first bit writer for building streams.
#[derive(Default)]
struct W {
    bytes: Vec<u8>,
    n: u32,
}

impl W {
    fn put(&mut self, v: u64, bits: u32) -> &mut Self {
        for i in (0..bits).rev() {
            if self.n.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = ((v >> i) & 1) as u8;
            *self.bytes.last_mut().unwrap() |= bit << (7 - self.n % 8);
            self.n += 1;
        }
        self
    }
    fn fs(&mut self, zeros: u64) -> &mut Self {
        (0..zeros).for_each(|_| {
            self.put(0, 1);
        });
        self.put(1, 1)
    }
}

fn params(bits: u32, block: usize, rsi: usize, pp: bool) -> AecParams {
    AecParams { bits_per_sample: bits, block_size: block, rsi, msb: true, preprocess: pp }
}

fn decode(w: &W, p: &AecParams, samples: usize) -> Result<Vec<u8>, AecError> {
    let mut out = vec![0u8; samples * p.sample_bytes()];
    aec_decode(&w.bytes, p, p.rsi * p.block_size, &mut out).map(|_| out)
}

#[test]
fn uncompressed_block() {
    let p = params(8, 8, 1, false);
    let mut w = W::default();
    w.put(7, 3); // identifier 7 with 3 bits: uncompressed
    for v in 10..18 {
        w.put(v, 8);
    }
    assert_eq!(decode(&w, &p, 8).unwrap(), (10..18).collect::<Vec<u8>>());
}

#[test]
fn split_block_with_low_bits() {
    let p = params(16, 8, 1, false);
    let mut w = W::default();
    w.put(3, 4); // k = 2
    let values = [0u64, 1, 5, 9, 13, 2, 7, 30];
    for v in values {
        w.fs(v >> 2);
    }
    for v in values {
        w.put(v & 3, 2);
    }
    let got = decode(&w, &p, 8).unwrap();
    let want: Vec<u8> = values.iter().flat_map(|v| (*v as u16).to_be_bytes()).collect();
    assert_eq!(got, want);
}

#[test]
fn zero_blocks_to_end_of_segment_with_reference() {
    // preprocessed: a reference sample of 100, then zero differences for all 3 blocks (ROS)
    let p = params(8, 8, 3, true);
    let mut w = W::default();
    w.put(0, 3).put(0, 1).put(100, 8).fs(4);
    assert_eq!(decode(&w, &p, 24).unwrap(), vec![100u8; 24]);
    // two zero blocks, then an uncompressed one
    let mut w = W::default();
    w.put(0, 3).put(0, 1).put(5, 8).fs(1).put(7, 3);
    (0..8).for_each(|_| {
        w.put(2, 8); // mapped +1
    });
    let want: Vec<u8> = [vec![5u8; 16], (6..14).collect()].concat();
    assert_eq!(decode(&w, &p, 24).unwrap(), want);
}

#[test]
fn second_extension_pairs() {
    let p = params(8, 8, 1, false);
    let mut w = W::default();
    w.put(0, 3).put(1, 1);
    // pairs (a, b) coded as (a + b)(a + b + 1) / 2 + b
    let pairs = [(0u64, 0u64), (1, 0), (0, 2), (3, 1)];
    for (a, b) in pairs {
        w.fs((a + b) * (a + b + 1) / 2 + b);
    }
    let want: Vec<u8> = pairs.iter().flat_map(|(a, b)| [*a as u8, *b as u8]).collect();
    assert_eq!(decode(&w, &p, 8).unwrap(), want);
}

#[test]
fn unmapping_follows_ccsds() {
    // x = 250 near the top (theta 5): +2, -3, then a code past 2 theta (13 → 255 - 13)
    let mut s = vec![250u32, 4, 5, 13, 0];
    unmap(&mut s, 8, 255);
    assert_eq!(s, vec![250, 252, 249, 242, 242]);
    let mut s = vec![2u32, 9, 1];
    unmap(&mut s, 8, 255);
    assert_eq!(s, vec![2, 9, 8]); // 9 > 2 theta = 4: x = 9 (upwards from near zero)
}

#[test]
fn truncated_and_corrupt_streams_are_errors() {
    let p = params(8, 8, 1, false);
    let mut w = W::default();
    w.put(7, 3).put(1, 8);
    assert_eq!(decode(&w, &p, 8), Err(AecError::Truncated));
    // a zero-block run longer than the interval
    let mut w = W::default();
    w.put(0, 3).put(0, 1).fs(2);
    assert!(matches!(decode(&w, &p, 8), Err(AecError::Corrupt(_))));
    // a second-extension code beyond the table
    let mut w = W::default();
    w.put(0, 3).put(1, 1).fs(91);
    assert!(matches!(decode(&w, &p, 8), Err(AecError::Corrupt(_))));
    // every prefix of a valid stream, and every single bit flipped: never a panic
    let mut w = W::default();
    w.put(0, 3).put(1, 1);
    (0..4).for_each(|_| {
        w.fs(3);
    });
    w.put(2, 3);
    (0..8).for_each(|_| {
        w.fs(1);
    });
    (0..8).for_each(|_| {
        w.put(1, 1);
    });
    assert_eq!(decode(&w, &p, 16).unwrap()[8..], [3u8; 8]);
    for n in 0..w.bytes.len() {
        let cut = W { bytes: w.bytes[..n].to_vec(), n: 0 };
        assert!(decode(&cut, &p, 16).is_err(), "prefix of {n} bytes");
    }
    for bit in 0..w.bytes.len() * 8 {
        let mut flipped = W { bytes: w.bytes.clone(), n: 0 };
        flipped.bytes[bit / 8] ^= 0x80 >> (bit % 8);
        let _ = decode(&flipped, &p, 16);
    }
}

#[test]
fn parameters_are_checked() {
    let mut out = [0u8; 8];
    let bad = [params(0, 8, 1, false), params(33, 8, 1, false), params(8, 12, 1, false)];
    for p in bad {
        assert!(matches!(aec_decode(&[0; 8], &p, 8, &mut out), Err(AecError::Params(_))));
    }
    let p = params(8, 8, 0, false);
    assert!(aec_decode(&[0; 8], &p, 8, &mut out).is_err());
}
