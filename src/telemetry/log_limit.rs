//! Rate limit for warnings that can repeat on every request (a chunk that fails on each read, a
//! refused symlink seen at each listing): one line per (file, cause) per window, and the next
//! line after a quiet window says how many were suppressed. Memory is bounded: past
//! [`MAX_KEYS`] entries the oldest windows are forgotten.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// How long a (file, cause) stays quiet after it was logged.
pub const WINDOW: Duration = Duration::from_secs(5 * 60);

/// (file, cause) pairs remembered at most.
pub const MAX_KEYS: usize = 10_000;

static LIMITER: LazyLock<LogLimit> = LazyLock::new(|| LogLimit::new(WINDOW, MAX_KEYS));

/// The process's limiter: `Some(suppressed)` if a line about `cause` in `file` may be logged
/// now (`suppressed` lines were held back since the last one), `None` to stay quiet.
pub fn allow(file: &Path, cause: &'static str) -> Option<u64> {
    LIMITER.allow_at(file, cause, Instant::now())
}

struct Seen {
    logged: Instant,
    suppressed: u64,
}

/// One line per (file, cause) per window.
pub struct LogLimit {
    window: Duration,
    max_keys: usize,
    seen: Mutex<HashMap<(PathBuf, &'static str), Seen>>,
}

impl LogLimit {
    /// A limiter with its own window and bound.
    pub fn new(window: Duration, max_keys: usize) -> Self {
        LogLimit { window, max_keys: max_keys.max(1), seen: Mutex::new(HashMap::new()) }
    }

    /// As [`allow`], at time `now`.
    pub fn allow_at(&self, file: &Path, cause: &'static str, now: Instant) -> Option<u64> {
        // a panic elsewhere while holding the lock leaves a usable map: take it
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let key = (file.to_path_buf(), cause);
        if let Some(s) = seen.get_mut(&key) {
            if now.saturating_duration_since(s.logged) < self.window {
                s.suppressed += 1;
                return None;
            }
            let suppressed = s.suppressed;
            *s = Seen { logged: now, suppressed: 0 };
            return Some(suppressed);
        }
        if seen.len() >= self.max_keys {
            let window = self.window;
            seen.retain(|_, s| now.saturating_duration_since(s.logged) < window);
            if seen.len() >= self.max_keys {
                seen.clear();
            }
        }
        seen.insert(key, Seen { logged: now, suppressed: 0 });
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_file_and_cause_per_window() {
        let l = LogLimit::new(Duration::from_secs(60), 100);
        let t0 = Instant::now();
        let (a, b) = (Path::new("/a.nc"), Path::new("/b.nc"));
        assert_eq!(l.allow_at(a, "io", t0), Some(0));
        assert_eq!(l.allow_at(a, "io", t0 + Duration::from_secs(1)), None);
        assert_eq!(l.allow_at(a, "io", t0 + Duration::from_secs(59)), None);
        // other file, other cause: their own windows
        assert_eq!(l.allow_at(b, "io", t0), Some(0));
        assert_eq!(l.allow_at(a, "codec", t0), Some(0));
        // after the window: logged again, with the count held back
        assert_eq!(l.allow_at(a, "io", t0 + Duration::from_secs(61)), Some(2));
        assert_eq!(l.allow_at(a, "io", t0 + Duration::from_secs(62)), None);
    }

    #[test]
    fn bounded() {
        let l = LogLimit::new(Duration::from_secs(60), 3);
        let t0 = Instant::now();
        for i in 0..10 {
            let p = PathBuf::from(format!("/{i}.nc"));
            assert_eq!(l.allow_at(&p, "io", t0), Some(0));
        }
        assert!(l.seen.lock().map(|s| s.len()).unwrap_or(0) <= 3);
    }
}
