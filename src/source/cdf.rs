//! NetCDF-3 header parser (CDF-1 classic, CDF-2 64-bit offset, CDF-5 64-bit data).
//!
//! netcdf-c exposes no file offsets, so this reads the header itself: dimensions, attributes
//! (skipped, netcdf-c reads them), and per variable its dimension ids, type, `vsize` and
//! `begin` offset. It never panics and never allocates more than the input can justify: every
//! count is checked against the bytes that remain before anything is reserved.
//! Format reference: "The NetCDF Classic Format Specification" (Unidata).

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

/// A variable's storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    pub name: String,
    pub dimids: Vec<usize>,
    /// netCDF type code (1 byte … 11 uint64).
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
    pub vars: Vec<Var>,
    /// Bytes from one record to the next.
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

    fn name(&mut self) -> Result<String, CdfError> {
        let n = self.count()?;
        let bytes = self.padded(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.malformed("name is not UTF-8"))
    }

    /// A list header: (tag, count) with ABSENT = 0 0.
    fn list(&mut self, tag: u32, min_item: u64) -> Result<usize, CdfError> {
        let t = self.u32()?;
        let at = self.pos;
        let n = self.bounded_count(min_item)?;
        match (t, n) {
            (0, 0) => Ok(0),
            (t, n) if t == tag => Ok(n),
            _ => Err(CdfError::Malformed { at, what: "unexpected list tag" }),
        }
    }

    fn skip_attrs(&mut self) -> Result<(), CdfError> {
        let n = self.list(0x0C, 12)?;
        for _ in 0..n {
            self.name()?;
            let t = self.u32()?;
            let size = type_size(t).ok_or_else(|| self.malformed("unknown attribute type"))?;
            let count = self.count()?;
            self.padded(count.checked_mul(size).ok_or_else(|| self.malformed("attribute size"))?)?;
        }
        Ok(())
    }
}

/// Parse a header from the first bytes of a file. `Truncated` means "give me more bytes"
/// when `buf` is shorter than the file.
pub fn parse_header(buf: &[u8]) -> Result<Header, CdfError> {
    if buf.len() < 4 || &buf[..3] != b"CDF" || !matches!(buf[3], 1 | 2 | 5) {
        return Err(CdfError::Magic);
    }
    let mut r = Reader { buf, pos: 4, version: buf[3] };
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
    if dims.iter().filter(|d| d.len == 0).count() > 1 {
        return Err(r.malformed("more than one record dimension"));
    }
    r.skip_attrs()?;
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
        r.skip_attrs()?;
        let nc_type = r.u32()?;
        if type_size(nc_type).is_none() || (r.version != 5 && nc_type > 6) {
            return Err(r.malformed("unknown variable type"));
        }
        let vsize = r.count()?;
        let begin = r.offset()?;
        let is_record = dimids.first().is_some_and(|d| dims[*d].len == 0);
        if dimids.iter().skip(1).any(|d| dims[*d].len == 0) {
            return Err(r.malformed("record dimension not first"));
        }
        vars.push(Var { name, dimids, nc_type, vsize, begin, is_record });
    }
    let recsize = record_size(&vars, &dims);
    Ok(Header { version: r.version, numrecs, dims, vars, recsize })
}

/// Bytes of one record: the sum of the record variables' vsize, except that a lone record
/// variable is not padded (the classic format's special case).
fn record_size(vars: &[Var], dims: &[Dim]) -> u64 {
    let rec: Vec<&Var> = vars.iter().filter(|v| v.is_record).collect();
    match rec.as_slice() {
        [] => 0,
        [only] => {
            let elems: u64 = only.dimids[1..].iter().map(|d| dims[*d].len).product();
            elems.saturating_mul(type_size(only.nc_type).unwrap_or(1))
        }
        many => many.iter().fold(0u64, |acc, v| acc.saturating_add(v.vsize)),
    }
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
        for (n, dim, t, vsize, begin) in [("t", 0u32, 6u32, 8u32, 200u32), ("v", 1, 3, 8, 100)] {
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
        assert_eq!((h.vars[1].begin, h.vars[1].vsize, h.vars[1].nc_type), (100, 8, 3));
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
