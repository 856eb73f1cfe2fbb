"""STAC output (docs/STAC.md) through real mounts and the offline `cloudify stac`.

Every Item and Catalog of the mounted fixtures and corpus is validated against the vendored STAC
schemas (../shared/stac-schemas), walked with pystac (also after an rsync copy), and every
Item's bbox, datetimes and datacube are compared with what `stac_expect` computes from the source
file on its own (netCDF4 + cftime + numpy, following docs/STAC.md).
"""
import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pystac
import pytest
import stac_pydantic
import xarray as xr

import stac_expect as X
from conftest import BIN, CORPUS, FIXTURES, ROOT, mounted, unmount
from test_corpus import LEFT_OUT as CORPUS_LEFT_OUT
from test_fixtures import LEFT_OUT as FIXTURE_LEFT_OUT

CLOUDIFY = ROOT / "target" / "debug" / "cloudify"
SHIPPED_CONFIGS = ROOT / "docs" / "stac"


def source_files(root):
    """Relative paths of the data files of an archive (every file but README.md/SHA256SUMS)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and p.name not in ("README.md", "SHA256SUMS"))


FIXTURE_FILES = source_files(FIXTURES)
CORPUS_FILES = source_files(CORPUS) if CORPUS.is_dir() else []
# one file per CF calendar (and two for the units cftime accepts in one calendar only)
CALENDAR_FILES = ["standard", "gregorian", "proleptic_gregorian", "julian", "noleap", "365_day",
                  "all_leap", "366_day", "360_day", "none", "360_day_months", "noleap_common_years"]


def stem_of(rel):
    """"stac/cal_julian.nc" -> "stac/cal_julian" (the mount's short naming rule)."""
    d, _, name = rel.rpartition("/")
    return (d + "/" if d else "") + X.store_stem(name)


def read_json(p):
    return json.loads(Path(p).read_text())


def walk(root):
    """(stores, stac_files, dirs) of a mounted (or copied) tree, relative paths, sorted; a
    store (a directory with a .zgroup) is not entered."""
    stores, stac, dirs = [], [], [""]

    def rec(d, rel):
        for e in sorted(os.scandir(d), key=lambda e: e.name):
            r = rel + e.name
            if e.is_dir():
                if os.path.exists(os.path.join(e.path, ".zgroup")):
                    stores.append(r)
                else:
                    dirs.append(r)
                    rec(e.path, r + "/")
            elif e.name == "catalog.json" or e.name.endswith(".stac.json"):
                stac.append(r)
    rec(root, "")
    return stores, stac, dirs


def item_path(mnt, rel):
    return Path(mnt) / (stem_of(rel) + ".stac.json")


def check_item(mnt, archive, rel):
    """Everything of the item but the datacube fields (checked by `check_datacube`)."""
    item = read_json(item_path(mnt, rel))
    e = X.expected(archive / rel, cube=False)
    depth = rel.count("/")
    diffs = X.compare_item(item, e, stem_of(rel), Path(stem_of(rel)).name + ".zarr", depth,
                           check_cube=False)
    diffs += X.validate_item(item)
    assert not diffs, f"{rel}:\n  " + "\n  ".join(diffs)
    return item


def without_compounds(mnt, rel, props, e):
    """The datacube without compound variables: the store's arrays cut from them (`v.m`, `v`),
    their own dimensions, and the file's compound variables (netCDF4's view of a compound is
    no array of the store; test_compound.py checks the item's members)."""
    meta = read_json(Path(mnt) / (stem_of(rel) + ".zarr") / ".zmetadata")["metadata"]
    cut = set()
    for key, attrs in meta.items():
        if key.endswith("/.zattrs") and "cloudify_compound_of" in attrs:
            path = key[: -len("/.zattrs")]
            cut |= {path, f"{path.rpartition('/')[0]}/{attrs['cloudify_compound_of']}".lstrip("/")}
    variables = {k: v for k, v in props.get("cube:variables", {}).items() if k not in cut}
    # a vlen variable's ragged pair (`v` along `v.values`, `v.count`): netCDF4's `v` has the
    # count's dimensions
    for key, attrs in meta.items():
        if key.endswith("/.zattrs") and "_cloudify_vlen_count" in attrs:
            path = key[: -len("/.zattrs")]
            count = f"{path.rpartition('/')[0]}/{attrs['_cloudify_vlen_count']}".lstrip("/")
            if path in variables and count in variables:
                counted = variables.pop(count)
                variables[path] = {**variables[path], "dimensions": counted["dimensions"]}
    used = {d for v in variables.values() for d in v.get("dimensions", [])}
    dims = {k: v for k, v in props.get("cube:dimensions", {}).items()
            if k in e.dims or k.rpartition("/")[2] in used or k in used}
    e.variables = {k: v for k, v in e.variables.items() if k not in cut}
    return {**props, "cube:variables": variables, "cube:dimensions": dims}, e


def check_datacube(mnt, archive, rel, left_out):
    item = read_json(item_path(mnt, rel))
    props, e = without_compounds(mnt, rel, item["properties"], X.expected(archive / rel, left_out))
    diffs = X.compare_cube(props, e)
    assert not diffs, f"{rel}:\n  " + "\n  ".join(diffs)


# ---------------------------------------------------------------- the expectation code itself

# Hand-computed values (not through stac_expect's code path): a check of the checker.
HAND = {
    # the Julian part, bounds (day 20.5 after 1582-10-01, 10 days skipped); `obs_time`, a
    # time by its units alone ending on 1582-11-05, is no part of it
    "stac/cal_standard.nc": ("1582-09-30T12:00:00", "1582-10-31T12:00:00"),
    "stac/cal_gregorian.nc": ("1850-01-01T06:30:00", "1850-01-02T12:45:00"),  # +05:30, fill skipped
    "stac/cal_proleptic_gregorian.nc": ("1500-02-26T12:00:00", "1500-03-01T12:00:00"),
    "stac/cal_julian.nc": ("1900-02-27T06:00:00", "1900-02-28T18:00:00"),  # 1900-02-29 clamped
    "stac/cal_noleap.nc": ("2000-02-27T00:00:00", "2000-03-01T00:00:00.001000"),
    "stac/cal_365_day.nc": ("2004-02-28T11:00:00", "2004-03-01T19:00:00"),
    "stac/cal_all_leap.nc": ("2001-02-27T00:00:00", "2001-02-28T12:00:00"),  # 2001-02-29T12 clamped
    "stac/cal_366_day.nc": ("2003-02-28T01:30:00", None),  # one instant, 2003-02-29 clamped
    "stac/cal_360_day.nc": ("2000-02-27T12:00:00", "2000-02-29T12:00:00"),  # 02-30T12 clamped
    "stac/cal_360_day_months.nc": ("1999-12-30T22:30:00", "2000-02-15T22:30:00"),  # +0130
    "stac/cal_noleap_common_years.nc": ("2000-01-01T03:00:00", "2001-07-02T15:00:00"),  # -03
    "stac/station.nc": ("2024-06-01T12:15:00", None),
    "tas_day.nc": ("1850-01-01T12:00:00", "1850-01-10T12:00:00"),
    # the time axis (noleap, days 0..4 since 2000-02-27); `time_360` (360_day, named by a
    # `coordinates` attribute, from 1999-12-30) is an auxiliary time, no part of it
    "calendar_noleap.nc": ("2000-02-27T00:00:00", "2000-03-03T00:00:00"),
    # the period of the climatology bounds (CF 7.4), not the times in 1991
    "stac/climatology_1991_2020.nc": ("1991-01-01T00:00:00", "2021-01-01T00:00:00"),
    # year 0 clamped to year 1: 0000-01-01 .. 0001-01-01 (a range, datetime null)
    "stac/climatology_year0.nc": ("0001-01-01T00:00:00", "0001-01-01T00:00:00"),
    # the valid times; forecast_reference_time is 2023-12-02
    "stac/forecast_reference_time.nc": ("2024-03-01T00:00:00", "2024-03-01T18:00:00"),
}
HAND_BBOX = {
    "stac/antimeridian.nc": ([145, -12.5, -145, 12.5], "MultiPolygon"),
    "stac/global_0_359.nc": ([-180, -90, 179, 90], "Polygon"),
    "stac/station.nc": ([13.405, 52.52, 13.405, 52.52], "Point"),
    "stac/curvilinear.nc": ([-20, 40.3, -8.4, 47.2], "Polygon"),  # fill, NaN, lat 91 skipped
    "stac/no_coords.nc": ([-180, -90, 180, 90], "Polygon"),
    "stac/named_latlon.nc": ([170, -30, -179, -23.5], "MultiPolygon"),  # by name, fill skipped
    "tas_day.nc": ([-180, -89.5, 176, 89.5], "Polygon"),
    # EURO-CORDEX pole: rotated (0, 0) is (18 E, 50.75 N), the grid's top centre 55.75 N
    "stac/rotated_pole.nc": ([4.01455, 45.13690, 31.98545, 55.75], "Polygon"),
}


def test_expectation_code_matches_hand_values():
    for rel, (start, end) in HAND.items():
        e = X.expected(FIXTURES / rel, cube=False)
        utc = dt.timezone.utc
        if end is None:
            assert e.datetime == dt.datetime.fromisoformat(start).replace(tzinfo=utc), rel
        else:
            assert (e.start, e.end) == (dt.datetime.fromisoformat(start).replace(tzinfo=utc),
                                        dt.datetime.fromisoformat(end).replace(tzinfo=utc)), rel
    for rel, (bbox, kind) in HAND_BBOX.items():
        e = X.expected(FIXTURES / rel, cube=False)
        assert all(abs(a - b) < 1e-4 for a, b in zip(e.bbox, bbox)) and e.geometry_type == kind, (rel, e.bbox)
    assert X.expected(FIXTURES / "stac/cal_none.nc", cube=False).datetime_source == "file-mtime"
    # the rotation: the rotated pole lands on (pole_lon, pole_lat), the true pole on rotated
    # (north_pole_grid_longitude, pole_lat) (CF appendix F's definitions)
    lon, lat = X.rotate_to_geographic([0.0, 20.0], [90.0, 55.0], 55.0, -120.0, 20.0)
    assert abs(lon[0] + 120) < 1e-9 and abs(lat[0] - 55) < 1e-9 and abs(lat[1] - 90) < 1e-9
    # EUR-11's south-west corner
    lon, lat = X.rotate_to_geographic([-28.375], [-23.375], 39.25, -162.0)
    assert abs(lon[0] + 10.0639) < 1e-3 and abs(lat[0] - 21.9878) < 1e-3
    # the largest-gap rule
    assert X.lon_arc([170, -170]) == (170, -170)
    assert X.lon_arc([0, 90, 180, 270]) == (-180, 90)  # all gaps tie: no crossing
    assert X.lon_arc([359.5, 0.5]) == (-0.5, 0.5)


def test_schemas_load_and_a_hand_written_item_validates():
    item = {
        "type": "Feature", "stac_version": "1.1.0", "id": "stac/x",
        "stac_extensions": [X.DATACUBE, X.XARRAY_ASSETS],
        "bbox": [170.0, -10.0, -170.0, 10.0],
        "geometry": {"type": "MultiPolygon", "coordinates": [
            [[[170, -10], [180, -10], [180, 10], [170, 10], [170, -10]]],
            [[[-180, -10], [-170, -10], [-170, 10], [-180, 10], [-180, -10]]]]},
        "properties": {
            "datetime": None, "start_datetime": "2000-02-29T12:00:00Z",
            "end_datetime": "2000-03-01T00:00:00Z", "title": "x",
            "cube:dimensions": {
                "time": {"type": "temporal", "extent": ["2000-02-29T12:00:00Z", "2000-03-01T00:00:00Z"]},
                "lon": {"type": "spatial", "axis": "x", "extent": [170, 190], "unit": "degrees_east"},
                "rlat": {"type": "spatial", "axis": "y", "extent": [-5, 5], "reference_system": "WKT"},
                "n": {"type": "index", "extent": [0, 3]},
                "member": {"type": "realization", "values": [1, 2, 3]},
            },
            "cube:variables": {"v": {"dimensions": ["time", "lon"], "type": "data", "unit": "K"}},
        },
        "links": [{"rel": "root", "href": "../catalog.json"}, {"rel": "parent", "href": "./catalog.json"}],
        "assets": {"data": {"href": "./x.zarr", "type": "application/vnd+zarr", "roles": ["data"],
                            "xarray:open_kwargs": {"engine": "zarr", "consolidated": True}}},
    }
    assert X.validate_item(item) == []
    for path, value, word in [(("start_datetime",), "2000-02-29T12:00:00+01:00", "does not match"),
                              (("cube:dimensions", "lon", "extent"), [170], "extent"),
                              (("cube:variables", "v", "dimensions"), "time", "dimensions"),
                              (("cube:oops",), 1, ""),  # anyOf: the best match may be elsewhere
                              (("datetime",), "2000-02-29 12:00:00Z", "RFC 3339"),
                              (("datetime",), "2001-02-29T12:00:00Z", "RFC 3339")]:
        bad = json.loads(json.dumps(item))
        target = bad["properties"]
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = value
        errors = X.validate_item(bad)
        assert errors and any(word in e for e in errors), (path, errors)
    catalog = {"type": "Catalog", "stac_version": "1.1.0", "id": "cloudify", "description": "d",
               "links": [{"rel": "root", "href": "./catalog.json"}]}
    assert X.validate_catalog(catalog) == []
    assert X.validate_catalog({**catalog, "links": "no"})


# ---------------------------------------------------------------- validity of the mounted tree

def pydantic_errors(item):
    """stac-pydantic's model of an item (datetimes parsed, start <= end), as readable errors."""
    try:
        stac_pydantic.Item.model_validate(item)
    except Exception as e:  # pydantic.ValidationError, or a parser's ValueError
        return [f"stac-pydantic: {e}"[:400]]
    return []


def check_tree(mnt, archive):
    """Every store has its item beside it, every directory its catalog, sizes are exact, and
    every STAC document is schema-valid; catalog links follow the tree."""
    stores, stac, dirs = walk(mnt)
    expected_stac = sorted([(d + "/" if d else "") + "catalog.json" for d in dirs]
                           + [s[: -len(".zarr")] + ".stac.json" for s in stores])
    assert stac == expected_stac
    errors = []
    for rel in stac:
        p = Path(mnt) / rel
        raw = p.read_bytes()
        assert os.stat(p).st_size == len(raw), rel
        doc = json.loads(raw)
        if rel.endswith("catalog.json"):
            errs = X.validate_catalog(doc)
        else:
            errs = X.validate_item(doc) + pydantic_errors(doc)
        errors += [f"{rel}: {e}" for e in errs]
    assert not errors, "\n".join(errors[:40])
    for d in dirs:
        prefix = d + "/" if d else ""
        cat = read_json(Path(mnt) / prefix / "catalog.json")
        depth = d.count("/") + 1 if d else 0
        assert cat["type"] == "Catalog" and cat["stac_version"] == "1.1.0"
        if d:
            assert cat["id"] == d
            assert cat["title"] == d.rsplit("/", 1)[-1]
            assert cat["description"] == f"Datasets in {d}"
        links = sorted((l["rel"], l["href"]) for l in cat["links"])
        want = [("root", "../" * depth + "catalog.json" if depth else "./catalog.json")]
        if d:
            want.append(("parent", "../catalog.json"))
        want += [("child", f"./{c[len(prefix):]}/catalog.json") for c in dirs
                 if c.startswith(prefix) and c != d and "/" not in c[len(prefix):]]
        want += [("item", f"./{s[len(prefix):-len('.zarr')]}.stac.json") for s in stores
                 if s.startswith(prefix) and "/" not in s[len(prefix):]]
        assert links == sorted(want), d
    return stores


def test_fixture_tree_is_valid_stac(fixtures_mount):
    stores = check_tree(fixtures_mount, FIXTURES)
    assert sorted(stores) == sorted(stem_of(r) + ".zarr" for r in FIXTURE_FILES)
    root = read_json(fixtures_mount / "catalog.json")
    # docs/stac/default.json applies: id "cloudify", no title (-> the directory's name)
    assert root["id"] == "cloudify" and root["title"] == FIXTURES.name


def test_corpus_tree_is_valid_stac(corpus_mount):
    stores = check_tree(corpus_mount, CORPUS)
    assert sorted(stores) == sorted(stem_of(r) + ".zarr" for r in CORPUS_FILES)
    assert read_json(corpus_mount / "catalog.json")["title"] == CORPUS.name


def pystac_items(root_catalog):
    """Every item of the catalog tree, as `catalog.get_all_items()` walks it (pystac 1.15
    spells it `get_items(recursive=True)`); one item that fails to load stops the walk."""
    cat = pystac.Catalog.from_file(str(root_catalog))
    return cat, list(cat.get_items(recursive=True))


@pytest.mark.parametrize("which", ["fixtures", "corpus"])
def test_pystac_finds_one_item_per_store(request, which):
    mnt = request.getfixturevalue(f"{which}_mount")
    stores, _stac, _dirs = walk(mnt)
    _cat, items = pystac_items(mnt / "catalog.json")
    assert sorted(i.id for i in items) == sorted(s[: -len(".zarr")] for s in stores)
    for item in items:
        cm = item.common_metadata  # parsed on access: what a client filtering by time does
        assert item.datetime is not None or cm.start_datetime <= cm.end_datetime, item.id
        href = item.assets["data"].get_absolute_href()
        assert Path(href).is_dir(), href
        assert Path(href) == (mnt / (item.id + ".zarr")), href
        xr.open_zarr(href, decode_times=False)  # root group metadata only (calendar "none" too)


def test_rsync_copy_is_a_complete_static_catalog(fixtures_mount, tmp_path):
    dest = tmp_path / "copy"
    subprocess.run(["rsync", "-a", f"{fixtures_mount}/", f"{dest}/"], check=True)
    stores, _stac, _dirs = walk(dest)
    cat, items = pystac_items(dest / "catalog.json")
    assert sorted(i.id for i in items) == sorted(s[: -len(".zarr")] for s in stores)
    assert len(items) == len(FIXTURE_FILES)
    for item in items:
        root = item.get_root()
        parent = item.get_parent()
        assert root is not None and Path(root.get_self_href()) == dest / "catalog.json"
        assert parent is not None
        assert Path(parent.get_self_href()) == dest / Path(item.id).parent / "catalog.json"
        data = Path(item.assets["data"].get_absolute_href())
        assert data.is_dir() and (data / ".zmetadata").is_file(), data
    for child in cat.get_children():
        assert child.get_parent() is not None and Path(child.get_root().get_self_href()) == dest / "catalog.json"
    xr.open_zarr(dest / "stac" / "cal_360_day.zarr", use_cftime=True).load()


# ---------------------------------------------------------------- item contents

# netCDF4 (the expectation's reader) cannot open these: their items are checked in
# test_hdf5_fallback.py (hdf5_null_vlen.h5: in test_plain_types.py); compound_string_pads.h5:
# netCDF4-python misreads its string members, corrupting its memory (test_compound.py: h5py)
NETCDF_C_CANNOT_OPEN = {"hdf5_dangling_links.h5", "hdf5_dangling_strings.h5", "hdf5_null_vlen.h5",
                        "compound_string_pads.h5"}
# netCDF-C lists only part of it (no bitfield, opaque or reference datasets): no datacube
# reference; test_plain_types.py checks that its item names every array
NETCDF_C_LISTS_PART = {"hdf5_plain_types.h5"}


@pytest.mark.parametrize("rel", [r for r in FIXTURE_FILES if not r.startswith("stac/cal_")
                                 and r not in NETCDF_C_CANNOT_OPEN])
def test_fixture_item(fixtures_mount, rel):
    check_item(fixtures_mount, FIXTURES, rel)


@pytest.mark.parametrize("rel", [r for r in FIXTURE_FILES
                                 if r not in NETCDF_C_CANNOT_OPEN | NETCDF_C_LISTS_PART])
def test_fixture_datacube(fixtures_mount, rel):
    check_datacube(fixtures_mount, FIXTURES, rel, FIXTURE_LEFT_OUT.get(rel, {}))


@pytest.mark.parametrize("name", CALENDAR_FILES)
def test_calendar_item(fixtures_mount, name):
    rel = f"stac/cal_{name}.nc"
    item = check_item(fixtures_mount, FIXTURES, rel)
    props = item["properties"]
    calendar = name.split("_months")[0].split("_common")[0]
    if calendar == "none":
        assert props["cloudify:datetime_source"] == "file-mtime"
        assert props["datetime"].endswith("Z") and "." not in props["datetime"]  # whole seconds
    else:
        assert props["cf:calendar"] == calendar


@pytest.mark.parametrize("rel", CORPUS_FILES)
def test_corpus_item(corpus_mount, rel):
    check_item(corpus_mount, CORPUS, rel)


@pytest.mark.parametrize("rel", CORPUS_FILES)
def test_corpus_datacube(corpus_mount, rel):
    check_datacube(corpus_mount, CORPUS, rel, CORPUS_LEFT_OUT.get(rel, {}))


def test_year_zero_climatology(fixtures_mount):
    """Year 0 cannot be a STAC datetime: clamped to 0001-01-01, a range (datetime null), the
    exact labels (the climatology bounds included) in cloudify:cf_time_extent and in
    cube:dimensions; pystac and stac-pydantic load it."""
    path = fixtures_mount / "stac" / "climatology_year0.stac.json"
    item = read_json(path)
    props = item["properties"]
    assert props["datetime"] is None
    assert props["start_datetime"] == props["end_datetime"] == "0001-01-01T00:00:00Z"
    assert props["cloudify:cf_time_extent"] == ["0000-01-01T00:00:00", "0001-01-01T00:00:00"]
    assert props["cf:calendar"] == "noleap"
    assert props["cube:dimensions"]["time"]["extent"] == ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z"]
    assert props["cube:variables"]["climatology_bnds"]["type"] == "auxiliary"
    loaded = pystac.Item.from_file(str(path))
    assert loaded.common_metadata.start_datetime.year == 1
    assert pydantic_errors(item) == []
    # a period in real years: the climatology bounds, not the times (all in 1991)
    props = read_json(fixtures_mount / "stac" / "climatology_1991_2020.stac.json")["properties"]
    assert (props["start_datetime"], props["end_datetime"]) == ("1991-01-01T00:00:00Z", "2021-01-01T00:00:00Z")
    assert "cloudify:cf_time_extent" not in props


def test_forecast_reference_time_is_not_the_start(fixtures_mount):
    props = read_json(fixtures_mount / "stac" / "forecast_reference_time.stac.json")["properties"]
    assert (props["start_datetime"], props["end_datetime"]) == ("2024-03-01T00:00:00Z", "2024-03-01T18:00:00Z")
    assert props["cube:dimensions"]["time"]["extent"] == [props["start_datetime"], props["end_datetime"]]
    assert props["cube:variables"]["forecast_reference_time"]["type"] == "auxiliary"


def test_a_dataset_that_cannot_be_indexed_costs_one_item(tmp_path):
    """A file that cannot be indexed keeps its place in the catalog (listings never index)
    with a valid item saying why and no data asset; the walk of the whole tree goes on."""
    archive = tmp_path / "archive"
    (archive / "sub").mkdir(parents=True)
    shutil.copy2(FIXTURES / "stac" / "station.nc", archive / "a_station.nc")
    shutil.copy2(FIXTURES / "tas_day.nc", archive / "sub" / "tas_day.nc")
    # a NetCDF-3 magic and then nothing that parses; an HDF5 superblock cut short
    (archive / "broken.nc").write_bytes(b"CDF\x01" + b"\xff" * 60)
    (archive / "sub" / "truncated.nc").write_bytes((FIXTURES / "packed.nc").read_bytes()[:700])
    with mounted(archive) as mnt:
        cat, items = pystac_items(mnt / "catalog.json")
        assert sorted(i.id for i in items) == ["a_station", "broken", "sub/tas_day", "sub/truncated"]
        for bad in ("broken", "sub/truncated"):
            doc = read_json(mnt / f"{bad}.stac.json")
            props = doc["properties"]
            assert props["cloudify:error"] and str(archive) not in props["cloudify:error"], props
            assert props["cloudify:datetime_source"] == "file-mtime" and doc["assets"] == {}
            assert doc["geometry"] is None and "bbox" not in doc
            assert X.schema_errors(doc, X.ITEM_SCHEMA) == [] and pydantic_errors(doc) == []
            # the store itself still says it cannot be read
            with pytest.raises(OSError):
                (mnt / f"{bad}.zarr" / ".zmetadata").read_bytes()
        good = read_json(mnt / "sub" / "tas_day.stac.json")
        assert "cloudify:error" not in good["properties"] and X.validate_item(good) == []
        assert os.stat(mnt / "broken.stac.json").st_size == len((mnt / "broken.stac.json").read_bytes())


def test_rotated_pole_dimensions_carry_the_crs_wkt(fixtures_mount):
    item = read_json(fixtures_mount / "stac" / "rotated_pole.stac.json")
    dims = item["properties"]["cube:dimensions"]
    import netCDF4
    with netCDF4.Dataset(FIXTURES / "stac" / "rotated_pole.nc") as ds:
        wkt = ds["rotated_pole"].crs_wkt
    assert dims["rlat"]["reference_system"] == wkt and dims["rlon"]["reference_system"] == wkt
    assert item["properties"]["cloudify:bbox_source"] == "coordinates"


# ---------------------------------------------------------------- --stac-config, --public-url

@pytest.fixture
def small_archive(tmp_path):
    """Two datasets, one in a sub-directory."""
    archive = tmp_path / "archive"
    (archive / "sub").mkdir(parents=True)
    shutil.copy2(FIXTURES / "stac" / "curvilinear.nc", archive / "sub" / "curvilinear.nc")
    shutil.copy2(FIXTURES / "stac" / "station.nc", archive / "station.nc")
    return archive


CONFIG = {
    "id": "test-archive",
    "title": "Test archive",
    "description": "A test of --stac-config",
    "keywords": ["test", "cloudify"],
    "license": "CC-BY-4.0",
    "providers": [{"name": "Test Centre", "roles": ["host", "processor"], "url": "https://example.org"}],
    "item_properties": {"project": "TESTPROJ", "cloudify:test": 7},
    "assets": {
        "public-zarr": {"href": "{public_url}/{store}", "type": "application/vnd+zarr",
                        "roles": ["data"], "title": "Zarr store of {id} over HTTPS"},
        "source-file": {"href": "file://{source}", "type": "application/x-netcdf",
                        "roles": ["source"], "title": "{id}"},
    },
}


def write_config(tmp_path, cfg, name="stac.json"):
    p = tmp_path / name
    p.write_text(json.dumps(cfg) if not isinstance(cfg, str) else cfg)
    return p


def test_stac_config_and_public_url(small_archive, tmp_path):
    cfg = write_config(tmp_path, CONFIG)
    with mounted(small_archive, "--stac-config", str(cfg), "--public-url", "https://example.org/zarr") as mnt:
        root = read_json(mnt / "catalog.json")
        assert (root["id"], root["title"], root["description"]) == (
            "test-archive", "Test archive", "A test of --stac-config")
        assert X.validate_catalog(root) == []
        sub = read_json(mnt / "sub" / "catalog.json")
        assert sub["id"] == "sub" and sub["description"] == "Datasets in sub"
        for rel in ("sub/curvilinear.nc", "station.nc"):
            item = read_json(item_path(mnt, rel))
            assert X.validate_item(item) == []
            props = item["properties"]
            assert props["license"] == "CC-BY-4.0"
            assert props["providers"] == CONFIG["providers"]
            assert props["keywords"] == ["test", "cloudify"]
            assert props["project"] == "TESTPROJ" and props["cloudify:test"] == 7
            store = stem_of(rel) + ".zarr"
            pub = item["assets"]["public-zarr"]
            assert pub == {"href": f"https://example.org/zarr/{store}", "type": "application/vnd+zarr",
                           "roles": ["data"], "title": f"Zarr store of {stem_of(rel)} over HTTPS"}
            src = item["assets"]["source-file"]
            assert src["href"] == "file://" + os.path.realpath(small_archive / rel)
            assert src["title"] == stem_of(rel)
            assert "zarr-public" not in item["assets"]
            assert item["assets"]["data"]["href"] == f"https://example.org/zarr/{store}"
    # without --public-url an asset using {public_url} is left out, the others stay
    with mounted(small_archive, "--stac-config", str(cfg)) as mnt:
        assets = read_json(mnt / "station.stac.json")["assets"]
        assert sorted(assets) == ["data", "source-file"]


def test_offline_item_with_config_equals_the_mounted_one(small_archive, tmp_path):
    cfg = write_config(tmp_path, CONFIG)
    url = ("--public-url", "https://example.org/zarr")
    offline = json.loads(cloudify_stac("--stac-config", cfg, *url, small_archive / "station.nc"))
    with mounted(small_archive, "--stac-config", str(cfg), *url) as mnt:
        # a top-level file: id, {id} and {store} are the same offline and mounted
        assert {k: v for k, v in offline.items() if k != "links"} == \
            {k: v for k, v in read_json(mnt / "station.stac.json").items() if k != "links"}


def test_file_mtime_datetime_is_whole_seconds_utc(tmp_path):
    """No time coordinate: `datetime` is the file's mtime, truncated to whole seconds."""
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy2(FIXTURES / "stac" / "no_coords.nc", archive / "a.nc")
    os.utime(archive / "a.nc", (1_700_000_000.9, 1_700_000_000.9))
    with mounted(archive) as mnt:
        props = read_json(mnt / "a.stac.json")["properties"]
    assert props["cloudify:datetime_source"] == "file-mtime"
    assert X.parse_time(props["datetime"]) == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)


