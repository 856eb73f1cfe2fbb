//! The input of a derivation: a store of the derived view of the tree (decoded and unpacked
//! chunks, Zarr v2, see `mod.rs`), its consolidated metadata, and a variable's chunks as
//! float64 values with CF masking applied as xarray applies it (`_FillValue` and
//! `missing_value` are NaN; packing is already undone by the unpacked view).

use super::error::DeriveError;
use crate::vfs::{Vfs, VfsError};
use crate::zarr::chunk::Bytes;
use serde_json::{Map, Value};
use std::path::Path;

/// A numeric element type of a Zarr v2 array (`<f4`, `>i2`, `|u1`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dtype {
    pub kind: u8,
    pub size: usize,
    pub big: bool,
}

impl Dtype {
    pub fn parse(s: &str) -> Option<Dtype> {
        let b = s.as_bytes();
        let (big, kind) = (*b.first()? == b'>', *b.get(1)?);
        let size: usize = s.get(2..)?.parse().ok()?;
        let ok = match kind {
            b'f' => size == 4 || size == 8,
            b'i' | b'u' => matches!(size, 1 | 2 | 4 | 8),
            _ => false,
        };
        ok.then_some(Dtype { kind, size, big })
    }

    pub fn is_float(self) -> bool {
        self.kind == b'f'
    }

    /// As Zarr v2 spells it, little-endian.
    pub fn zarr(self) -> String {
        let order = if self.size == 1 { '|' } else { '<' };
        format!("{order}{}{}", self.kind as char, self.size)
    }

    /// The first `out.len()` elements of `b` as float64, one loop per type.
    fn values(self, b: &[u8], out: &mut [f64]) {
        macro_rules! each {
            ($t:ty, $w:expr) => {{
                // a plain indexed loop: vectorised (the bytes of one value, then its number)
                for (o, c) in out.iter_mut().zip(b.chunks_exact($w)) {
                    let mut a = [0u8; $w];
                    a.copy_from_slice(c);
                    let v = if self.big { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) };
                    *o = v as f64;
                }
            }};
        }
        match (self.kind, self.size) {
            (b'f', 4) => each!(f32, 4),
            (b'f', _) => each!(f64, 8),
            (b'i', 1) => each!(i8, 1),
            (b'i', 2) => each!(i16, 2),
            (b'i', 4) => each!(i32, 4),
            (b'i', _) => each!(i64, 8),
            (_, 1) => each!(u8, 1),
            (_, 2) => each!(u16, 2),
            (_, 4) => each!(u32, 4),
            _ => each!(u64, 8),
        }
    }
}

/// One array of the input store.
#[derive(Clone, Debug)]
pub struct Array {
    pub name: String,
    pub dims: Vec<String>,
    pub shape: Vec<u64>,
    pub chunks: Vec<u64>,
    /// The stored type (after unpacking).
    pub dtype: Dtype,
    /// Stored values that xarray reads as NaN (`_FillValue`, `missing_value`).
    pub masked: Vec<f64>,
    /// The array's attributes as stored (`.zattrs`).
    pub attrs: Map<String, Value>,
    /// `/`-separated chunk file names, or `.`.
    pub separator: char,
    /// Packing the view left (an integer `scale_factor`, which xarray applies in the stored
    /// integer type): (scale, offset).
    pub packing: Option<(f64, f64)>,
}

impl Array {
    /// The type xarray decodes the array to: integers with a mask become float (float32 when
    /// two bytes or fewer, as `coding/variables.py` chooses).
    pub fn decoded(&self) -> Dtype {
        match self.dtype.is_float() || self.masked.is_empty() {
            true => self.dtype,
            false => {
                Dtype { kind: b'f', size: if self.dtype.size <= 2 { 4 } else { 8 }, big: false }
            }
        }
    }

    /// Chunk `index`'s values (a full chunk, C order), masked values NaN. A chunk without a
    /// file holds the fill value.
    pub fn chunk(&self, vfs: &Vfs, store: &Path, index: &[u64]) -> Result<Vec<f64>, DeriveError> {
        let mut values = Vec::new();
        self.chunk_into(vfs, store, index, &mut values)?;
        Ok(values)
    }

