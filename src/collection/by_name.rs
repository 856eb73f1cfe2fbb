//! The automatic collection rule: files of one directory whose names differ only by a
//! trailing time-range token form one dataset.
//!
//! A member's name is `<stem>_<start>[-<end>].<ext>`, `start` and `end` of 4 to 14 digits, as
//! the CMIP6, CORDEX and obs4MIPs file-name templates write them
//! (`tas_day_MPI-ESM1-2-LR_historical_r1i1p1f1_gn_18500101-18691231.nc`). Files with the same
//! stem and extension are one group, shown as `<stem>.zarr`; a group needs two members (one
//! file is served by its own store). The order of the members is decided later, by their time
//! values, not by these names.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// A file name split by the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeRangeName<'a> {
    /// Everything before `_<start>`.
    pub stem: &'a [u8],
    /// The digits of the time range (`18500101-18691231`).
    pub range: &'a [u8],
    /// The extension with its dot (`.nc`), or empty.
    pub ext: &'a [u8],
}

/// Split `name` by the rule, or `None` when it has no trailing time-range token.
pub fn split(name: &[u8]) -> Option<TimeRangeName<'_>> {
    let dot = name.iter().rposition(|b| *b == b'.').filter(|d| *d > 0).unwrap_or(name.len());
    let (base, ext) = name.split_at(dot);
    let underscore = base.iter().rposition(|b| *b == b'_')?;
    let (stem, range) = (&base[..underscore], &base[underscore + 1..]);
    let digits = |p: &[u8]| (4..=14).contains(&p.len()) && p.iter().all(u8::is_ascii_digit);
    let valid = match range.iter().position(|b| *b == b'-') {
        Some(dash) => digits(&range[..dash]) && digits(&range[dash + 1..]),
        None => digits(range),
    };
    (valid && !stem.is_empty()).then_some(TimeRangeName { stem, range, ext })
}

/// One group of files: its stem (the store is `<stem>.zarr`) and its members' file names, in
/// name order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameGroup {
    pub stem: OsString,
    pub members: Vec<OsString>,
}

/// The groups among `files` (names of data files of one directory): every stem and extension
/// shared by at least two files.
pub fn groups<'a>(files: impl IntoIterator<Item = &'a OsStr>) -> Vec<NameGroup> {
    let mut by_key: BTreeMap<(&[u8], &[u8]), Vec<OsString>> = BTreeMap::new();
    for f in files {
        if let Some(n) = split(f.as_bytes()) {
            by_key.entry((n.stem, n.ext)).or_default().push(f.to_os_string());
        }
    }
    let mut out: Vec<NameGroup> = Vec::new();
    for ((stem, _), mut members) in by_key {
        if members.len() < 2 {
            continue;
        }
        members.sort();
        out.push(NameGroup { stem: OsStr::from_bytes(stem).to_os_string(), members });
    }
    // the same stem with two extensions: two groups of one name, neither is shown
    let mut dup = std::collections::HashSet::new();
    let repeated: std::collections::HashSet<OsString> =
        out.iter().filter(|g| !dup.insert(g.stem.clone())).map(|g| g.stem.clone()).collect();
    out.retain(|g| !repeated.contains(&g.stem));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_table() {
        let n = split(b"tas_day_MPI-ESM1-2-LR_historical_r1i1p1f1_gn_18500101-18691231.nc");
        let n = n.expect("a CMIP6 name");
        assert_eq!(n.stem, b"tas_day_MPI-ESM1-2-LR_historical_r1i1p1f1_gn");
        assert_eq!(n.range, b"18500101-18691231");
        assert_eq!(n.ext, b".nc");
        assert_eq!(split(b"pr_1990.nc").map(|n| n.stem), Some(&b"pr"[..]));
        assert_eq!(split(b"x_199001011200-199012311800").map(|n| n.ext), Some(&b""[..]));
        for refused in [
            &b"tas.nc"[..],
            b"tas_199.nc",             // 3 digits
            b"tas_123456789012345.nc", // 15 digits
            b"tas_1990-12.nc",         // end of 2 digits
            b"_1990.nc",               // no stem
            b"tas_1990a.nc",
            b"tas_1990-.nc",
        ] {
            assert_eq!(split(refused), None, "{}", String::from_utf8_lossy(refused));
        }
    }

    #[test]
    fn groups_need_two_members_with_one_stem_and_extension() {
        let names = [
            "tas_gn_1850-1859.nc",
            "tas_gn_1860-1869.nc",
            "pr_gn_1850-1859.nc",
            "orog_fx.nc",
            "uas_gn_1850.nc",
            "uas_gn_1851.h5",
            "vas_gn_1850.nc",
            "vas_gn_1851.nc",
            "vas_gn_1850.h5",
            "vas_gn_1851.h5",
        ];
        let g = groups(names.iter().map(OsStr::new));
        assert_eq!(
            g,
            [NameGroup {
                stem: "tas_gn".into(),
                members: vec!["tas_gn_1850-1859.nc".into(), "tas_gn_1860-1869.nc".into()]
            }]
        );
    }
}
