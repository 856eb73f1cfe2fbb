"""Issue 17, `--union-parent` and joins along any dimension. A CMIP6 DRS table directory
(`day/`, whose sub-directories are `<variable_id>/<grid_label>/<version>/` trees) shows one
store per grid label that merges the variables' aggregates, the latest version of each, and
refuses (leaves out, with the reason) a variable that cannot be merged; a new version or a new
variable while mounted changes the store. Declared collections join along `realization` (by
its coordinate's values, not the names) or `lev` (no coordinate: the globs' order), identical
to open_mfdataset(combine="nested", concat_dim=<dim>, ...); overlapping members are refused.
The archives come from scripts/make_union_trees.py."""
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

from collection_expect import DROPPED, MF_OPTIONS, check_dtypes, differing_global_attributes
from conftest import CLOUDIFY, MODES, PY2, ROOT, WATCH, mounted, poll
from union_expect import compare_union, union_expected

sys.path.insert(0, str(ROOT / "scripts"))
import make_union_trees as ut  # noqa: E402


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("union-parent")
    return root, ut.cmip6_tree(root)


_expected = {}


def expectation(store, variables):
    if store not in _expected:
        _expected[store] = union_expected(variables)
    return _expected[store]


def test_generator_is_seeded(tmp_path):
    ut.cmip6_tree(tmp_path / "a")
    ut.cmip6_tree(tmp_path / "b")
    for f in sorted((tmp_path / "a").rglob("*.nc")):
        assert f.read_bytes() == (tmp_path / "b" / f.relative_to(tmp_path / "a")).read_bytes()


def test_off_by_default_and_on_as_a_mount_option(tree):
    root, made = tree
    with mounted(root) as mnt:
        assert not any(n.endswith(".zarr") for n in os.listdir(mnt / ut.TABLE))
    with mounted(root, "-o", "union_parent") as mnt:
        assert {n for n in os.listdir(mnt / ut.TABLE) if n.endswith(".zarr")} == set(made)


def test_stac_item_of_the_union_store(tree):
    root, made = tree
    with mounted(root, "--union-parent") as mnt:
        store = ut.store_name("gn")
        item = json.loads((mnt / ut.TABLE / (store[:-len(".zarr")] + ".stac.json")).read_bytes())
        props = item["properties"]
        assert props["start_datetime"].startswith("1850-01-01")
        assert props["end_datetime"].startswith("1852-12-31")
        assert {"tas", "pr", "tasmax"} <= set(props["cube:variables"])
        assert "tasmin" not in props["cube:variables"]
        assert item["assets"]["data"]["href"] == f"./{store}"


def test_table_directory_shows_one_store_per_grid(tree):
    root, made = tree
    with mounted(root, "--union-parent") as mnt:
        names = set(os.listdir(mnt / ut.TABLE))
        stores = set(made)
        items = {s[:-len(".zarr")] + ".stac.json" for s in made}
        assert names == stores | items | {"catalog.json", "tas", "pr", "tasmax", "tasmin"}
        catalog = json.loads((mnt / ut.TABLE / "catalog.json").read_bytes())
        linked = {link["href"] for link in catalog["links"] if link["rel"] == "item"}
        assert linked == {f"./{i}" for i in items}
        # no union where the sub-directories are not variable trees
        for d in ("CMIP6", ut.TABLE.rsplit("/", 1)[0], ut.TABLE + "/tas", ut.TABLE + "/tas/gn"):
            assert not any(n.endswith(".zarr") for n in os.listdir(mnt / d)), d


@pytest.mark.parametrize("mode", MODES)
def test_union_store_is_the_merge_of_the_variables(tree, mode):
    """gn: tas (3 files, the latest version: 1850-1852), pr (2 files, 365_day), tasmax (1
    file) merged; tasmin (1851-1853: other times) left out, the log says why; gr: tas and
    tasmin merged, pr (two years, not one) left out although it sorts first."""
    root, made = tree
    with mounted(root, "--union-parent", *MODES[mode]) as mnt:
        for store, variables in made.items():
            ds = compare_union(mnt / ut.TABLE / store, variables,
                               expectation(store, variables))
            for refused in ut.CMIP6_REFUSED[store]:
                assert refused not in ds.variables
        log = Path(str(mnt) + ".log")
        for why in ("tasmin: coordinate time differs", "pr: dimension time is 730 long, not 365"):
            assert poll(lambda: f"variables not merged: {why}" in log.read_text(), WATCH), \
                why + "\n" + log.read_text()[-3000:]