    /// [`Array::chunk`] into `values` (its allocation reused from chunk to chunk).
    pub fn chunk_into(
        &self,
        vfs: &Vfs,
        store: &Path,
        index: &[u64],
        values: &mut Vec<f64>,
    ) -> Result<(), DeriveError> {
        let raw = self.raw(vfs, store, index)?;
        values.resize(self.chunks.iter().product::<u64>() as usize, 0.0);
        self.decode(raw.as_deref(), 0, values);
        Ok(())
    }

    /// Chunk `index`'s stored bytes (at least a full chunk's; `None`: no file, the chunk
    /// holds the fill value), to be decoded piece by piece with [`Array::decode`].
    pub fn raw(
        &self,
        vfs: &Vfs,
        store: &Path,
        index: &[u64],
    ) -> Result<Option<Bytes>, DeriveError> {
        let n: u64 = self.chunks.iter().product();
        let name: Vec<String> = index.iter().map(u64::to_string).collect();
        let sep = self.separator.to_string();
        let key = if name.is_empty() { "0".to_string() } else { name.join(&sep) };
        let bytes = read_bytes(vfs, &store.join(&self.name).join(key))?;
        if bytes.as_ref().is_some_and(|b| (b.len() as u64) < n * self.dtype.size as u64) {
            let name = &self.name;
            return Err(DeriveError::Metadata(format!("chunk {index:?} of {name} is short")));
        }
        Ok(bytes)
    }

    /// The values `from..from + out.len()` of a chunk's bytes `raw` (from [`Array::raw`]) in
    /// `out`, masked values NaN, packing applied.
    pub fn decode(&self, raw: Option<&[u8]>, from: usize, out: &mut [f64]) {
        let Some(raw) = raw else {
            out.fill(self.masked.first().map_or(0.0, |_| f64::NAN));
            return;
        };
        self.dtype.values(&raw[from * self.dtype.size..], out);
        if !self.masked.is_empty() {
            // compared in the stored type (a float32 fill value is a float32)
            let single = self.dtype.is_float() && self.dtype.size == 4;
            let masked = self.masked.iter().map(|m| if single { f64::from(*m as f32) } else { *m });
            if let (1, Some(m)) = (self.masked.len(), masked.clone().next()) {
                // one masked value (the common case): a loop without branches
                out.iter_mut().for_each(|v| *v = if *v == m { f64::NAN } else { *v });
            } else {
                let masked: Vec<f64> = masked.collect();
                for v in out.iter_mut().filter(|v| masked.contains(v)) {
                    *v = f64::NAN;
                }
            }
        }
        if let Some((scale, offset)) = self.packing {
            out.iter_mut().for_each(|v| *v = *v * scale + offset);
        }
    }
}

/// The consolidated metadata of `store` (its `metadata` object).
pub fn metadata(vfs: &Vfs, store: &Path) -> Result<Map<String, Value>, DeriveError> {
    let bytes = read(vfs, &store.join(".zmetadata"))?.ok_or(VfsError::NotFound)?;
    // bare NaN and Infinity tokens (attributes, fill values) as the strings Zarr spells
    let doc: Value = serde_json::from_slice(&crate::zarr::json::standard_json(&bytes))
        .map_err(|e| DeriveError::Metadata(e.to_string()))?;
    doc.get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| DeriveError::Metadata("no consolidated metadata".into()))
}

