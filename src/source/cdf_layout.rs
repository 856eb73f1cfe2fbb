//! Second pass for NetCDF-3 files: locate every variable's bytes from our own header parse.
//! Data is big-endian and uncompressed, so every chunk is a byte range of the source (fixed
//! variables) or a set of equally spaced ranges (record variables, several records a chunk).

use super::cdf::{parse_file_header, parse_header, type_size, CdfError, Header};
use super::contiguous::{contiguous_refs, record_refs, split_contiguous};
use super::nc4::ModelGroup;
use super::variable_error::leave_out;
use super::{IndexOptions, SourceError, VariableError};
use crate::index::{ArrayNode, StorageKind};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Read the header, growing the buffer until it parses (or the file ends: then as netcdf-c
/// reads it, past the end in zeros).
fn read_header(file: &File, file_len: u64) -> Result<Header, CdfError> {
    let mut size: u64 = 64 << 10;
    loop {
        let n = size.min(file_len) as usize;
        let mut buf = vec![0u8; n];
        file.read_exact_at(&mut buf, 0).map_err(|_| CdfError::Truncated(0))?;
        match parse_header(&buf) {
            Err(CdfError::Truncated(_)) if (n as u64) < file_len => size = size.saturating_mul(4),
            Err(CdfError::Truncated(_)) => return parse_file_header(&buf),
            other => return other,
        }
    }
}

/// Refuse a file with a name longer than NC_MAX_NAME (256 bytes) before netcdf-c opens it:
/// netcdf-c reads such a name and copies all of it into its callers' NC_MAX_NAME + 1 buffers
/// (the netcdf crate's among them), overrunning them. A header we cannot parse is left to
/// netcdf-c to refuse.
pub fn refuse_long_names(path: &Path) -> Result<(), SourceError> {
    let io = |source| SourceError::Io { path: path.to_path_buf(), source };
    let file = File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    match read_header(&file, file_len) {
        Ok(h) if h.longest_name > MAX_NAME => Err(SourceError::Cdf {
            path: path.to_path_buf(),
            source: CdfError::Malformed { at: 0, what: "a name longer than 256 bytes" },
        }),
        _ => Ok(()),
    }
}

/// netcdf-c's NC_MAX_NAME.
const MAX_NAME: u64 = 256;

/// Fill in storage of every array of a NetCDF-3 file (netCDF-3 has only the root group).
pub fn fill_storage(
    path: &Path,
    tree: &mut ModelGroup,
    options: &IndexOptions,
) -> Result<(), SourceError> {
    let io = |source| SourceError::Io { path: path.to_path_buf(), source };
    let file = File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let header = read_header(&file, file_len)
        .map_err(|source| SourceError::Cdf { path: path.to_path_buf(), source })?;
    let numrecs = header.numrecs.unwrap_or_else(|| streaming_numrecs(&header, file_len));
    let arrays = std::mem::take(&mut tree.group.arrays);
    tree.sources.clear();
    for mut array in arrays {
        match locate(&header, numrecs, file_len, options, &mut array) {
            Ok(()) => tree.group.arrays.push(array),
            Err(reason) => {
                let variable = array.name.clone();
                leave_out(&mut tree.group, path, &variable, array.name, reason)
            }
        }
    }
    Ok(())
}

/// Records present in a file written in streaming mode: as many as fit.
fn streaming_numrecs(h: &Header, file_len: u64) -> u64 {
    let first = h.vars.iter().filter(|v| v.is_record).map(|v| v.begin).min();
    match first {
        Some(b) if h.recsize > 0 => file_len.saturating_sub(b) / h.recsize,
        _ => 0,
    }
}

fn locate(
    h: &Header,
    numrecs: u64,
    file_len: u64,
    options: &IndexOptions,
    array: &mut ArrayNode,
) -> Result<(), VariableError> {
    let var = h
        .vars
        .iter()
        .find(|v| v.name == array.name)
        .ok_or("variable not found in the NetCDF-3 header")?;
    let es = type_size(var.nc_type).ok_or("unknown type")?;
    if es != array.element_size() as u64 {
        let what = format!("header type has {es} bytes, netCDF type {}", array.element_size());
        return Err(VariableError::Unsupported(what));
    }
    let shape: Vec<u64> = var
        .dimids
        .iter()
        .map(|d| if h.dims[*d].len == 0 { numrecs } else { h.dims[*d].len })
        .collect();
    if shape != array.shape {
        let what = format!("header shape {shape:?} differs from netCDF shape {:?}", array.shape);
        return Err(VariableError::Unsupported(what));
    }
    array.storage = StorageKind::ContiguousPassThrough;
    let target = options.contiguous_chunk_target;
    if var.is_record {
        let record_len = es * shape[1..].iter().product::<u64>();
        if numrecs > 0 {
            let last_end = (numrecs - 1)
                .checked_mul(h.recsize)
                .and_then(|x| x.checked_add(var.begin))
                .and_then(|x| x.checked_add(record_len));
            if last_end.is_none_or(|end| end > file_len) {
                return Err(VariableError::DataBeyondEnd("record data"));
            }
        }
        array.chunk_refs = record_refs(array, var.begin, h.recsize, target)?;
    } else {
        let nbytes = es * shape.iter().product::<u64>();
        if var.begin.checked_add(nbytes).is_none_or(|end| end > file_len) {
            return Err(VariableError::DataBeyondEnd("data"));
        }
        array.chunks = split_contiguous(&shape, es, target);
        array.chunk_refs = contiguous_refs(array, var.begin)?;
    }
    Ok(())
}