@pytest.mark.parametrize("mode", MODES)
def test_zarr2_reads_the_union_store(tree, mode):
    root, made = tree
    with mounted(root, "--union-parent", *MODES[mode]) as mnt:
        for store, variables in made.items():
            args = [f"{v}={','.join(map(str, files))}" for v, files in variables.items()]
            r = subprocess.run([str(PY2), str(ROOT / "tests/python/zarr2_union.py"),
                                str(mnt / ut.TABLE / store), *args],
                               capture_output=True, text=True, timeout=300)
            assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
            assert "identical with zarr 2." in r.stdout


def copy_tree(src, dst):
    shutil.copytree(src, dst, symlinks=True)
    return dst


def test_new_version_and_new_variable_change_the_store(tree, tmp_path):
    """While mounted (60 s attribute timeouts: only the watcher makes it fresh): a newer
    version of pr, renamed into place, is what the store serves; a new variable directory
    (tasmax, renamed into the table directory) is merged in."""
    root, made = tree
    archive = copy_tree(root, tmp_path / "archive")
    table = archive / ut.TABLE
    staged_tasmax = tmp_path / "tasmax"
    shutil.move(table / "tasmax", staged_tasmax)
    store_name = ut.store_name("gn")
    with mounted(archive, "--union-parent", "--attr-timeout", "60") as mnt:
        store = mnt / ut.TABLE / store_name
        meta = lambda: json.loads((store / ".zmetadata").read_bytes())["metadata"]  # noqa: E731
        assert "tasmax/.zarray" not in meta()
        before = xr.open_zarr(store, chunks=None).pr.load()
        # a newer version of pr: one file for 1850-1852, other values
        stage, files = ut.new_version(tmp_path, "pr", "gn", "v20200101", [(1850, 1852)],
                                      calendar="365_day")
        os.rename(stage, table / "pr" / "gn" / "v20200101")
        new_pr = [table / "pr/gn/v20200101" / f.name for f in files]

        def serves_new_pr():
            try:
                pr = xr.open_zarr(store, chunks=None).pr.load()
            except Exception:  # noqa: BLE001 - a read racing the change may see either side
                return False
            return not pr.equals(before)
        assert poll(serves_new_pr, WATCH), "the new version is not served"
        tas = [table / "tas/gn/v20190710" / f.name for f in made[store_name]["tas"]]
        compare_union(store, {"tas": tas, "pr": new_pr})
        # a new variable
        os.rename(staged_tasmax, table / "tasmax")
        assert poll(lambda: "tasmax/.zarray" in meta(), WATCH), "tasmax was not merged in"
        tasmax = [table / "tasmax/gn/v20190710" / f.name for f in made[store_name]["tasmax"]]
        compare_union(store, {"tas": tas, "pr": new_pr, "tasmax": tasmax})


