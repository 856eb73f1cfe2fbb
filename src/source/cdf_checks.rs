//! What netcdf-c does with a NetCDF-3 header after reading it (`NC_var_shape`,
//! `NC_computeshapes`, `NC_check_vlens`, `NC_check_voffs` in netcdf-c 4.9): each variable's
//! length is computed from its shape (the header's `vsize` is not trusted), the record size from
//! those lengths, and a header whose offsets or sizes netcdf-c refuses is refused here too, so
//! that our parser and netcdf-c accept the same files. Arithmetic is on signed 64-bit offsets
//! (netcdf-c's `off_t`), wrapping where netcdf-c's would.

use super::cdf::{type_size, CdfError, Header, Var};

fn refuse(what: &'static str) -> CdfError {
    CdfError::Malformed { at: 0, what }
}

/// The product of a variable's dimensions, the record dimension left out, as netcdf-c's
/// `NC_var_shape` computes it (saturating at `OFF_T_MAX`; a size above it reads as negative).
fn elements(h: &Header, v: &Var) -> i64 {
    let mut product: i64 = 1;
    for d in v.dimids.iter().skip(usize::from(v.is_record)) {
        product = match i64::try_from(h.dims[*d].len).unwrap_or(-1) {
            l if l < 0 || l > i64::MAX / product => i64::MAX,
            0 => product,
            l => product * l,
        };
    }
    product
}

fn elem_size(v: &Var) -> i64 {
    type_size(v.nc_type).unwrap_or(0) as i64
}

/// The length netcdf-c gives a variable: its elements' bytes rounded up to 4.
fn var_len(h: &Header, v: &Var) -> i64 {
    let len = elements(h, v).wrapping_mul(elem_size(v));
    if len % 4 != 0 {
        len.wrapping_add(4 - len % 4)
    } else {
        len
    }
}

/// `NC_check_vlen`: does the variable's size (one record's for record variables) fit `max`?
fn fits(h: &Header, v: &Var, max: i64) -> bool {
    let mut prod = elem_size(v);
    for d in v.dimids.iter().skip(usize::from(v.is_record)) {
        let len = i64::try_from(h.dims[*d].len).unwrap_or(-1);
        if prod <= 0 || len > max / prod {
            return false;
        }
        prod *= len;
    }
    true
}

/// How many of the fixed (or record) variables are too large for the format, and whether
/// the last of them is one.
fn too_large(h: &Header, record: bool, max: i64) -> Result<(usize, bool), CdfError> {
    let (mut large, mut last) = (0, false);
    for v in h.vars.iter().filter(|v| v.is_record == record) {
        last = !fits(h, v, max);
        if last && h.version == 5 {
            return Err(refuse("variable too large for the format"));
        }
        large += usize::from(last);
    }
    Ok((large, last))
}

/// `NC_check_vlens`: at most one variable of each kind too large for the format, the last
/// one, and a fixed one only when there are no record variables.
fn check_vlens(h: &Header) -> Result<(), CdfError> {
    let max = match h.version {
        5 => i64::MAX - 3,
        2 => i64::from(u32::MAX) - 3,
        _ => i64::from(i32::MAX) - 3,
    };
    let too_big = Err(refuse("variable too large for the format"));
    let (large, last) = too_large(h, false, max)?;
    if large > 1 || (large == 1 && !last) {
        return too_big;
    }
    if h.vars.iter().any(|v| v.is_record) {
        if large == 1 {
            return too_big;
        }
        let (large, last) = too_large(h, true, max)?;
        if large > 1 || (large == 1 && !last) {
            return too_big;
        }
    }
    Ok(())
}

/// Check `h` (whose header takes `header_len` bytes) as netcdf-c does and set its record size.
pub fn check(h: &mut Header, header_len: u64) -> Result<(), CdfError> {
    if h.vars.is_empty() {
        h.recsize = 0;
        return Ok(());
    }
    let lens: Vec<i64> = h.vars.iter().map(|v| var_len(h, v)).collect();
    let begin = |i: usize| h.vars[i].begin as i64;
    let xsz = header_len as i64;
    // NC_computeshapes
    let (mut begin_rec, mut recsize) = (xsz, 0i64);
    let (mut first_var, mut first_rec) = (None, None);
    for (i, v) in h.vars.iter().enumerate() {
        if v.is_record {
            first_rec.get_or_insert(i);
            recsize = recsize.wrapping_add(lens[i]);
        } else {
            first_var.get_or_insert(i);
            begin_rec = begin(i).wrapping_add(lens[i]);
        }
    }
    if let Some(r) = first_rec {
        if begin_rec > begin(r) {
            return Err(refuse("fixed variables overlap the records"));
        }
        begin_rec = begin(r);
        if recsize == lens[r] {
            // a lone record variable is not padded
            recsize = elements(h, &h.vars[r]).wrapping_mul(elem_size(&h.vars[r]));
        }
    }
    let begin_var = first_var.map_or(begin_rec, begin);
    if begin_var <= 0 || xsz > begin_var || begin_rec <= 0 || begin_var > begin_rec {
        return Err(refuse("data offsets inside the header or out of order"));
    }
    check_vlens(h)?;
    // NC_check_voffs
    let mut prev = begin_var;
    for (i, _) in h.vars.iter().enumerate().filter(|(_, v)| !v.is_record) {
        if begin(i) < prev {
            return Err(refuse("fixed variables out of order"));
        }
        prev = begin(i).wrapping_add(lens[i]);
    }
    if begin_rec < prev {
        return Err(refuse("records begin inside the fixed variables"));
    }
    prev = begin_rec;
    for (i, _) in h.vars.iter().enumerate().filter(|(_, v)| v.is_record) {
        if begin(i) < prev {
            return Err(refuse("record variables out of order"));
        }
        prev = begin(i).wrapping_add(lens[i]);
    }
    h.recsize = recsize as u64;
    Ok(())
}
