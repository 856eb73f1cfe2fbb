//! NetCDF-3 header parser (CDF-1 classic, CDF-2 64-bit offset, CDF-5 64-bit data).
//!
//! netcdf-c exposes no file offsets, so this reads the header itself: dimensions, attributes
//! (names, types and raw values), and per variable its dimension ids, type, `vsize` and
//! `begin` offset. It never panics and never allocates more than the input can justify: every
//! count is checked against the bytes that remain before anything is reserved.
//! Format reference: "The NetCDF Classic Format Specification" (Unidata).
//!
//! It accepts what netcdf-c 4.9's `nc_open` accepts and reads the same names (checked by
//! `tests/cdf_differential.rs` and the `cdf_differential` fuzz target against netcdf-c itself):
//! a name is a C string (netcdf-c renames in data mode by overwriting the old name with a
//! shorter one padded with NULs, keeping the old length in the header), an empty list may carry
//! any tag, and the checks netcdf-c makes after reading (`cdf_checks.rs`) are made here too.

/// Why a header could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CdfError {
    #[error("not a NetCDF-3 file (bad magic)")]
    Magic,
    #[error("header truncated at byte {0}")]
    Truncated(usize),
    #[error("malformed header at byte {at}: {what}")]
    Malformed { at: usize, what: &'static str },
}

/// A dimension: `len` 0 marks the record (unlimited) dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dim {
    pub name: String,
    pub len: u64,
}

/// An attribute as stored: its values are `count` big-endian elements of `nc_type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub name: String,
    pub nc_type: u32,
    pub count: u64,
    /// The values' bytes (padding excluded), big-endian.
    pub values: Vec<u8>,
}

/// A variable's storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    pub name: String,
    pub attrs: Vec<Attr>,
    pub dimids: Vec<usize>,
    /// netCDF type code (1 byte … 11 uint64; 12, NC_STRING, is taken as netcdf-c takes it, with
    /// no bytes, and such a variable cannot be located).
    pub nc_type: u32,
    /// Bytes per record (record variables) or in total, as written in the header (padded).
    pub vsize: u64,
    pub begin: u64,
    /// First dimension is the record dimension.
    pub is_record: bool,
}

/// The parts of a NetCDF-3 header needed to locate data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    /// Number of records; `None` when the header says "streaming" (count from the file size).
    pub numrecs: Option<u64>,
    pub dims: Vec<Dim>,
    pub attrs: Vec<Attr>,
    pub vars: Vec<Var>,
    /// The longest name's length as stored, NULs included (netcdf-c reads a name in one piece,
    /// and refuses one larger than its read buffer).
    pub longest_name: u64,
    /// Bytes from one record to the next, as netcdf-c computes it from the shapes (the sum of
    /// the record variables' padded sizes; a lone record variable's is not padded).
    pub recsize: u64,
}

