//! The bit reader of the entropy decoder: most significant bit first, refilled a word at a
//! time, with fundamental sequences (runs of zeros ended by a one) counted a word at a time.

use super::AecError;

/// A most-significant-bit-first reader of the stream.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    /// The low `avail` bits are unread; bits above them are stale.
    acc: u64,
    avail: u32,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Bits { data, pos: 0, acc: 0, avail: 0 }
    }

    /// Fill the accumulator with whole bytes while one fits (`avail` stays below 64).
    fn refill(&mut self) {
        if let Some(word) = self.data.get(self.pos..self.pos + 8) {
            let take = (63 - self.avail) / 8; // 1..=7 bytes
            let word = u64::from_be_bytes(word.try_into().expect("8 bytes"));
            self.acc = (self.acc << (take * 8)) | (word >> (64 - take * 8));
            self.pos += take as usize;
            self.avail += take * 8;
        } else {
            while self.avail <= 55 && self.pos < self.data.len() {
                self.acc = (self.acc << 8) | u64::from(self.data[self.pos]);
                self.pos += 1;
                self.avail += 8;
            }
        }
    }

    /// The next `n` (1–32) bits as a number.
    #[inline]
    pub(super) fn get(&mut self, n: u32) -> Result<u32, AecError> {
        if self.avail < n {
            self.refill();
            if self.avail < n {
                return Err(AecError::Truncated);
            }
        }
        self.avail -= n;
        Ok(((self.acc >> self.avail) & ((1u64 << n) - 1)) as u32)
    }

    /// A fundamental sequence: the number of 0 bits before the next 1 bit.
    #[inline]
    pub(super) fn fs(&mut self) -> Result<u64, AecError> {
        let mut zeros = 0u64;
        loop {
            let live = self.acc & ((1u64 << self.avail) - 1);
            if live != 0 {
                let top = 63 - live.leading_zeros(); // the first 1 bit
                zeros += u64::from(self.avail - 1 - top);
                self.avail = top;
                return Ok(zeros);
            }
            zeros += u64::from(self.avail);
            self.avail = 0;
            self.refill();
            if self.avail == 0 {
                return Err(AecError::Truncated);
            }
        }
    }
}
