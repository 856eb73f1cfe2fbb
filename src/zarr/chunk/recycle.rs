//! Read buffers recycled per thread: a pass-through read fills a buffer that returns to its
//! thread's pool once the reply is written, so the FUSE hot path neither allocates nor
//! zero-fills a buffer per request (a FUSE thread asks for the same sizes again and again).

use std::cell::RefCell;

/// Buffers kept per thread, and the largest one worth keeping.
const KEEP: usize = 2;
const KEEP_BYTES: usize = 4 << 20;

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of this thread's pool; back to the pool of the thread that drops it.
#[derive(Debug, Default)]
pub struct Recycled(Vec<u8>);

impl Recycled {
    /// A buffer of exactly `len` bytes (contents unspecified: the caller overwrites them).
    pub fn with_len(len: usize) -> Recycled {
        let mut v = POOL.with_borrow_mut(|p| p.pop()).unwrap_or_default();
        // only bytes beyond the buffer's previous length are zero-filled
        v.resize(len, 0);
        Recycled(v)
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Shorten to `len` bytes (the memory stays).
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    /// The bytes as a vector of their own (leaves the pool).
    pub fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

impl std::ops::Deref for Recycled {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        if v.capacity() == 0 || v.capacity() > KEEP_BYTES {
            return;
        }
        // a thread being torn down has no pool left: the buffer is simply freed
        let _ = POOL.try_with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < KEEP {
                p.push(v);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_and_keep_their_memory() {
        let mut a = Recycled::with_len(1000);
        a.as_mut_slice().fill(7);
        let ptr = a.as_ptr();
        drop(a);
        let b = Recycled::with_len(600);
        assert_eq!((b.as_ptr(), b.len()), (ptr, 600), "the same allocation, shortened");
        drop(b);
        let c = Recycled::with_len(1000);
        assert_eq!(&c[..600], &[7; 600][..], "not zero-filled again");
        assert_eq!(&c[600..], &[0; 400][..], "regrown bytes are zeroed");
        // big buffers are not kept, and a pool holds at most KEEP
        drop(Recycled::with_len(KEEP_BYTES + 1));
        assert!(Recycled::with_len(10).0.capacity() < KEEP_BYTES);
        let many: Vec<_> = (0..KEEP + 3).map(|_| Recycled::with_len(8)).collect();
        drop(many);
        assert_eq!(POOL.with_borrow(|p| p.len()), KEEP);
        drop(c);
    }
}