/// Size in bytes of one element of netCDF type `t`, if known.
pub fn type_size(t: u32) -> Option<u64> {
    match t {
        1 | 2 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 5 | 9 => Some(4),
        6 | 10 | 11 => Some(8),
        _ => None,
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    version: u8,
    longest_name: u64,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CdfError> {
        let end = self.pos.checked_add(n).ok_or(CdfError::Truncated(self.pos))?;
        let s = self.buf.get(self.pos..end).ok_or(CdfError::Truncated(self.pos))?;
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, CdfError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, CdfError> {
        let b = self.take(8)?;
        Ok(u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    /// NON_NEG: 4 bytes, 8 in CDF-5.
    fn count(&mut self) -> Result<u64, CdfError> {
        if self.version == 5 {
            self.u64()
        } else {
            self.u32().map(u64::from)
        }
    }

    /// OFFSET: 4 bytes in CDF-1, 8 otherwise.
    fn offset(&mut self) -> Result<u64, CdfError> {
        if self.version == 1 {
            self.u32().map(u64::from)
        } else {
            self.u64()
        }
    }

    fn malformed(&self, what: &'static str) -> CdfError {
        CdfError::Malformed { at: self.pos, what }
    }

    /// A count of items each at least `min_item` bytes: refuse counts the input cannot hold.
    fn bounded_count(&mut self, min_item: u64) -> Result<usize, CdfError> {
        let n = self.count()?;
        let remaining = (self.buf.len() - self.pos) as u64;
        if n.saturating_mul(min_item.max(1)) > remaining {
            return Err(CdfError::Truncated(self.pos));
        }
        usize::try_from(n).map_err(|_| self.malformed("count too large"))
    }

    fn padded(&mut self, n: u64) -> Result<&[u8], CdfError> {
        let n = usize::try_from(n).map_err(|_| CdfError::Truncated(self.pos))?;
        let start = self.pos;
        self.take(n)?;
        self.take((4 - n % 4) % 4)?;
        Ok(&self.buf[start..start + n])
    }

    /// A name as netcdf-c reads it: a C string, so it ends at the first NUL (a rename in data
    /// mode leaves the new, shorter name NUL-padded to the old length). Bytes that are not
    /// UTF-8 are accepted, as netcdf-c accepts them, and shown replaced.
    fn name(&mut self) -> Result<String, CdfError> {
        let n = self.count()?;
        self.longest_name = self.longest_name.max(n);
        let bytes = self.padded(n)?;
        let c_string = bytes.split(|b| *b == 0).next().unwrap_or_default();
        Ok(String::from_utf8_lossy(c_string).into_owned())
    }

    /// A list header: (tag, count). netcdf-c looks at the tag only when the count is not 0, so
    /// an empty list may carry any tag (ABSENT is 0 0).
    fn list(&mut self, tag: u32, min_item: u64) -> Result<usize, CdfError> {
        let t = self.u32()?;
        let at = self.pos;
        let n = self.bounded_count(min_item)?;
        match n {
            0 => Ok(0),
            n if t == tag => Ok(n),
            _ => Err(CdfError::Malformed { at, what: "unexpected list tag" }),
        }
    }

    fn attrs(&mut self) -> Result<Vec<Attr>, CdfError> {
        let n = self.list(0x0C, 12)?;
        let mut attrs = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.name()?;
            let nc_type = self.u32()?;
            if !(1..=12).contains(&nc_type) {
                return Err(self.malformed("unknown attribute type"));
            }
            // netcdf-c takes type 12 (NC_STRING) with no value bytes
            let size = type_size(nc_type).unwrap_or(0);
            let count = self.count()?;
            let len = count.checked_mul(size).ok_or_else(|| self.malformed("attribute size"))?;
            let values = self.padded(len)?.to_vec();
            attrs.push(Attr { name, nc_type, count, values });
        }
        Ok(attrs)
    }
}

/// Zero bytes read past the end of a file at most (netcdf-c reads a header that runs past
/// the end of the file as if it went on in zeros; beyond this it is refused here).
const PAST_END: usize = 1 << 20;

/// Parse the header of a whole file, as netcdf-c does: a header cut short by the end of the
/// file reads on in zeros (up to 1 MiB of them).
pub fn parse_file_header(file: &[u8]) -> Result<Header, CdfError> {
    match parse_header(file) {
        Err(CdfError::Truncated(at)) if file.len() >= 4 && at >= file.len().min(8) => {
            let mut padded = file.to_vec();
            padded.resize(file.len() + PAST_END, 0);
            parse_header(&padded)
        }
        other => other,
    }
}

/// Parse a header from the first bytes of a file. `Truncated` means "give me more bytes"
/// when `buf` is shorter than the file ([`parse_file_header`] when it is the whole file).
pub fn parse_header(buf: &[u8]) -> Result<Header, CdfError> {
    if buf.len() < 4 || &buf[..3] != b"CDF" || !matches!(buf[3], 1 | 2 | 5) {
        return Err(CdfError::Magic);
    }
    let mut r = Reader { buf, pos: 4, version: buf[3], longest_name: 0 };
    let numrecs = match r.count()? {
        n if (r.version != 5 && n == u64::from(u32::MAX)) || n == u64::MAX => None,
        n => Some(n),
    };
    let ndims = r.list(0x0A, 8)?;
    let mut dims = Vec::with_capacity(ndims);
    for _ in 0..ndims {
        let name = r.name()?;
        let len = r.count()?;
        dims.push(Dim { name, len });
    }
    let attrs = r.attrs()?;
    let nvars = r.list(0x0B, 24)?;
    let mut vars = Vec::with_capacity(nvars);
    for _ in 0..nvars {
        let name = r.name()?;
        let nd = r.bounded_count(4)?;
        let mut dimids = Vec::with_capacity(nd);
        for _ in 0..nd {
            let id = r.count()?;
            let id = usize::try_from(id).ok().filter(|i| *i < dims.len());
            dimids.push(id.ok_or_else(|| r.malformed("dimension id out of range"))?);
        }
        let var_attrs = r.attrs()?;
        let nc_type = r.u32()?;
        if !(1..=12).contains(&nc_type) {
            return Err(r.malformed("unknown variable type"));
        }
        let vsize = r.count()?;
        let begin = r.offset()?;
        let is_record = dimids.first().is_some_and(|d| dims[*d].len == 0);
        if dimids.iter().skip(1).any(|d| dims[*d].len == 0) {
            return Err(r.malformed("record dimension not first"));
        }
        vars.push(Var { name, attrs: var_attrs, dimids, nc_type, vsize, begin, is_record });
    }
    let longest_name = r.longest_name;
    let mut header =
        Header { version: r.version, numrecs, dims, attrs, vars, longest_name, recsize: 0 };
    super::cdf_checks::check(&mut header, r.pos as u64)?;
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
        out.resize(out.len() + (4 - s.len() % 4) % 4, 0);
    }

    /// CDF-1: dims time(record), x=3; vars t(time) f8, v(x) i2; one global attribute.
    fn sample() -> Vec<u8> {
        let mut h = b"CDF\x01".to_vec();
        h.extend_from_slice(&5u32.to_be_bytes()); // numrecs
        h.extend_from_slice(&0x0Au32.to_be_bytes());
        h.extend_from_slice(&2u32.to_be_bytes());
        name(&mut h, "time");
        h.extend_from_slice(&0u32.to_be_bytes());
        name(&mut h, "x");
        h.extend_from_slice(&3u32.to_be_bytes());
        h.extend_from_slice(&0x0Cu32.to_be_bytes()); // global attributes
        h.extend_from_slice(&1u32.to_be_bytes());
        name(&mut h, "title");
        h.extend_from_slice(&2u32.to_be_bytes()); // char
        h.extend_from_slice(&5u32.to_be_bytes());
        h.extend_from_slice(b"hello\0\0\0");
        h.extend_from_slice(&0x0Bu32.to_be_bytes());
        h.extend_from_slice(&2u32.to_be_bytes());
        for (n, dim, t, vsize, begin) in [("t", 0u32, 6u32, 8u32, 300u32), ("v", 1, 3, 8, 200)] {
            name(&mut h, n);
            h.extend_from_slice(&1u32.to_be_bytes());
            h.extend_from_slice(&dim.to_be_bytes());
            h.extend_from_slice(&[0; 8]); // ABSENT attributes
            h.extend_from_slice(&t.to_be_bytes());
            h.extend_from_slice(&vsize.to_be_bytes());
            h.extend_from_slice(&begin.to_be_bytes());
        }
        h
    }

    #[test]
    fn parses_a_classic_header() {
        let h = parse_header(&sample()).unwrap();
        assert_eq!(h.numrecs, Some(5));
        assert_eq!(h.dims[0], Dim { name: "time".into(), len: 0 });
        assert_eq!(h.vars.len(), 2);
        assert!(h.vars[0].is_record && !h.vars[1].is_record);
        assert_eq!((h.vars[1].begin, h.vars[1].vsize, h.vars[1].nc_type), (200, 8, 3));
        assert_eq!(h.recsize, 8); // the only record variable: not padded
    }

    #[test]
    fn every_truncation_and_corruption_is_an_error() {
        let full = sample();
        for n in 0..full.len() {
            assert!(parse_header(&full[..n]).is_err(), "prefix {n}");
        }
        for i in 4..full.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = full.clone();
                bad[i] ^= bit;
                let _ = parse_header(&bad); // must not panic
            }
        }
        let mut huge = full.clone();
        huge[11] = 0xff; // dimension count ~ 2^24: refused, nothing allocated
        assert!(parse_header(&huge).is_err());
    }
}
