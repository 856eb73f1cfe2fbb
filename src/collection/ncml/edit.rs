//! NcML edits of the aggregated dataset, read and applied: `<attribute name value [type]
//! [separator]>` (typed as NcML types them) adds or replaces a global attribute, `<remove
//! name type="attribute|variable">` takes a global attribute or a variable out. Applied to
//! the joined index, in document order, after the join; anything else (renames, variable
//! attributes, dimensions) is refused by the parser.

use super::error::NcmlError;
use crate::collection::DROPPED;
use crate::index::{AttrValue, DatasetIndex};
use roxmltree::Node;

/// One edit of the aggregated dataset.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Add or replace a global attribute.
    SetAttribute { name: String, value: AttrValue },
    /// Remove a global attribute.
    RemoveAttribute(String),
    /// Remove a variable.
    RemoveVariable(String),
}

/// `<attribute>` at the top of the document.
pub(super) fn attribute(node: Node<'_, '_>) -> Result<Edit, NcmlError> {
    if node.attribute("orgName").is_some() {
        return Err(NcmlError::Unsupported("renaming an attribute (orgName)".into()));
    }
    for a in node.attributes() {
        if !["name", "value", "type", "separator"].contains(&a.name()) {
            let what = format!("attribute {}=\"{}\" on <attribute>", a.name(), a.value());
            return Err(NcmlError::Unsupported(what));
        }
    }
    if node.children().any(|c| c.is_element()) {
        return Err(NcmlError::Invalid("elements inside <attribute>".into()));
    }
    let name = node
        .attribute("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| NcmlError::Invalid("<attribute> without name".into()))?;
    let text = match node.attribute("value") {
        Some(v) => v.to_string(),
        None => node.text().unwrap_or_default().to_string(),
    };
    let value = typed_value(&text, node.attribute("type"), node.attribute("separator"))?;
    Ok(Edit::SetAttribute { name: name.to_string(), value })
}

/// `<remove>` at the top of the document.
pub(super) fn remove(node: Node<'_, '_>) -> Result<Edit, NcmlError> {
    let name = node
        .attribute("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| NcmlError::Invalid("<remove> without name".into()))?
        .to_string();
    match node.attribute("type") {
        Some("attribute") => Ok(Edit::RemoveAttribute(name)),
        Some("variable") => Ok(Edit::RemoveVariable(name)),
        Some(other) => Err(NcmlError::Unsupported(format!("<remove type=\"{other}\">"))),
        None => Err(NcmlError::Invalid("<remove> without type".into())),
    }
}

/// Apply `edits` to the joined `index`; what they change (or find nothing to change) goes
/// to `notes`. An attribute set or removed is no longer listed as dropped.
pub fn apply(edits: &[Edit], index: &mut DatasetIndex, notes: &mut Vec<String>) {
    let root = &mut index.root;
    for e in edits {
        let name = match e {
            Edit::SetAttribute { name, value } => {
                match root.attrs.iter_mut().find(|(k, _)| k == name) {
                    Some(slot) => slot.1 = value.clone(),
                    None => root.attrs.push((name.clone(), value.clone())),
                }
                notes.push(format!("NcML: global attribute {name} set"));
                name
            }
            Edit::RemoveAttribute(name) => {
                let before = root.attrs.len();
                root.attrs.retain(|(k, _)| k != name);
                let how = match (before != root.attrs.len(), is_dropped(root, name)) {
                    (true, _) => "",
                    (false, true) => " (it differs between members: dropped already)",
                    (false, false) => " (it was not there)",
                };
                notes.push(format!("NcML: global attribute {name} removed{how}"));
                name
            }
            Edit::RemoveVariable(name) => {
                let before = root.arrays.len() + root.skipped.len();
                root.arrays.retain(|a| a.name != *name);
                root.skipped.retain(|s| s.name != *name);
                let found = before != root.arrays.len() + root.skipped.len();
                notes.push(format!("NcML: variable {name} removed{}", absent(found)));
                continue;
            }
        };
        let dropped = root.attrs.iter_mut().find(|(k, _)| k == DROPPED);
        if let Some((_, AttrValue::Strs(names))) = dropped {
            names.retain(|n| n != name);
            if names.is_empty() {
                root.attrs.retain(|(k, _)| k != DROPPED);
            }
        }
    }
}

/// An attribute value of `type` (NcML's names; `String` when absent) from its text: numbers
/// separated by `separator` (blanks when absent), one element a scalar.
fn typed_value(
    text: &str,
    kind: Option<&str>,
    separator: Option<&str>,
) -> Result<AttrValue, NcmlError> {
    let items: Vec<&str> = match separator {
        Some(s) if !s.is_empty() => text.split(s).map(str::trim).collect(),
        _ => text.split_whitespace().collect(),
    };
    let bad = |item: &str| {
        NcmlError::Invalid(format!(
            "attribute value {item:?} is not of type {}",
            kind.unwrap_or("")
        ))
    };
    let kind = kind.unwrap_or("String");
    let value = match kind {
        "String" | "string" => match separator {
            Some(_) => AttrValue::Strs(items.iter().map(|s| s.to_string()).collect()),
            None => AttrValue::Str(text.to_string()),
        },
        "byte" | "short" | "int" | "long" => {
            let bits = match kind {
                "byte" => 8,
                "short" => 16,
                "int" => 32,
                _ => 64,
            };
            let fits = |v: i64| bits == 64 || (v >= -(1 << (bits - 1)) && v < (1 << (bits - 1)));
            let int = |s: &&str| s.parse::<i64>().ok().filter(|v| fits(*v)).ok_or_else(|| bad(s));
            let v: Result<Vec<i64>, _> = items.iter().map(int).collect();
            // a single value keeps its width, as netCDF-C types a file's attribute
            match one_or_many(v?, AttrValue::Int, AttrValue::Ints) {
                AttrValue::Int(x) => AttrValue::integer(x.into(), false, bits / 8),
                many => many,
            }
        }
        "ubyte" | "ushort" | "uint" | "ulong" => {
            let bits = match kind {
                "ubyte" => 8,
                "ushort" => 16,
                "uint" => 32,
                _ => 64,
            };
            let fits = |v: u64| bits == 64 || v < (1 << bits);
            let int = |s: &&str| s.parse::<u64>().ok().filter(|v| fits(*v)).ok_or_else(|| bad(s));
            let v: Result<Vec<u64>, _> = items.iter().map(int).collect();
            match one_or_many(v?, AttrValue::UInt, AttrValue::UInts) {
                AttrValue::UInt(x) => AttrValue::integer(x.into(), true, bits / 8),
                many => many,
            }
        }
        // a float attribute is a float32 in netCDF (kept as such: --unpack's type follows it)
        "float" => {
            let v: Result<Vec<f32>, _> =
                items.iter().map(|s| s.parse::<f32>().map_err(|_| bad(s))).collect();
            one_or_many(v?, AttrValue::Float32, AttrValue::Floats32)
        }
        "double" => {
            let v: Result<Vec<f64>, _> =
                items.iter().map(|s| s.parse::<f64>().map_err(|_| bad(s))).collect();
            one_or_many(v?, AttrValue::Float, AttrValue::Floats)
        }
        other => return Err(NcmlError::Unsupported(format!("attribute type=\"{other}\""))),
    };
    if value.is_empty() {
        return Err(NcmlError::Invalid(format!("an empty {kind} attribute value")));
    }
    Ok(value)
}

fn one_or_many<T>(v: Vec<T>, one: fn(T) -> AttrValue, many: fn(Vec<T>) -> AttrValue) -> AttrValue {
    match v.len() {
        1 => one(v.into_iter().next().expect("one")),
        _ => many(v),
    }
}

/// Whether `name` is listed as dropped because members differ in it.
fn is_dropped(root: &crate::index::GroupNode, name: &str) -> bool {
    root.attrs.iter().any(|(k, v)| {
        k == DROPPED && matches!(v, AttrValue::Strs(names) if names.iter().any(|n| n == name))
    })
}

fn absent(found: bool) -> &'static str {
    match found {
        true => "",
        false => " (it was not there)",
    }
}
