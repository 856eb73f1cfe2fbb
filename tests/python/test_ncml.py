"""Issue 17: THREDDS NcML aggregation files. A file `X.ncml` in an archive directory shows the
store `X.zarr` (and the item `X.stac.json`) beside it; the NcML file itself is not shown. The
store must read as THREDDS users expect and as xarray says: a joinExisting as its members'
open_mfdataset(combine="nested", concat_dim="time", data_vars="minimal", coords="minimal",
compat="override", join="exact"), a union as the merge of its nested aggregations', with the
NcML's <attribute>/<remove> edits applied - raw and decoded chunk modes, zarr 3 and zarr 2.18.
What is not supported (joinNew, remote or outside locations, a join along another dimension)
is refused: EIO on the store, the reason in the log and from `cloudify inspect X.ncml`. The
NcML file is read when its store is first used (never by a listing), and editing it or adding
a file a scan matches changes the store while mounted. The files come from
scripts/make_collections.py (NCML_CASES); ncml_expect.py says what "the same" means."""
import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr

from conftest import CLOUDIFY, MODES, PY2, ROOT, WATCH, mounted, poll
from ncml_expect import check, expectation

sys.path.insert(0, str(ROOT / "scripts"))
import make_collections as mc  # noqa: E402


def edits_of(kind):
    return mc.NCML_EDITS if kind == "edits" else None


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Every NcML case in its own directory of one archive."""
    root = tmp_path_factory.mktemp("ncml")
    return root, {kind: make(root / kind) for kind, make in mc.NCML_CASES.items()}


_expected = {}


def expected_of(kind, spec):
    if kind not in _expected:
        _expected[kind] = expectation(spec)
    return _expected[kind]


def test_generator_is_seeded(tmp_path):
    for run in ("a", "b"):
        for kind, make in mc.NCML_CASES.items():
            spec = make(tmp_path / run / kind)
            assert spec["ncml"].is_file() and spec["members"], kind
    for f in sorted((tmp_path / "a").rglob("*")):
        if f.is_file():
            assert f.read_bytes() == (tmp_path / "b" / f.relative_to(tmp_path / "a")).read_bytes(), f


def test_listing_shows_the_store_not_the_ncml_file_and_reads_nothing(archive):
    """X.ncml is shown as X.zarr and X.stac.json (every kind, the refused ones too: a listing
    does not read the NcML file); its attributes are the NcML file's; nothing is read until
    the store is used."""
    root, specs = archive
    with mounted(root) as mnt:
        log = Path(str(mnt) + ".log")
        for kind, spec in specs.items():
            names = os.listdir(mnt / kind)
            assert spec["store"] in names and f"{kind}.stac.json" in names, names
            assert not any(n.endswith(".ncml") for n in names), names
            st = os.stat(mnt / kind / spec["store"])
            assert st.st_mtime == spec["ncml"].stat().st_mtime
        time.sleep(0.2)
        assert "NcML" not in log.read_text(), log.read_text()[-2000:]
        (mnt / "explicit" / "explicit.zarr" / ".zmetadata").read_bytes()
        assert poll(lambda: "NcML joinExisting along time" in log.read_text(), WATCH)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", mc.NCML_SERVED)
def test_store_is_open_mfdataset(archive, kind, mode):
    """explicit (listed out of time order), scan_suffix (a .nc4 copy and a sub-directory's
    file would overlap: not members), scan_regexp (the whole name, into sub-directories; pr
    beside tas is not a member), union (of two joinExisting), units_change (per-file units,
    re-expressed), edits (attributes set and removed, a variable removed)."""
    root, specs = archive
    spec = specs[kind]
    with mounted(root, *MODES[mode]) as mnt:
        check(mnt / kind / spec["store"], spec, exp=expected_of(kind, spec), edits=edits_of(kind))


@pytest.mark.parametrize("mode", MODES)
def test_zarr2_reads_the_stores(archive, mode, tmp_path):
    """The same identity with zarr-python 2.18 (and its xarray), one run over every kind."""
    root, specs = archive
    served = {k: {"dir": k, "store": specs[k]["store"], "edits": edits_of(k),
                  "members": [str(f) for f in specs[k]["members"]],
                  "groups": [[str(f) for f in g] for g in specs[k]["groups"]]}
              for k in mc.NCML_SERVED}
    spec_file = tmp_path / "specs.json"
    spec_file.write_text(json.dumps(served))
    with mounted(root, *MODES[mode]) as mnt:
        r = subprocess.run([str(PY2), str(ROOT / "tests/python/zarr2_ncml.py"), str(mnt),
                            str(spec_file)], capture_output=True, text=True, timeout=300,
                           env={**os.environ, "PYTHONPATH": str(ROOT / "tests/python")})
    sys.stdout.write(r.stdout)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert r.stdout.count("identical with zarr 2.") == len(served)


def test_stac_item_of_a_union(archive):
    root, specs = archive
    with mounted(root) as mnt:
        catalog = json.loads((mnt / "union" / "catalog.json").read_bytes())
        assert "./union.stac.json" in {link["href"] for link in catalog["links"]}
        item = json.loads((mnt / "union" / "union.stac.json").read_bytes())
        assert {"tas", "pr"} <= set(item["properties"]["cube:variables"])
        assert item["properties"]["start_datetime"].startswith("1850-01-01")
        assert item["properties"]["end_datetime"].startswith("1852-12-31")
        assert item["assets"]["data"]["href"] == "./union.zarr"


def inspect(path):
    r = subprocess.run([str(CLOUDIFY), "inspect", str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("kind", mc.NCML_REFUSED)
def test_refused_ncml_fails_with_eio_and_says_why(archive, kind):
    """remote (an https location), outside (a location climbing out of the archive),
    join_new (type joinNew), other_dim (joinExisting along lat, members with the same lat
    values): EIO on the store every time, the reason in the log; the members' own stores are
    not affected."""
    root, specs = archive
    spec = specs[kind]
    with mounted(root) as mnt:
        log = Path(str(mnt) + ".log")
        for _ in range(2):
            with pytest.raises(OSError) as e:
                (mnt / kind / spec["store"] / ".zmetadata").read_bytes()
            assert e.value.errno == errno.EIO, f"expected EIO, got {e.value!r}"
        assert poll(lambda: spec["refused"] in log.read_text(), WATCH), log.read_text()[-3000:]
        first = spec["members"][0]
        own = mnt / kind / "data" / (first.stem + ".zarr")
        xr.testing.assert_identical(xr.open_zarr(own, chunks=None).load(),
                                    xr.open_dataset(first).load())


def test_inspect_of_an_ncml_file(archive):
    root, specs = archive
    out = inspect(specs["union"]["ncml"])
    assert "NcML union (2 nested joinExisting)" in out, out
    assert "collection union.zarr: 6 files" in out, out
    assert "members in time order: tas_1850.nc, tas_1851.nc, tas_1852.nc" in out, out
    assert "time: 1850-01-01 to 1852-12-31" in out, out
    out = inspect(specs["edits"]["ncml"])
    assert "NcML: variable orog removed" in out and "NcML: global attribute title set" in out, out
    for kind in ("remote", "join_new", "other_dim"):
        out = inspect(specs[kind]["ncml"])
        assert specs[kind]["refused"] in out and "not " in out, out


# --- live: the NcML file edited, a file a scan matches arriving -------------------------------

def time_length(store):
    return json.loads((store / ".zmetadata").read_bytes())["metadata"]["time/.zarray"]["shape"][0]


def test_editing_the_ncml_file_changes_the_store(tmp_path):
    spec = mc.ncml_explicit(tmp_path / "a")
    text = spec["ncml"].read_text()
    last = spec["members"][-1].name
    # first without the last member
    spec["ncml"].write_text("\n".join(line for line in text.splitlines() if last not in line))
    with mounted(tmp_path / "a", "--attr-timeout", "60") as mnt:
        store = mnt / spec["store"]
        assert time_length(store) == 730
        check(store, {**spec, "members": spec["members"][:2], "groups": [spec["members"][:2]]})
        part = spec["ncml"].with_suffix(".part")
        part.write_text(text)
        os.rename(part, spec["ncml"])
        assert poll(lambda: time_length(store) == 1095, WATCH), "the store did not follow the edit"
        check(store, spec)


def test_a_file_the_scan_matches_joins_the_store(tmp_path):
    """The scan's directory is never listed through the mount: it is watched because the
    NcML file's scan reads it."""
    stage = tmp_path / "stage"
    spec = mc.ncml_scan_regexp(stage)
    archive = tmp_path / "archive"
    shutil.copytree(stage, archive)
    newest = archive / "data" / "more" / "tas_1852.nc"
    os.unlink(newest)
    with mounted(archive, "--attr-timeout", "60") as mnt:
        store = mnt / spec["store"]
        assert time_length(store) == 730
        part = newest.with_suffix(".part")
        shutil.copy(stage / "data" / "more" / "tas_1852.nc", part)
        os.rename(part, newest)
        assert poll(lambda: time_length(store) == 1095, WATCH), "the new member was not seen"
        members = [archive / f.relative_to(stage) for f in spec["members"]]
        check(store, {**spec, "members": members, "groups": [members]})