/// The names of the arrays of the store's root group.
pub fn array_names(meta: &Map<String, Value>) -> Vec<String> {
    let mut names: Vec<String> = meta
        .keys()
        .filter_map(|k| k.strip_suffix("/.zarray"))
        .filter(|n| !n.contains('/'))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

/// Array `name` of the root group.
pub fn array(meta: &Map<String, Value>, name: &str) -> Result<Array, DeriveError> {
    let not_there = || {
        DeriveError::Request(format!(
            "no variable '{name}': one of {}",
            array_names(meta).join(", ")
        ))
    };
    let za = meta.get(&format!("{name}/.zarray")).ok_or_else(not_there)?;
    let attrs = meta.get(&format!("{name}/.zattrs")).and_then(Value::as_object);
    let attrs = attrs.cloned().unwrap_or_default();
    let u64s = |k: &str| -> Option<Vec<u64>> {
        za.get(k)?.as_array()?.iter().map(Value::as_u64).collect()
    };
    let bad = |what: &str| DeriveError::Metadata(format!("{name}: {what}"));
    let (shape, chunks) =
        (u64s("shape").ok_or(bad("shape"))?, u64s("chunks").ok_or(bad("chunks"))?);
    let dt = za.get("dtype").and_then(Value::as_str).unwrap_or("");
    let mut dtype = Dtype::parse(dt).ok_or_else(|| {
        DeriveError::Request(format!("variable '{name}' has type {dt}: not a number type"))
    })?;
    // `_Unsigned` (left where the view did not unpack): the integers read as xarray reads them
    let flip = match attrs.get("_Unsigned").and_then(Value::as_str) {
        Some("true") if dtype.kind == b'i' => Some(b'u'),
        Some("false") if dtype.kind == b'u' => Some(b'i'),
        _ => None,
    };
    if za.get("compressor").is_some_and(|c| !c.is_null())
        || za.get("filters").is_some_and(|f| !f.is_null())
        || za.get("order").and_then(Value::as_str) == Some("F")
    {
        return Err(bad("not a plain decoded array"));
    }
    let dims: Vec<String> = attrs
        .get("_ARRAY_DIMENSIONS")
        .and_then(Value::as_array)
        .map(|d| d.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if dims.len() != shape.len() || chunks.len() != shape.len() || chunks.contains(&0) {
        return Err(bad("dimensions"));
    }
    let mut masked: Vec<f64> = number(za.get("fill_value")).into_iter().collect();
    match attrs.get("missing_value") {
        Some(Value::Array(list)) => masked.extend(list.iter().filter_map(|v| number(Some(v)))),
        other => masked.extend(number(other)),
    }
    masked.retain(|m| !m.is_nan());
    if let Some(kind) = flip {
        // the fill value as the other signedness reads its bits (xarray converts it too)
        let span = 2f64.powi(8 * dtype.size as i32);
        let fill = za.get("fill_value").and_then(|v| number(Some(v)));
        for m in masked.iter_mut().filter(|m| Some(**m) == fill) {
            *m = if kind == b'u' && *m < 0.0 {
                *m + span
            } else if kind == b'i' && *m >= span / 2.0 {
                *m - span
            } else {
                *m
            };
        }
        dtype.kind = kind;
    }
    let separator = match za.get("dimension_separator").and_then(Value::as_str) {
        Some("/") => '/',
        _ => '.',
    };
    let (scale, offset) = (attrs.get("scale_factor"), attrs.get("add_offset"));
    let packing = (scale.is_some() || offset.is_some())
        .then(|| (number(scale).unwrap_or(1.0), number(offset).unwrap_or(0.0)));
    Ok(Array {
        name: name.to_string(),
        dims,
        shape,
        chunks,
        dtype,
        masked,
        attrs,
        separator,
        packing,
    })
}

/// A JSON number, or a Zarr fill value spelled as a string (`NaN`, `Infinity`).
fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// The bytes of file `path` of the tree (`None`: no such file, e.g. an unwritten chunk).
pub fn read(vfs: &Vfs, path: &Path) -> Result<Option<Vec<u8>>, VfsError> {
    Ok(read_bytes(vfs, path)?.map(Bytes::into_vec))
}

/// [`read`], the bytes as the tree answers them (a cached chunk's, not a copy).
pub fn read_bytes(vfs: &Vfs, path: &Path) -> Result<Option<Bytes>, VfsError> {
    let key = match vfs.resolve(path) {
        Ok(key) => key,
        Err(VfsError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let size = vfs.attr(&key)?.size;
    // usually one read answers the whole file: its bytes, not a copy
    let whole = vfs.read(&key, 0, size.min(u32::MAX as u64) as u32)?;
    if whole.len() as u64 >= size || whole.is_empty() {
        return Ok(Some(whole));
    }
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(&whole);
    while (out.len() as u64) < size {
        let want = (size - out.len() as u64).min(u32::MAX as u64) as u32;
        let got = vfs.read(&key, out.len() as u64, want)?;
        if got.is_empty() {
            break;
        }
        out.extend_from_slice(&got);
    }
    Ok(Some(Bytes::Owned(out)))
}
