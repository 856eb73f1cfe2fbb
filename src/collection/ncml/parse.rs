//! An NcML document (namespace `http://www.unidata.ucar.edu/namespaces/netcdf/ncml-2.2`) read
//! into what it describes, without touching the file system: the aggregation (`joinExisting`
//! of `<netcdf location>` members and `<scan>`s, or `union` of members and nested
//! `joinExisting` aggregations) and the edits of the aggregated dataset's global attributes
//! and variables (`<attribute>`, `<remove>`). Everything else NcML can say is refused by name,
//! so that a dataset is never served half-applied. Parsing is bounded: the caller reads at
//! most [`super::MAX_BYTES`], roxmltree expands no external entities and bounds entity
//! nesting, and aggregations nest at most two deep here.

use super::edit::Edit;
use super::error::NcmlError;
use roxmltree::{Document, Node};
use std::time::Duration;

/// The NcML namespace.
pub const NAMESPACE: &str = "http://www.unidata.ucar.edu/namespaces/netcdf/ncml-2.2";

/// What an NcML file describes.
#[derive(Clone, Debug, PartialEq)]
pub struct Ncml {
    pub aggregation: Aggregation,
    /// Edits of the aggregated dataset, in document order.
    pub edits: Vec<Edit>,
}

/// The aggregation types served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggType {
    JoinExisting,
    Union,
}

/// One `<aggregation>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregation {
    pub kind: AggType,
    /// `dimName` (joinExisting).
    pub dim: Option<String>,
    /// `timeUnitsChange="true"`: members' time units may differ (re-expressed in the first's;
    /// the join does so in any case).
    pub time_units_change: bool,
    pub parts: Vec<Part>,
}

/// A member source of an aggregation.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// `<netcdf location="..."/>`.
    File(String),
    /// `<scan .../>`.
    Scan(Scan),
    /// `<netcdf><aggregation type="joinExisting">...</aggregation></netcdf>` in a union.
    Nested(Aggregation),
}

/// A `<scan>`: the files of a directory (and its sub-directories) whose name matches.
#[derive(Clone, Debug, PartialEq)]
pub struct Scan {
    pub location: String,
    pub suffix: Option<String>,
    /// Matched against the whole file name (as netCDF-Java does); wins over `suffix`.
    pub reg_exp: Option<String>,
    /// `subdirs` (default true).
    pub subdirs: bool,
    /// `olderThan`: only files not modified for this long.
    pub older_than: Option<Duration>,
}

fn unsupported(what: String) -> NcmlError {
    NcmlError::Unsupported(what)
}

/// The elements of `node` (comments, processing instructions and blank text skipped); text
/// that is not blank is refused.
fn elements<'a, 'i>(node: Node<'a, 'i>) -> Result<Vec<Node<'a, 'i>>, NcmlError> {
    let mut out = Vec::new();
    for c in node.children() {
        if c.is_element() {
            if c.tag_name().namespace().is_some_and(|n| n != NAMESPACE) {
                let ns = c.tag_name().namespace().unwrap_or_default();
                return Err(unsupported(format!("element <{}> of namespace {ns}", name(c))));
            }
            out.push(c);
        } else if c.is_text() && c.text().is_some_and(|t| !t.trim().is_empty()) {
            return Err(NcmlError::Invalid(format!("text inside <{}>", name(node))));
        }
    }
    Ok(out)
}

fn name<'a>(n: Node<'a, '_>) -> &'a str {
    n.tag_name().name()
}

/// Refuse any attribute of `node` not in `known`.
fn only(node: Node<'_, '_>, known: &[&str]) -> Result<(), NcmlError> {
    for a in node.attributes() {
        if a.namespace().is_none() && !known.contains(&a.name()) {
            return Err(unsupported(format!(
                "attribute {}=\"{}\" on <{}>",
                a.name(),
                a.value(),
                name(node)
            )));
        }
    }
    Ok(())
}

fn flag(node: Node<'_, '_>, attr: &str, default: bool) -> Result<bool, NcmlError> {
    match node.attribute(attr) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(NcmlError::Invalid(format!("{attr}=\"{v}\" on <{}>", name(node)))),
    }
}

