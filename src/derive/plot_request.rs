//! A plot's path (`{var}/{kind}/{cmap}/{dim}/{spec}…[.svg|.png]`) as a request; what the
//! selection means is in `quicklook.rs`.

use super::error::DeriveError;
use crate::plot::{Colormap, Format};

/// What to draw.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PlotRequest {
    pub var: String,
    pub kind: Kind,
    pub cmap: String,
    pub selection: Vec<(String, Sel)>,
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Map,
    Line,
    Hist,
}

/// One dimension's selection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Sel {
    Range(u64, u64),
    Value(String),
}

const USAGE: &str =
    "plots: /datasets/{id}/plot/{var}/{map|line|hist}/{colormap}[/{dim}/{lo_hi or value}…][.svg]";

impl PlotRequest {
    /// The path's segments after `plot/`.
    pub fn parse(segments: &[String]) -> Result<PlotRequest, DeriveError> {
        let bad = |why: String| DeriveError::Request(format!("{why}; {USAGE}"));
        let mut segments = segments.to_vec();
        let mut format = Format::Png;
        if let Some(last) = segments.last_mut() {
            for (ext, f) in [(".svg", Format::Svg), (".png", Format::Png)] {
                if let Some(stem) = last.strip_suffix(ext) {
                    *last = stem.to_string();
                    format = f;
                }
            }
        }
        let [var, kind, cmap, sel @ ..] = segments.as_slice() else {
            return Err(bad("a variable, a kind and a colormap are needed".into()));
        };
        let kind = match kind.as_str() {
            "map" => Kind::Map,
            "line" => Kind::Line,
            "hist" => Kind::Hist,
            other => return Err(bad(format!("unknown kind {other:?}: map, line or hist"))),
        };
        Colormap::named(cmap).map_err(|e| bad(e.to_string()))?;
        if sel.len() % 2 != 0 {
            return Err(bad("a selection is pairs of a dimension and a range or value".into()));
        }
        let mut selection = Vec::new();
        for pair in sel.chunks(2) {
            let spec = match pair[1].split_once('_') {
                Some((lo, hi)) => match (lo.parse::<u64>(), hi.parse::<u64>()) {
                    (Ok(lo), Ok(hi)) if lo < hi => Sel::Range(lo, hi),
                    _ => {
                        return Err(bad(format!("{:?}: an index range is lo_hi, lo < hi", pair[1])))
                    }
                },
                None if !pair[1].is_empty() => Sel::Value(pair[1].clone()),
                None => return Err(bad("an empty selection".into())),
            };
            selection.push((pair[0].clone(), spec));
        }
        Ok(PlotRequest { var: var.clone(), kind, cmap: cmap.clone(), selection, format })
    }
}