def test_public_url_makes_the_data_asset_absolute(small_archive):
    with mounted(small_archive) as mnt:
        item = read_json(mnt / "sub" / "curvilinear.stac.json")
        assert item["assets"]["data"]["href"] == "./curvilinear.zarr"
    with mounted(small_archive, "--public-url", "https://example.org/zarr/") as mnt:
        item = read_json(mnt / "sub" / "curvilinear.stac.json")
        assert item["assets"]["data"]["href"] == "https://example.org/zarr/sub/curvilinear.zarr"
        assert "zarr-public" not in item["assets"]
        assert X.validate_item(item) == []
        assert "license" not in item["properties"] or item["properties"]["license"]


BAD_CONFIGS = [
    ({"id": "x", "colour": "red"}, ["colour"]),
    ({"keywords": "not a list"}, ["keywords"]),
    ({"license": 42}, ["license"]),
    ({"providers": [{"name": "X", "roles": ["owner"]}]}, ["roles", "owner"]),
    ({"providers": [{"name": "X", "rolez": ["host"]}]}, ["rolez"]),
    ({"assets": {"a": {"hreff": "{store}"}}}, ["hreff"]),
    ({"item_properties": ["not", "an", "object"]}, ["item_properties"]),
    ("{not json", ["json", "JSON", "line 1", "expected", "key"]),
]


