//! NcML edits of the aggregated dataset: `<attribute name value [type] [separator]>` adds or
//! replaces a global attribute, `<remove name type="attribute|variable">` takes a global
//! attribute or a variable out. Applied to the joined index, in document order, after the
//! join; anything else (renames, variable attributes, dimensions) is refused by the parser.

use super::error::NcmlError;
use super::parse::typed_value;
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