# --- bad input: refused alone, nothing else harmed --------------------------------------------

def test_bad_ncml_files_harm_nothing(tmp_path):
    """Garbage, a file larger than 4 MiB, an entity bomb, and a member that is a symbolic link
    out of the archive: each store fails with EIO and a reason in the log; the good NcML
    store beside them and the daemon are fine."""
    archive = tmp_path / "archive"
    spec = mc.ncml_explicit(archive)
    (archive / "garbage.ncml").write_bytes(bytes(range(256)) * 64)
    (archive / "huge.ncml").write_text("<netcdf>" + " " * (5 << 20) + "</netcdf>")
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10))
    (archive / "bomb.ncml").write_text(
        f'<!DOCTYPE netcdf [<!ENTITY e0 "{"x" * 100}">{entities}]><netcdf>&e9;</netcdf>')
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(spec["members"][0], outside / "tas.nc")
    os.symlink(outside / "tas.nc", archive / "data" / "link.nc")
    (archive / "link.ncml").write_text(
        f'<netcdf xmlns="{mc.NCML_NS}"><aggregation type="joinExisting" dimName="time">'
        '<netcdf location="data/link.nc"/></aggregation></netcdf>')
    reasons = {"garbage": "not UTF-8", "huge": "larger than", "bomb": "not XML",
               "link": "outside the archive"}
    with mounted(archive) as mnt:
        log = Path(str(mnt) + ".log")
        for name, why in reasons.items():
            with pytest.raises(OSError) as e:
                (mnt / f"{name}.zarr" / ".zmetadata").read_bytes()
            assert e.value.errno == errno.EIO, (name, e.value)
            said = lambda: any(f"{name}.ncml: " in line and why in line  # noqa: E731
                               for line in log.read_text().splitlines())
            assert poll(said, WATCH), (name, log.read_text()[-3000:])
        check(mnt / spec["store"], spec)


