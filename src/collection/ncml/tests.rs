//! The NcML reader without a mount: what each kind of document parses to, what is refused
//! and why, edits applied to an index, and locations and scans resolved in a temporary tree.

use super::edit::{apply, Edit};
use super::parse::{parse, AggType, Part, Scan};
use super::resolve::{location, members};
use super::{recipe, NcmlError};
use crate::index::{AttrValue, DatasetIndex, GroupNode, Skipped};
use std::path::{Path, PathBuf};

fn doc(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<netcdf xmlns=\"{}\">{body}</netcdf>",
        super::parse::NAMESPACE
    )
}

fn refused(body: &str) -> String {
    match parse(&doc(body)) {
        Ok(n) => panic!("parsed: {n:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn join_existing_of_members_and_scans() {
    let n = parse(&doc(r#"
      <!-- a comment -->
      <aggregation type="joinExisting" dimName="time" timeUnitsChange="true">
        <netcdf location="a.nc" ncoords="365"/>
        <scan location="data/" suffix=".nc" regExp="tas_.*" subdirs="false" olderThan="5 min"
              dateFormatMark="tas_#yyyy"/>
      </aggregation>"#))
    .expect("parsed");
    let agg = &n.aggregation;
    assert_eq!(
        (agg.kind, agg.dim.as_deref(), agg.time_units_change),
        (AggType::JoinExisting, Some("time"), true)
    );
    assert_eq!(agg.parts[0], Part::File("a.nc".into()));
    assert_eq!(
        agg.parts[1],
        Part::Scan(Scan {
            location: "data/".into(),
            suffix: Some(".nc".into()),
            reg_exp: Some("tas_.*".into()),
            subdirs: false,
            older_than: Some(std::time::Duration::from_secs(300)),
        })
    );
    assert!(n.edits.is_empty());
    let r = recipe(&n).expect("recipe");
    assert_eq!((r.how.union.is_some(), &*r.how.join), (false, "time"));
}

#[test]
fn union_of_nested_joins_and_members() {
    let n = parse(&doc(r#"
      <aggregation type="union">
        <netcdf><aggregation type="joinExisting" dimName="time"><scan location="tas"/></aggregation></netcdf>
        <netcdf location="orog.nc"/>
      </aggregation>"#))
    .expect("parsed");
    assert_eq!(n.aggregation.kind, AggType::Union);
    assert!(matches!(&n.aggregation.parts[0], Part::Nested(a) if a.kind == AggType::JoinExisting));
    assert_eq!(n.aggregation.parts[1], Part::File("orog.nc".into()));
    let r = recipe(&n).expect("recipe");
    assert_eq!((r.how.union.is_some(), &*r.how.join), (true, "time"));
    // nested joins along different dimensions cannot be one recipe
    let two = parse(&doc(r#"<aggregation type="union">
        <netcdf><aggregation type="joinExisting" dimName="time"><netcdf location="a"/></aggregation></netcdf>
        <netcdf><aggregation type="joinExisting" dimName="Time"><netcdf location="b"/></aggregation></netcdf>
      </aggregation>"#))
    .expect("parsed");
    assert!(recipe(&two).is_err());
}

#[test]
fn what_is_not_supported_is_refused_by_name() {
    let join = |inner: &str| {
        format!(r#"<aggregation type="joinExisting" dimName="time">{inner}</aggregation>"#)
    };
    let cases = [
        (r#"<aggregation type="joinNew" dimName="run"/>"#.to_string(), "type=\"joinNew\""),
        (r#"<aggregation type="forecastModelRunCollection" dimName="run"/>"#.into(), "forecastModelRun"),
        (r#"<aggregation type="tiled"/>"#.into(), "tiled"),
        (join(r#"<netcdf location="a.nc" coordValue="3"/>"#), "coordValue"),
        (join(r#"<netcdf location="a.nc"><attribute name="x" value="1"/></netcdf>"#), "modified member"),
        (join(r#"<variableAgg name="tas"/>"#), "<variableAgg>"),
        (join(r#"<scan location="d" enhance="true"/>"#), "enhance"),
        (format!(r#"<variable name="tas" orgName="t"/>{}"#, join("")), "<variable>"),
        (format!(r#"<dimension name="x" length="1"/>{}"#, join("")), "<dimension>"),
        (format!(r#"<attribute name="a" orgName="b"/>{}"#, join("")), "orgName"),
        (format!(r#"<remove name="x" type="dimension"/>{}"#, join("")), "type=\"dimension\""),
        (format!(r#"<attribute name="a" type="char" value="x"/>{}"#, join("")), "type=\"char\""),
        (r#"<aggregation type="union"><scan location="d"/></aggregation>"#.into(), "<scan> directly in a union"),
        (r#"<aggregation type="union"><netcdf><aggregation type="union"/></netcdf></aggregation>"#.into(), "union inside a union"),
        (String::new(), "without <aggregation>"),
    ];
    for (body, why) in cases {
        let e = refused(&body);
        assert!(e.contains(why), "{body}: {e}");
    }
    assert!(refused(r#"<aggregation type="joinExisting"/>"#).contains("without dimName"));
    let e = parse(r#"<netcdf location="x.nc"><aggregation type="union"/></netcdf>"#).unwrap_err();
    assert!(e.to_string().contains("location on the root"), "{e}");
    let e = parse(
        r#"<catalog xmlns="http://www.unidata.ucar.edu/namespaces/thredds/InvCatalog/v1.0"/>"#,
    );
    assert!(matches!(e, Err(NcmlError::NotNcml(_))), "{e:?}");
    assert!(matches!(parse("<netcdf"), Err(NcmlError::Xml(_))));
    let e = parse(r#"<netcdf xmlns="urn:other"><aggregation type="union"/></netcdf>"#);
    assert!(matches!(e, Err(NcmlError::NotNcml(_))), "{e:?}");
}

#[test]
fn hostile_documents_are_refused_not_expanded() {
    // entities: roxmltree refuses external ones and bounds the expansion of internal ones
    let bomb = format!(
        "<!DOCTYPE n [<!ENTITY a \"{}\">{}]><netcdf>&j;</netcdf>",
        "x".repeat(100),
        (b'b'..=b'j')
            .map(|c| {
                let prev = (c - 1) as char;
                format!("<!ENTITY {} \"{}\">", c as char, format!("&{prev};").repeat(10))
            })
            .collect::<String>()
    );
    assert!(parse(&bomb).is_err());
    let external = "<!DOCTYPE n [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><netcdf>&e;</netcdf>";
    assert!(parse(external).is_err());
    let deep = format!("{}{}", "<netcdf>".repeat(5000), "</netcdf>".repeat(5000));
    assert!(parse(&deep).is_err());
}

#[test]
fn attribute_values_are_typed() {
    let n = parse(&doc(r#"
      <attribute name="title" value="A title"/>
      <attribute name="n" type="int" value="3"/>
      <attribute name="w" type="double" value="0.25 0.5"/>
      <attribute name="f" type="float" value="0.1"/>
      <attribute name="u" type="ushort" value="7"/>
      <attribute name="list" separator="," value="a,b"/>
      <attribute name="text">as text</attribute>
      <remove name="history" type="attribute"/>
      <remove name="orog" type="variable"/>
      <aggregation type="joinExisting" dimName="time"><netcdf location="a"/></aggregation>"#))
    .expect("parsed");
    let set = |name: &str, value: AttrValue| Edit::SetAttribute { name: name.into(), value };
    assert_eq!(
        n.edits,
        vec![
            set("title", AttrValue::Str("A title".into())),
            set("n", AttrValue::Narrow { value: 3, unsigned: false, size: 4 }),
            set("w", AttrValue::Floats(vec![0.25, 0.5])),
            set("f", AttrValue::Float32(0.1)),
            set("u", AttrValue::Narrow { value: 7, unsigned: true, size: 2 }),
            set("list", AttrValue::Strs(vec!["a".into(), "b".into()])),
            set("text", AttrValue::Str("as text".into())),
            Edit::RemoveAttribute("history".into()),
            Edit::RemoveVariable("orog".into()),
        ]
    );
    for bad in [r#"type="byte" value="300""#, r#"type="int" value="x""#, r#"type="int" value="""#] {
        let e = refused(&format!(r#"<attribute name="a" {bad}/><aggregation type="union"/>"#));
        assert!(e.starts_with("invalid"), "{bad}: {e}");
    }
}

#[test]
fn edits_apply_to_the_joined_index() {
    let mut index = DatasetIndex { format: "x".into(), root: GroupNode::default() };
    let dropped = AttrValue::Strs(vec!["history".into(), "tracking_id".into()]);
    index.root.attrs = vec![
        ("title".into(), AttrValue::Str("old".into())),
        ("tracking_id".into(), AttrValue::Str("hdl".into())),
        (crate::collection::DROPPED.into(), dropped),
    ];
    index.root.skipped.push(Skipped { name: "bad".into(), reason: "differs".into() });
    let edits = vec![
        Edit::SetAttribute { name: "title".into(), value: AttrValue::Str("new".into()) },
        Edit::SetAttribute { name: "history".into(), value: AttrValue::Str("one".into()) },
        Edit::RemoveAttribute("tracking_id".into()),
        Edit::RemoveAttribute("absent".into()),
        Edit::RemoveVariable("bad".into()),
    ];
    let mut notes = Vec::new();
    apply(&edits, &mut index, &mut notes);
    assert_eq!(
        index.root.attrs,
        vec![
            ("title".into(), AttrValue::Str("new".into())),
            ("history".into(), AttrValue::Str("one".into())),
        ],
        "set and removed attributes are no longer listed as dropped"
    );
    assert!(index.root.skipped.is_empty());
    assert!(notes.iter().any(|n| n.contains("absent removed (it was not there)")), "{notes:?}");
}

#[test]
fn locations_are_confined_to_the_archive() {
    let root = Path::new("/archive");
    let dir = Path::new("cmip/run1");
    let ok = |loc: &str| location(loc, root, dir).map_err(|e| e.to_string());
    assert_eq!(ok("tas.nc"), Ok(PathBuf::from("cmip/run1/tas.nc")));
    assert_eq!(ok("./data/../tas.nc"), Ok(PathBuf::from("cmip/run1/tas.nc")));
    assert_eq!(ok("../../top.nc"), Ok(PathBuf::from("top.nc")));
    assert_eq!(ok("/archive/a/b.nc"), Ok(PathBuf::from("a/b.nc")));
    assert_eq!(ok("file:///archive/a%20b.nc"), Ok(PathBuf::from("a b.nc")));
    assert_eq!(ok("file:/archive/x.nc"), Ok(PathBuf::from("x.nc")));
    assert_eq!(ok("file:rel.nc"), Ok(PathBuf::from("cmip/run1/rel.nc")));
    for outside in ["../../../up.nc", "/etc/passwd", "/archive/../etc/passwd", "file:///tmp/x.nc"] {
        assert!(ok(outside).is_err_and(|e| e.contains("outside the archive")), "{outside}");
    }
    for remote in ["http://h/x.nc", "https://h/x.nc", "dods://h/x", "thredds:catalog.xml#x"] {
        assert!(ok(remote).is_err_and(|e| e.contains("is remote")), "{remote}");
    }
}

#[test]
fn scans_find_members_by_suffix_or_whole_name() {
    let root = std::env::temp_dir().join(format!("cloudify-ncml-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tas_day.nc");
    for f in [
        "d/tas_1850.nc",
        "d/tas_1851.nc",
        "d/tas_1851.nc4",
        "d/pr_1850.nc",
        "d/sub/tas_1852.nc",
        "d/x_tas_1853.nc",
    ] {
        std::fs::create_dir_all(root.join(f).parent().expect("dir")).expect("mkdir");
        std::fs::copy(&data, root.join(f)).expect("copy");
    }
    // not data: never a member, whatever its name
    std::fs::write(root.join("d/notes.nc"), b"not netCDF").expect("write");
    std::fs::write(root.join("d/agg.ncml"), b"<netcdf/>").expect("write");
    let root = root.canonicalize().expect("root");
    let agg = |scan: &str| {
        let n = parse(&doc(&format!(
            r#"<aggregation type="joinExisting" dimName="time">{scan}</aggregation>"#
        )))
        .expect("parsed");
        n.aggregation
    };
    let found = |scan: &str| -> Vec<String> {
        let mut f = super::Found::default();
        members(&agg(scan), &root, Path::new(""), &mut f).expect("members");
        f.members.iter().map(|p| p.display().to_string()).collect()
    };
    assert_eq!(
        found(r#"<scan location="d" suffix=".nc"/>"#),
        ["d/pr_1850.nc", "d/sub/tas_1852.nc", "d/tas_1850.nc", "d/tas_1851.nc", "d/x_tas_1853.nc"]
    );
    assert_eq!(
        found(r#"<scan location="d" suffix=".nc" subdirs="false"/>"#),
        ["d/pr_1850.nc", "d/tas_1850.nc", "d/tas_1851.nc", "d/x_tas_1853.nc"]
    );
    // the whole name must match; regExp wins over suffix
    assert_eq!(
        found(r#"<scan location="d" regExp="tas_\d{4}\.nc4?" suffix=".nc"/>"#),
        ["d/sub/tas_1852.nc", "d/tas_1850.nc", "d/tas_1851.nc", "d/tas_1851.nc4"]
    );
    let resolve = |scan: &str| {
        let mut found = super::Found::default();
        members(&agg(scan), &root, Path::new(""), &mut found).map(|()| found)
    };
    assert_eq!(resolve(r#"<scan location="d"/>"#).expect("found").scanned.len(), 2);
    // files written just now are not older than a day: none, and when the first one will be
    let mut young = super::Found::default();
    let e = members(
        &agg(r#"<scan location="d" olderThan="1 day"/>"#),
        &root,
        Path::new(""),
        &mut young,
    );
    assert!(matches!(e, Err(NcmlError::NoMembers)), "{e:?}");
    assert_eq!(young.scanned.len(), 2, "the directories read are known even when none is found");
    let day = std::time::Duration::from_secs(86400);
    assert!(young.ripe_at.is_some_and(|t| t > std::time::SystemTime::now() + day / 2));
    let e = resolve(r#"<scan location="d" regExp="(unclosed"/>"#);
    assert!(matches!(e, Err(NcmlError::Pattern { .. })), "{e:?}");
    let e = resolve(r#"<scan location="missing"/>"#);
    assert!(matches!(e, Err(NcmlError::Scan { .. })), "{e:?}");
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[test]
fn the_readme_example_is_read() {
    let readme = include_str!("../../../README.md");
    let start = readme.find("```xml\n").expect("an NcML example in the README") + 7;
    let end = start + readme[start..].find("```").expect("its end");
    let n = parse(&readme[start..end]).expect("the README's example parses");
    let r = recipe(&n).expect("recipe");
    assert_eq!((r.how.union.is_some(), &*r.how.join, r.edits.len()), (true, "time", 2));
}

#[test]
fn schema_attributes_of_other_namespaces_are_not_ncml() {
    let text = r#"<?xml version="1.0" encoding="UTF-8"?>
      <netcdf xmlns="http://www.unidata.ucar.edu/namespaces/netcdf/ncml-2.2"
              xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
              xsi:schemaLocation="http://www.unidata.ucar.edu/schemas/netcdf/ncml-2.2.xsd"
              id="tas" title="daily tas">
        <readMetadata/>
        <aggregation type="joinExisting" dimName="time" recheckEvery="15 min">
          <scan location="." suffix=".nc"/>
        </aggregation>
      </netcdf>"#;
    let n = parse(text).expect("parsed");
    assert!(matches!(&n.aggregation.parts[0], Part::Scan(s) if s.location == "."));
    // an element of another namespace is not NcML's: refused, not skipped
    let other = doc(r#"<x:extra xmlns:x="urn:x"/><aggregation type="union"/>"#);
    assert!(parse(&other).is_err_and(|e| e.to_string().contains("namespace urn:x")));
}