/// Parse the NcML document `text`.
pub fn parse(text: &str) -> Result<Ncml, NcmlError> {
    let doc = Document::parse(text).map_err(NcmlError::Xml)?;
    let root = doc.root_element();
    if name(root) != "netcdf" {
        return Err(NcmlError::NotNcml(format!(
            "the root element is <{}>, not <netcdf>",
            name(root)
        )));
    }
    match root.tag_name().namespace() {
        None | Some(NAMESPACE) => {}
        Some(other) => return Err(NcmlError::NotNcml(format!("namespace {other}"))),
    }
    if root.attribute("location").is_some() {
        return Err(unsupported(
            "a location on the root <netcdf> (one dataset modified, not an aggregation)".into(),
        ));
    }
    only(root, &["id", "title"])?;
    let mut aggregation = None;
    let mut edits = Vec::new();
    for c in elements(root)? {
        match name(c) {
            "aggregation" if aggregation.is_some() => {
                return Err(NcmlError::Invalid("more than one <aggregation>".into()))
            }
            "aggregation" => aggregation = Some(parse_aggregation(c, 0)?),
            "attribute" => edits.push(super::edit::attribute(c)?),
            "remove" => edits.push(super::edit::remove(c)?),
            "readMetadata" => only(c, &[])?,
            other => {
                return Err(unsupported(format!(
                    "<{other}> in the aggregated dataset (only <attribute> and <remove> edit it)"
                )))
            }
        }
    }
    let aggregation = aggregation.ok_or_else(|| {
        unsupported("an NcML file without <aggregation> (nothing to join)".into())
    })?;
    Ok(Ncml { aggregation, edits })
}

fn parse_aggregation(node: Node<'_, '_>, depth: usize) -> Result<Aggregation, NcmlError> {
    only(node, &["type", "dimName", "timeUnitsChange", "recheckEvery"])?;
    let kind = match node.attribute("type") {
        Some("joinExisting") => AggType::JoinExisting,
        Some("union") if depth == 0 => AggType::Union,
        Some("union") => return Err(unsupported("a union inside a union".into())),
        Some(other) => return Err(unsupported(format!("aggregation type=\"{other}\""))),
        None => return Err(NcmlError::Invalid("<aggregation> without type".into())),
    };
    let dim = node.attribute("dimName").map(str::to_string);
    if kind == AggType::JoinExisting && dim.is_none() {
        return Err(NcmlError::Invalid("joinExisting without dimName".into()));
    }
    let time_units_change = flag(node, "timeUnitsChange", false)?;
    let mut parts = Vec::new();
    for c in elements(node)? {
        match (name(c), kind) {
            ("netcdf", _) => parts.push(member(c, kind, depth)?),
            ("scan", AggType::JoinExisting) => parts.push(Part::Scan(scan(c)?)),
            ("scan", AggType::Union) => {
                return Err(unsupported(
                    "<scan> directly in a union (put it in a nested joinExisting)".into(),
                ))
            }
            (other, _) => return Err(unsupported(format!("<{other}> in an aggregation"))),
        }
    }
    Ok(Aggregation { kind, dim, time_units_change, parts })
}

/// A `<netcdf>` inside an aggregation: a member file, or (in a union) a nested aggregation.
fn member(node: Node<'_, '_>, parent: AggType, depth: usize) -> Result<Part, NcmlError> {
    if node.attribute("coordValue").is_some() {
        return Err(unsupported(
            "coordValue on a member (its own coordinate values are served)".into(),
        ));
    }
    only(node, &["location", "id", "ncoords"])?;
    let children = elements(node)?;
    match (node.attribute("location"), children.as_slice()) {
        (Some(loc), []) => Ok(Part::File(loc.to_string())),
        (None, [agg]) if parent == AggType::Union && name(*agg) == "aggregation" => {
            let nested = parse_aggregation(*agg, depth + 1)?;
            Ok(Part::Nested(nested))
        }
        (Some(_), _) => Err(unsupported(
            "a member <netcdf> with elements of its own (a modified member)".into(),
        )),
        (None, _) => Err(NcmlError::Invalid("a member <netcdf> without location".into())),
    }
}

fn scan(node: Node<'_, '_>) -> Result<Scan, NcmlError> {
    // dateFormatMark orders files by a date in their names: members are ordered by their
    // time values here, which is the order it gives for a well-named archive
    only(node, &["location", "suffix", "regExp", "subdirs", "olderThan", "dateFormatMark"])?;
    if !elements(node)?.is_empty() {
        return Err(unsupported("elements inside <scan>".into()));
    }
    let location = node
        .attribute("location")
        .ok_or_else(|| NcmlError::Invalid("<scan> without location".into()))?
        .to_string();
    let older_than = node.attribute("olderThan").map(duration).transpose()?;
    Ok(Scan {
        location,
        suffix: node.attribute("suffix").map(str::to_string),
        reg_exp: node.attribute("regExp").map(str::to_string),
        subdirs: flag(node, "subdirs", true)?,
        older_than,
    })
}

/// A udunits time span as NcML writes `olderThan` (`5 min`, `30 sec`, `1 hour`, `2 days`).
fn duration(text: &str) -> Result<Duration, NcmlError> {
    let bad = || NcmlError::Invalid(format!("olderThan=\"{text}\" (expected e.g. \"5 min\")"));
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let amount: f64 = t[..split].trim().parse().map_err(|_| bad())?;
    let seconds = match t[split..].trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(amount * seconds).map_err(|_| bad())
}
