//! Names the kernel was told are missing for a while (a LOOKUP reply with node 0 and an entry
//! timeout: a negative dentry). Clients probe for names that are not there on every open —
//! zarr-python asks each v2 store for `zarr.json` first, Python for `__init__.py` and
//! `.pth` files — and without a timeout each probe is a round trip. A negative entry can turn
//! wrong when a source changes (a new file's store appears, a variable is added), so every
//! one handed out is remembered under its parent's inode until it expires, and
//! [`super::InodeVfs::source_changed`] names those under the stale directories for the
//! kernel to drop. Bounded: with [`CAPACITY`] unexpired names remembered, a missing name is
//! answered without a timeout (not cached), as if this did not exist.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most negative entries remembered (unexpired) at once.
pub const CAPACITY: usize = 65_536;

/// Negative entries handed to the kernel and not yet expired, by parent inode.
#[derive(Default)]
pub struct NegativeEntries {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// parent inode → name → when the kernel forgets it by itself
    by_parent: HashMap<u64, HashMap<OsString, Instant>>,
    count: usize,
}

impl Inner {
    /// Drop what the kernel has already forgotten by itself.
    fn expire(&mut self, now: Instant) {
        let mut count = 0;
        self.by_parent.retain(|_, names| {
            names.retain(|_, until| *until > now);
            count += names.len();
            !names.is_empty()
        });
        self.count = count;
    }
}

impl NegativeEntries {
    /// Remember that `name` in directory `parent` is answered missing for `ttl`; false: no
    /// room (answer it without a timeout).
    pub fn remember(&self, parent: u64, name: &OsStr, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.count >= CAPACITY {
            inner.expire(now);
            if inner.count >= CAPACITY {
                return false;
            }
        }
        let names = inner.by_parent.entry(parent).or_default();
        if names.insert(name.to_owned(), now + ttl).is_none() {
            inner.count += 1;
        }
        true
    }

    /// The unexpired negative entries under the directories `parents`, forgotten here: the
    /// kernel is to drop them.
    pub fn take(&self, parents: &[u64]) -> Vec<(u64, OsString)> {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for parent in parents {
            if let Some(names) = inner.by_parent.remove(parent) {
                inner.count -= names.len();
                out.extend(names.into_iter().filter(|(_, t)| *t > now).map(|(n, _)| (*parent, n)));
            }
        }
        out
    }

    /// The kernel forgot directory `parent` (its negative entries went before it: a dentry
    /// holds its parent).
    pub fn forget(&self, parent: u64) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(names) = inner.by_parent.remove(&parent) {
            inner.count -= names.len();
        }
    }

    /// How many are remembered (expired ones included until the next clean-up).
    #[cfg(test)]
    pub fn count(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_until_taken_or_forgotten() {
        let n = NegativeEntries::default();
        let ttl = Duration::from_secs(60);
        assert!(n.remember(5, OsStr::new("zarr.json"), ttl));
        assert!(n.remember(5, OsStr::new("zarr.json"), ttl));
        assert!(n.remember(6, OsStr::new("x.zarr"), ttl));
        assert!(n.remember(7, OsStr::new("y"), ttl));
        assert_eq!(n.count(), 3);
        assert_eq!(n.take(&[5, 8]), vec![(5, OsString::from("zarr.json"))]);
        assert!(n.take(&[5]).is_empty(), "taken once");
        n.forget(6);
        assert!(n.take(&[6]).is_empty());
        assert_eq!(n.count(), 1);
    }

    #[test]
    fn bounded_and_expired_ones_make_room() {
        let n = NegativeEntries::default();
        for i in 0..CAPACITY {
            assert!(n.remember(1, OsStr::new(&i.to_string()), Duration::from_secs(60)));
        }
        assert!(!n.remember(1, OsStr::new("one more"), Duration::from_secs(60)), "full");
        let n = NegativeEntries::default();
        for i in 0..CAPACITY {
            assert!(n.remember(1, OsStr::new(&i.to_string()), Duration::ZERO));
        }
        assert!(n.remember(2, OsStr::new("one more"), Duration::from_secs(60)), "expired");
        assert_eq!(n.count(), 1);
        assert!(n.take(&[1]).is_empty(), "expired entries are not the kernel's to drop");
    }
}
