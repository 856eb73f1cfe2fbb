//! The process's open-files limit, raised at start-up to what the system allows. The daemon
//! keeps source files open while their datasets are cached (a collection of N members holds
//! N descriptors), and systemd starts services with a soft limit of 1,024: a few daily
//! collections of a CMIP archive would exhaust it, and every later `open` of any dataset
//! would fail with EMFILE. The hard limit is the administrator's ceiling; raising the soft
//! limit up to it needs no privilege (Go programs do the same at start).

use tracing::{info, warn};

/// The soft and hard `RLIMIT_NOFILE` now.
pub fn open_files() -> std::io::Result<(u64, u64)> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((lim.rlim_cur, lim.rlim_max))
}

/// Raise the soft open-files limit to the hard one; returns the soft limit in force after.
/// A failure leaves the limit as it was (logged): the daemon still runs, with fewer files.
pub fn raise_open_files() -> u64 {
    let (soft, hard) = match open_files() {
        Ok(l) => l,
        Err(e) => {
            warn!("cannot read the open-files limit: {e}");
            return 0;
        }
    };
    if soft >= hard {
        return soft;
    }
    let lim = libc::rlimit { rlim_cur: hard, rlim_max: hard };
    // SAFETY: setrlimit reads the struct we pass.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        let e = std::io::Error::last_os_error();
        warn!(soft, hard, "cannot raise the open-files limit: {e}");
        return soft;
    }
    info!(from = soft, to = hard, "open-files limit raised to the hard limit");
    hard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_one() {
        let (soft, hard) = open_files().expect("getrlimit");
        assert!(soft <= hard);
        assert_eq!(raise_open_files(), hard);
        assert_eq!(open_files().expect("getrlimit"), (hard, hard));
    }
}