def test_inspect_says_what_was_merged_and_refused(tree):
    root, made = tree
    r = subprocess.run([str(CLOUDIFY), "inspect", str(root / ut.TABLE)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    gn, gr = ut.store_name("gn"), ut.store_name("gr")
    assert f"union store {gn} (grid gn)" in out and f"union store {gr} (grid gr)" in out, out
    assert "tas: v20190710, not taken: v20190101, 3 files" in out, out
    assert "not merged: tasmin: coordinate time differs" in out, out
    assert "not merged: pr: dimension time is 730 long, not 365" in out, out
    assert "tasmax               [1095, 4, 8]" in out, out


# --- declared collections joined along another dimension ----------------------------------------

def open_nested(files, dim, **kw):
    return xr.open_mfdataset([str(f) for f in files], concat_dim=dim, **MF_OPTIONS, **kw).load()


def compare_along(store, files, dim):
    """The store against open_mfdataset(files as given, nested along dim), decoded and raw."""
    exp = open_nested(files, dim)
    act = xr.open_zarr(store, chunks=None).load()
    dropped = act.attrs.pop(DROPPED, None)
    differing = differing_global_attributes(files)
    assert sorted(dropped or []) == sorted(differing)
    for n in differing:
        exp.attrs.pop(n, None)
    check_dtypes(act, exp)
    xr.testing.assert_identical(act, exp)
    raw_exp = open_nested(files, dim, decode_cf=False)
    raw = xr.open_zarr(store, chunks=None, decode_cf=False).load()
    for name in raw_exp.variables:
        assert raw[name].variable.identical(raw_exp[name].variable), name


def declare(tmp_path, body):
    config = tmp_path / "collections.toml"
    config.write_text(body)
    return config


@pytest.mark.parametrize("mode", MODES)
def test_join_along_realization_and_lev(tmp_path, mode):
    """realization: ordered by its coordinate (1, 2-3, 10; names sort r1 < r10 < r2-3), the
    members' chunks passed through; lev: no coordinate, so in the globs' order (b_* before
    a_*), chunks of 2 along lev over 2 + 3 + 2 levels (joined chunks)."""
    archive = tmp_path / "archive"
    real = ut.realization_set(archive / "ens")
    lev = ut.lev_set(archive / "lev")
    config = declare(tmp_path, '[[collection]]\nname = "ens/all.zarr"\n'
                     'members = ["ens/tas_*.nc"]\njoin = "realization"\n\n'
                     '[[collection]]\nname = "lev/all.zarr"\n'
                     'members = ["lev/b_*.nc", "lev/a_*.nc"]\njoin = "lev"\n')
    with mounted(archive, "--collections", str(config), *MODES[mode]) as mnt:
        compare_along(mnt / "ens/all.zarr", real, "realization")
        compare_along(mnt / "lev/all.zarr", lev, "lev")
        if mode == "raw":
            za = json.loads((mnt / "ens/all.zarr/tas/.zarray").read_bytes())
            own = json.loads((mnt / "ens/tas_r10.zarr/tas/.zarray").read_bytes())
            assert za["compressor"] == own["compressor"] and za["chunks"] == own["chunks"]
            # realization 10 is the fourth entry: chunk 3 of the store is r10's chunk 0
            assert (mnt / "ens/all.zarr/tas/3.0.0.0").read_bytes() == \
                (mnt / "ens/tas_r10.zarr/tas/0.0.0.0").read_bytes()


def test_overlapping_members_along_a_dimension_are_refused(tmp_path):
    archive = tmp_path / "archive"
    files = ut.overlapping_realizations(archive / "ens")
    config = declare(tmp_path, '[[collection]]\nname = "ens/all.zarr"\n'
                     'members = ["ens/*.nc"]\njoin = "realization"\n')
    with mounted(archive, "--collections", str(config)) as mnt:
        with pytest.raises(OSError) as e:
            (mnt / "ens/all.zarr/.zmetadata").read_bytes()
        assert e.value.errno == errno.EIO
        log = Path(str(mnt) + ".log")
        assert poll(lambda: all(f.name in log.read_text() for f in files), WATCH), \
            log.read_text()[-2000:]
        # the members' own stores are not affected
        assert (mnt / "ens/tas_a.zarr/.zmetadata").read_bytes()


def test_inspect_of_a_glob(tmp_path):
    files = ut.realization_set(tmp_path / "ens")
    r = subprocess.run([str(CLOUDIFY), "inspect", "--join", "realization",
                        str(tmp_path / "ens" / "tas_*.nc")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "members in realization order: " + ", ".join(f.name for f in files) in r.stdout, \
        r.stdout
    r = subprocess.run([str(CLOUDIFY), "inspect", str(tmp_path / "ens" / "none_*.nc")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "no file matches" in r.stderr