@pytest.mark.parametrize("cfg,words", BAD_CONFIGS, ids=[str(i) for i in range(len(BAD_CONFIGS))])
def test_invalid_stac_config_is_refused_at_start(small_archive, tmp_path, cfg, words):
    p = write_config(tmp_path, cfg)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run([str(BIN), str(small_archive), str(mnt), "--index-dir", "none",
                        "--stac-config", str(p)], capture_output=True, text=True, timeout=60)
    if r.returncode == 0:
        unmount(mnt)
    said = r.stderr + r.stdout
    assert r.returncode != 0, f"accepted {cfg!r}"
    assert any(w in said for w in words), f"{cfg!r}: the message names none of {words}: {said!r}"


@pytest.mark.parametrize("name", ["default.json", "eerie-dkrz.json"])
def test_shipped_configs_are_accepted(small_archive, name):
    cfg = SHIPPED_CONFIGS / name
    with mounted(small_archive, "--stac-config", str(cfg)) as mnt:
        root = read_json(mnt / "catalog.json")
        assert root["id"] == read_json(cfg).get("id", "cloudify")
        assert X.validate_catalog(root) == []
        assert X.validate_item(read_json(mnt / "sub" / "curvilinear.stac.json")) == []


def stac_bytes(root):
    _stores, stac, _dirs = walk(root)
    return {rel: (Path(root) / rel).read_bytes() for rel in stac}


