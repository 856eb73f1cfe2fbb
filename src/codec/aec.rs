//! A decoder of CCSDS 121.0-B Adaptive Entropy Coding (Rice coding with the zero-block,
//! second-extension and uncompressed options, and the unit-delay predictor's mapping undone),
//! as libaec writes it for unsigned samples of 1–32 bits without padding between reference
//! sample intervals (the options szip's API uses). Written from the CCSDS 121.0-B text, with
//! libaec's decoder read (not copied) for what the standard leaves to it (where the
//! remainder-of-segment run ends, when decoding stops); HDF5's szip framing over it is
//! [`super::szip`].
//!
//! Bounded by construction: it writes exactly the caller's buffer and never allocates more
//! than one reference sample interval of samples; a stream that ends early or whose codes
//! cannot be valid is an error.

use bits::Bits;
use std::fmt;

mod bits;

/// Remainder of segment: a zero-block count of 5 means "to the end of the segment".
const ROS: u64 = 5;
/// The largest second-extension code (pairs whose sum is at most 12).
const SE_MAX: u64 = 90;

/// How a stream was coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AecParams {
    /// Bits of one sample (1–32).
    pub bits_per_sample: u32,
    /// Samples of one block (8, 16, 32 or 64).
    pub block_size: usize,
    /// Blocks of one reference sample interval.
    pub rsi: usize,
    /// Samples wider than a byte are written most significant byte first.
    pub msb: bool,
    /// The unit-delay predictor and its mapping are undone (szip's NN option).
    pub preprocess: bool,
}

impl AecParams {
    /// Bytes one decoded sample takes (1, 2 or 4).
    pub fn sample_bytes(&self) -> usize {
        match self.bits_per_sample {
            0..=8 => 1,
            9..=16 => 2,
            _ => 4,
        }
    }

    fn id_len(&self) -> u32 {
        match self.bits_per_sample {
            0..=8 => 3,
            9..=16 => 4,
            _ => 5,
        }
    }
}

/// Why a stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AecError {
    /// The stream ended before the output was full.
    Truncated,
    /// A code that no encoder writes (a zero run past its segment, a second-extension code
    /// beyond its table, a value wider than the samples).
    Corrupt(&'static str),
    /// The parameters are not ones this decoder handles.
    Params(&'static str),
}

impl fmt::Display for AecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AecError::Truncated => write!(f, "stream ends before the chunk is complete"),
            AecError::Corrupt(what) => write!(f, "corrupt stream: {what}"),
            AecError::Params(what) => write!(f, "unsupported parameters: {what}"),
        }
    }
}

/// Decode `input` into `out` (whole samples), keeping the first `keep` samples of each
/// reference sample interval (szip pads each scanline up to whole blocks; the padding is
/// decoded and dropped). Stops as soon as `out` is full; bits after that are ignored.
pub fn aec_decode(
    input: &[u8],
    p: &AecParams,
    keep: usize,
    out: &mut [u8],
) -> Result<(), AecError> {
    if !(1..=32).contains(&p.bits_per_sample) {
        return Err(AecError::Params("bits per sample outside 1–32"));
    }
    if !matches!(p.block_size, 8 | 16 | 32 | 64) {
        return Err(AecError::Params("block size not 8, 16, 32 or 64"));
    }
    let interval = p.rsi.checked_mul(p.block_size).ok_or(AecError::Params("huge interval"))?;
    if p.rsi == 0 || interval > 1 << 20 || keep == 0 || keep > interval {
        return Err(AecError::Params("reference sample interval"));
    }
    let width = p.sample_bytes();
    if !out.len().is_multiple_of(width) {
        return Err(AecError::Params("output is not whole samples"));
    }
    let mut dec = Decoder {
        bits: Bits::new(input),
        p,
        bps: p.bits_per_sample,
        xmax: if p.bits_per_sample == 32 { u32::MAX } else { (1u32 << p.bits_per_sample) - 1 },
        id_len: p.id_len(),
        buf: vec![0u32; interval],
    };
    let total = out.len() / width;
    let mut written = 0;
    while written < total {
        let need = keep.min(total - written);
        dec.interval(need)?;
        let samples = &mut dec.buf[..need];
        if p.preprocess {
            unmap(samples, dec.bps, dec.xmax);
        }
        let dst = &mut out[written * width..(written + need) * width];
        put(samples, dst, width, p.msb);
        written += need;
    }
    Ok(())
}

struct Decoder<'a, 'p> {
    bits: Bits<'a>,
    p: &'p AecParams,
    bps: u32,
    xmax: u32,
    id_len: u32,
    /// One reference sample interval of decoded (still mapped) samples.
    buf: Vec<u32>,
}

impl Decoder<'_, '_> {
    /// Decode the blocks of one interval until at least `need` samples are in `buf`.
    fn interval(&mut self, need: usize) -> Result<(), AecError> {
        let bs = self.p.block_size;
        let mut used = 0;
        while used < need {
            // the interval's first block starts with the reference sample when preprocessed
            let reference = self.p.preprocess && used == 0;
            let id = self.bits.get(self.id_len)?;
            let max_id = (1u32 << self.id_len) - 1;
            used = if id == 0 {
                self.low_entropy(used, reference)?
            } else if id == max_id {
                for s in &mut self.buf[used..used + bs] {
                    *s = self.bits.get(self.bps)?;
                }
                used + bs
            } else {
                self.split(used, reference, id - 1)?
            };
        }
        Ok(())
    }

