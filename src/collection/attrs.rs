//! Attributes of joined members: equal ones are kept, differing ones dropped and named.

use crate::index::{AttrValue, Attrs, GroupNode};

/// The global attribute that names the attributes dropped because members differ in them.
pub const DROPPED: &str = "cloudify_dropped_attributes";

/// Equal values, a NaN equal to a NaN (a `missing_value = NaN` is the same in every member).
pub fn same_value(a: &AttrValue, b: &AttrValue) -> bool {
    let f = |x: &f64, y: &f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
    if a.is_float32() != b.is_float32() {
        return false;
    }
    match (a.widened().as_ref(), b.widened().as_ref()) {
        (AttrValue::Float(x), AttrValue::Float(y)) => f(x, y),
        (AttrValue::Floats(x), AttrValue::Floats(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| f(x, y))
        }
        (a, b) => a == b,
    }
}

/// The same attributes (names and values), in any order.
pub fn same_attrs(a: &Attrs, b: &Attrs) -> bool {
    a.len() == b.len()
        && a.iter().all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && same_value(v, v2)))
}

/// The first group's attributes that every group has with the same value, and the names of
/// all others (in the first group's order, then the others' order).
pub fn merge_global(groups: &[&GroupNode]) -> (Attrs, Vec<String>) {
    let mut kept = Attrs::new();
    let mut dropped: Vec<String> = Vec::new();
    for (k, v) in &groups[0].attrs {
        let everywhere =
            groups[1..].iter().all(|g| g.attrs.iter().any(|(k2, v2)| k2 == k && same_value(v, v2)));
        if everywhere {
            kept.push((k.clone(), v.clone()));
        } else {
            dropped.push(k.clone());
        }
    }
    for g in &groups[1..] {
        for (k, _) in &g.attrs {
            if !groups[0].attrs.iter().any(|(k0, _)| k0 == k) && !dropped.contains(k) {
                dropped.push(k.clone());
            }
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(attrs: &[(&str, AttrValue)]) -> GroupNode {
        let attrs = attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        GroupNode { attrs, ..GroupNode::default() }
    }

    #[test]
    fn equal_attributes_stay_and_differing_ones_are_named() {
        let s = |x: &str| AttrValue::Str(x.into());
        let a =
            group(&[("title", s("t")), ("history", s("1")), ("nan", AttrValue::Float(f64::NAN))]);
        let b = group(&[
            ("nan", AttrValue::Float(f64::NAN)),
            ("history", s("2")),
            ("title", s("t")),
            ("extra", s("x")),
        ]);
        let (kept, dropped) = merge_global(&[&a, &b]);
        let names: Vec<&str> = kept.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["title", "nan"]);
        assert_eq!(dropped, ["history", "extra"]);
        assert!(same_attrs(&a.attrs, &a.attrs) && !same_attrs(&a.attrs, &b.attrs));
    }
}