def test_default_config_is_what_applies_without_one(small_archive):
    with mounted(small_archive) as mnt:
        plain = stac_bytes(mnt)
    with mounted(small_archive, "--stac-config", str(SHIPPED_CONFIGS / "default.json")) as mnt:
        assert stac_bytes(mnt) == plain


def test_no_stac_hides_every_stac_file(small_archive):
    with mounted(small_archive, "--no-stac") as mnt:
        stores, stac, _dirs = walk(mnt)
        assert stac == [] and sorted(stores) == ["station.zarr", "sub/curvilinear.zarr"]
        assert sorted(os.listdir(mnt)) == ["station.zarr", "sub"]
        assert not (mnt / "catalog.json").exists() and not (mnt / "station.stac.json").exists()


def test_archive_directories_named_like_stac_files_win(tmp_path):
    archive = tmp_path / "archive"
    (archive / "station.stac.json").mkdir(parents=True)
    (archive / "sub" / "catalog.json").mkdir(parents=True)
    shutil.copy2(FIXTURES / "stac" / "station.nc", archive / "station.nc")
    shutil.copy2(FIXTURES / "stac" / "no_coords.nc", archive / "station.stac.json" / "a.nc")
    shutil.copy2(FIXTURES / "stac" / "no_coords.nc", archive / "sub" / "catalog.json" / "b.nc")
    with mounted(archive) as mnt:
        assert (mnt / "station.stac.json").is_dir()
        assert (mnt / "station.stac.json" / "a.zarr").is_dir()
        assert (mnt / "sub" / "catalog.json").is_dir()
        assert (mnt / "sub" / "catalog.json" / "b.zarr").is_dir()
        assert (mnt / "catalog.json").is_file()