    /// A split-sample block with `k` low bits per sample: the high parts as fundamental
    /// sequences, then the low bits.
    fn split(&mut self, at: usize, reference: bool, k: u32) -> Result<usize, AecError> {
        let end = at + self.p.block_size;
        let mut i = at;
        if reference {
            self.buf[i] = self.bits.get(self.bps)?;
            i += 1;
        }
        let limit = u64::from(self.xmax >> k); // k < 31: the largest identifier is 31
        let start = i;
        for s in &mut self.buf[start..end] {
            let fs = self.bits.fs()?;
            if fs > limit {
                return Err(AecError::Corrupt("split value wider than the samples"));
            }
            *s = (fs as u32) << k;
        }
        if k > 0 {
            for s in &mut self.buf[start..end] {
                *s |= self.bits.get(k)?;
            }
        }
        Ok(end)
    }

    /// The zero-block and second-extension options (identifier 0 and one more bit).
    fn low_entropy(&mut self, at: usize, reference: bool) -> Result<usize, AecError> {
        let bs = self.p.block_size;
        let zero = self.bits.get(1)? == 0;
        let mut i = at;
        if reference {
            self.buf[i] = self.bits.get(self.bps)?;
            i += 1;
        }
        if zero {
            let mut blocks = self.bits.fs()?.saturating_add(1);
            if blocks == ROS {
                let b = (at / bs) as u64;
                blocks = (self.p.rsi as u64 - b).min(64 - b % 64);
            } else if blocks > ROS {
                blocks -= 1;
            }
            let end = (blocks as usize).checked_mul(bs).and_then(|n| n.checked_add(at));
            let end = end.filter(|e| *e <= self.buf.len());
            let end = end.ok_or(AecError::Corrupt("zero blocks past the interval"))?;
            self.buf[i..end].fill(0);
            return Ok(end);
        }
        // second extension: pairs coded as one fundamental sequence each; with a reference
        // sample, the first pair's first value is not sent
        let end = at + bs;
        while i < end {
            let m = self.bits.fs()?;
            if m > SE_MAX {
                return Err(AecError::Corrupt("second-extension code beyond its table"));
            }
            let (sum, start) = se_pair(m as u32);
            let second = m as u32 - start;
            if (i - at).is_multiple_of(2) {
                self.buf[i] = sum - second;
                i += 1;
            }
            self.buf[i] = second;
            i += 1;
        }
        Ok(end)
    }
}

/// The sum of a second-extension pair coded `m` and the code of its first pair of that sum.
fn se_pair(m: u32) -> (u32, u32) {
    let mut sum = 0;
    while (sum + 1) * (sum + 2) / 2 <= m {
        sum += 1;
    }
    (sum, sum * (sum + 1) / 2)
}

/// Undo the unit-delay predictor's mapping in place: `s[0]` is the reference sample, the rest
/// are mapped prediction errors (CCSDS 121.0-B §4, unsigned samples of `bits` bits). Without
/// branches: each value depends on the one before, and on noisy data (the low byte planes of
/// floats) which case applies is unpredictable, so a mispredicted branch a sample would cost
/// more than the arithmetic (measured: 1.7 → 0.77 ms for a 256 KiB float chunk, P5's).
fn unmap(s: &mut [u32], bits: u32, xmax: u32) {
    let Some((&mut first, rest)) = s.split_first_mut() else { return };
    let mut x = first;
    for d in rest {
        let v = *d;
        // all ones when x is in the upper half: then theta = xmax - x, else theta = x
        let upper = ((x >> (bits - 1)) & 1).wrapping_neg() & xmax;
        let theta = upper ^ x;
        // within ±theta: even codes are differences of +v/2, odd ones of -(v+1)/2
        let within = x.wrapping_add((v >> 1) ^ (v & 1).wrapping_neg());
        // beyond: only one direction remains (up from near zero, down from near the top)
        let beyond = upper ^ v;
        x = std::hint::select_unpredictable((v >> 1) + (v & 1) <= theta, within, beyond);
        *d = x;
    }
}

/// Write samples as `width`-byte integers.
fn put(samples: &[u32], dst: &mut [u8], width: usize, msb: bool) {
    match (width, msb) {
        (1, _) => dst.iter_mut().zip(samples).for_each(|(d, s)| *d = *s as u8),
        (2, true) => put_each(samples, dst, |s| (s as u16).to_be_bytes()),
        (2, false) => put_each(samples, dst, |s| (s as u16).to_le_bytes()),
        (_, true) => put_each(samples, dst, u32::to_be_bytes),
        (_, false) => put_each(samples, dst, u32::to_le_bytes),
    }
}

fn put_each<const N: usize>(samples: &[u32], dst: &mut [u8], f: impl Fn(u32) -> [u8; N]) {
    for (d, s) in dst.chunks_exact_mut(N).zip(samples) {
        d.copy_from_slice(&f(*s));
    }
}

#[cfg(test)]
#[path = "aec_tests.rs"]
mod tests;