# --- a real file cut with NCO, joined back by an NcML file ------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_ncml_of_ncks_pieces_is_the_original(tmp_path, mode):
    """The WRF corpus file cut along `Time` with `ncks -d Time,a,b` into pieces with names
    that say nothing of time (so only the NcML file joins them), listed in reverse in a
    joinExisting along `Time` (its time coordinate is the auxiliary XTIME(Time)): the store
    reads as the original file, but for the attributes NCO writes into every piece."""
    from conftest import CORPUS
    from test_collections import NCKS_CUTS
    if shutil.which("ncks") is None:
        pytest.skip("ncks not installed (Debian package nco; scripts/setup installs it)")
    name, dim, _stem, cuts = NCKS_CUTS["wrf"]
    original_path = CORPUS / name
    if not original_path.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    (tmp_path / "pieces").mkdir()
    pieces = []
    for i, (a, b) in enumerate(cuts):
        out = tmp_path / "pieces" / f"piece{'abc'[i]}.nc"
        subprocess.run(["ncks", "-O", "-d", f"{dim},{a},{b}", str(original_path), str(out)],
                       check=True, capture_output=True, timeout=60)
        pieces.append(out)
    listed = "".join(f'<netcdf location="pieces/{p.name}"/>' for p in reversed(pieces))
    (tmp_path / "wrf.ncml").write_text(
        f'<netcdf xmlns="{mc.NCML_NS}"><aggregation type="joinExisting" dimName="{dim}">'
        f'{listed}</aggregation></netcdf>')
    original = xr.open_dataset(original_path).load()
    with mounted(tmp_path, *MODES[mode]) as mnt:
        actual = xr.open_zarr(mnt / "wrf.zarr", chunks=None).load()
    # NCO writes `history` (its command line: different in every piece, so dropped and
    # listed) and `NCO` (its version, equal in every piece, so kept) into each piece
    assert actual.attrs.pop("cloudify_dropped_attributes") == ["history"]
    actual.attrs.pop("NCO", None)
    xr.testing.assert_identical(actual, original)