# ---------------------------------------------------------------- offline: cloudify stac

def cloudify_stac(*args):
    r = subprocess.run([str(CLOUDIFY), "stac", *map(str, args)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


OFFLINE = ["tas_day.nc", "groups.nc", "stac/curvilinear.nc", "stac/cal_360_day.nc", "stac/station.nc",
           "stac/antimeridian.nc", "stac/rotated_pole.nc", "stac/no_coords.nc", "stac/cal_none.nc"]


def without_id_links(item):
    return {k: v for k, v in item.items() if k not in ("id", "links")}


def test_offline_item_equals_the_mounted_one(fixtures_mount):
    one = json.loads(cloudify_stac(FIXTURES / "stac" / "cal_julian.nc"))
    assert one["type"] == "Feature" and one["id"] == "cal_julian"
    mounted_item = read_json(fixtures_mount / "stac" / "cal_julian.stac.json")
    assert without_id_links(one) == without_id_links(mounted_item)
    many = json.loads(cloudify_stac(*[FIXTURES / r for r in OFFLINE]))
    assert many["type"] == "FeatureCollection" and len(many["features"]) == len(OFFLINE)
    for rel, item in zip(OFFLINE, many["features"]):
        assert item["id"] == Path(stem_of(rel)).name
        assert without_id_links(item) == without_id_links(read_json(item_path(fixtures_mount, rel))), rel
        assert X.validate_item({**item, "links": []}) == []


@pytest.mark.parametrize("which", ["fixtures", "corpus"])
def test_offline_catalog_is_byte_identical_to_the_mount(request, which, tmp_path):
    mnt = request.getfixturevalue(f"{which}_mount")
    archive = FIXTURES if which == "fixtures" else CORPUS
    out = tmp_path / "stac"
    cloudify_stac("--catalog", archive, out)
    written = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert sorted(written) == sorted(stac_bytes(mnt))
    for rel, data in stac_bytes(mnt).items():
        assert written[rel] == data, rel
