//! The STAC files of the virtual tree (by path), without a kernel: catalogs come from
//! listings alone, a bad dataset's item fails alone, and `--no-stac` shows none.

use cloudify_mount::stac::StacOptions;
use cloudify_mount::vfs::{DatasetError, Kind, NodeKey, Vfs, VfsOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn archive(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cloudify-stac-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    std::fs::copy(fixtures.join("tas_day.nc"), dir.join("tas_day.nc")).expect("copy");
    std::fs::copy(fixtures.join("stac/station.nc"), dir.join("sub/station.nc")).expect("copy");
    // HDF5 magic, then garbage: listed, fails when indexed
    let mut bad = b"\x89HDF\r\n\x1a\n".to_vec();
    bad.extend(std::iter::repeat_n(0xAB, 4000));
    std::fs::write(dir.join("broken.nc"), bad).expect("write");
    dir
}

fn read(vfs: &Vfs, path: &str) -> Result<Vec<u8>, String> {
    let key = vfs.resolve(Path::new(path)).map_err(|e| e.to_string())?;
    let attr = vfs.attr(&key).map_err(|e| e.to_string())?;
    assert_eq!(attr.kind, Kind::File);
    let bytes = vfs.read(&key, 0, u32::MAX).map_err(|e| e.to_string())?.into_vec();
    assert_eq!(bytes.len() as u64, attr.size, "{path}: size as announced");
    Ok(bytes)
}

fn root_names(vfs: &Vfs) -> Vec<String> {
    let entries = vfs.list(&NodeKey::root(), 0, usize::MAX).expect("list");
    entries.into_iter().map(|e| e.name.to_string_lossy().into_owned()).collect()
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("valid JSON")
}

#[test]
fn catalogs_items_and_a_broken_dataset() {
    let dir = archive("tree");
    let vfs = Vfs::new(&dir, VfsOptions::default()).expect("vfs");
    let names = root_names(&vfs);
    for n in ["catalog.json", "tas_day.zarr", "tas_day.stac.json", "broken.stac.json", "sub"] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    // the catalog lists the broken dataset's item: it never indexes anything
    let root = json(&read(&vfs, "catalog.json").expect("root catalog"));
    let hrefs: Vec<&str> = root["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| l["href"].as_str().expect("href"))
        .collect();
    assert_eq!(
        hrefs,
        ["./catalog.json", "./sub/catalog.json", "./broken.stac.json", "./tas_day.stac.json"]
    );
    // its item says why, valid STAC (a catalog walk goes on), without the archive's path
    let broken = json(&read(&vfs, "broken.stac.json").expect("broken item"));
    let why = broken["properties"]["cloudify:error"].as_str().expect("cloudify:error");
    assert!(why.starts_with("broken.nc: "), "{why}");
    assert!(!why.contains(&*dir.to_string_lossy()), "{why}");
    assert_eq!(broken["geometry"], Value::Null);
    assert_eq!(broken["assets"], serde_json::json!({}));
    assert_eq!(broken["links"][1]["href"], "./catalog.json");
    // the store itself fails, the error keeping its cause: the dataset's
    let key = vfs.resolve(Path::new("broken.zarr/.zmetadata")).expect("listed");
    let err = vfs.attr(&key).expect_err("broken store");
    let cause = std::error::Error::source(&err).expect("a cause");
    assert!(matches!(cause.downcast_ref(), Some(DatasetError::Index(_))), "{cause:?}");
    let item = json(&read(&vfs, "tas_day.stac.json").expect("item"));
    assert_eq!(item["id"], "tas_day");
    assert_eq!(item["assets"]["data"]["href"], "./tas_day.zarr");
    assert_eq!(item["properties"]["start_datetime"], "1850-01-01T12:00:00Z");
    // one level down: id with the path, links to the root
    let station = json(&read(&vfs, "sub/station.stac.json").expect("station item"));
    assert_eq!(station["id"], "sub/station");
    assert_eq!(station["geometry"]["type"], "Point");
    assert_eq!(station["links"][0]["href"], "../catalog.json");
    let sub_catalog = json(&read(&vfs, "/sub/catalog.json").expect("sub catalog"));
    assert_eq!(sub_catalog["id"], "sub");
    assert_eq!(sub_catalog["links"][1]["rel"], "parent");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_stac_shows_none() {
    let dir = archive("off");
    let options = VfsOptions { stac: StacOptions::default(), ..VfsOptions::default() };
    let vfs = Vfs::new(&dir, options).expect("vfs");
    let names = root_names(&vfs);
    assert!(!names.iter().any(|n| n.ends_with(".json")), "{names:?}");
    assert!(vfs.resolve(Path::new("catalog.json")).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
