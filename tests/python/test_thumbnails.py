"""Issue 22 in the mount: `--thumbnails` (a `thumbnail` asset in every item, the PNG beside it
as `<name>.thumbnail.png`, the same image the server's plot route draws) and derived stores
declared in the `--collections` file (`[[derived]]`), read with xarray as xarray computes them
from the source. Real mounts and a real `cloudify serve` of the same archive."""
import json
import os
import shutil
import subprocess

import netCDF4
import numpy as np
import pystac
import pytest
import xarray as xr

import stac_expect as X
from conftest import BIN, FIXTURES, index_dir, mounted, served
from test_derived import get, make_noleap, same
from test_plots import make_gradient, png
from test_stac import pydantic_errors

DERIVED = """
[[derived]]
name = "clim/tas_monthly_clim.zarr"
dataset = "noleap.zarr"
variable = "tas"
derive = "groupby"
by = "time.month"
action = "mean"

[[derived]]
name = "pr_time_max.zarr"
dataset = "noleap.zarr"
variable = "pr"
derive = "reduce"
dims = ["time"]
action = "max"
"""


def make_series(path):
    """A station time series: nothing on a grid, drawn as a line."""
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("time", 20)
        t = ds.createVariable("time", "f8", ("time",))
        t.units, t.calendar = "days since 2000-01-01", "standard"
        t[:] = np.arange(20)
        v = ds.createVariable("x", "f4", ("time",))
        v.units = "m"
        v[:] = np.sin(np.arange(20) / 3)


def make_scalar(path):
    """Nothing to plot: one scalar."""
    with netCDF4.Dataset(path, "w") as ds:
        v = ds.createVariable("x", "f8", ())
        v[...] = 1.0


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("thumbs")
    make_gradient(root / "gradient.nc")
    make_series(root / "series.nc")
    make_scalar(root / "scalar.nc")
    make_noleap(root / "noleap.nc")
    (root / "clim").mkdir()
    shutil.copy(FIXTURES / "stac" / "curvilinear.nc", root / "clim" / "curvilinear.nc")
    (root.parent / "thumbs.toml").write_text(DERIVED)
    return root


@pytest.fixture(scope="module")
def mnt(archive):
    toml = archive.parent / "thumbs.toml"
    with mounted(archive, "--thumbnails", "--collections", str(toml)) as m:
        yield m


@pytest.fixture(scope="module")
def url(archive):
    with served(archive, "--thumbnails", "--collections", str(archive.parent / "thumbs.toml")) as u:
        yield u


def item(mnt, rel):
    return json.loads((mnt / rel).read_text())


@pytest.mark.parametrize("rel,var,kind", [
    ("gradient", "tas", "map"), ("series", "x", "line"), ("clim/curvilinear", "tas", "map")])
def test_item_has_the_thumbnail_and_the_mount_the_image(mnt, url, rel, var, kind):
    name = rel.rsplit("/", 1)[-1]
    doc = item(mnt, f"{rel}.stac.json")
    asset = doc["assets"]["thumbnail"]
    assert asset["href"] == f"./{name}.thumbnail.png"
    assert asset["type"] == "image/png" and asset["roles"] == ["thumbnail"]
    assert asset["title"].startswith(f"{var} ({kind}")
    assert X.schema_errors(doc, X.ITEM_SCHEMA) == [] and pydantic_errors(doc) == []
    path = mnt / f"{rel}.thumbnail.png"
    size = os.stat(path).st_size  # before any read: the size is exact
    body = path.read_bytes()
    assert size == len(body) > 1000
    w, h, rows = png(body)
    assert (w, h) == (900, 450) and len(rows) == 450
    # the plot route's image, and the same file in the served tree
    status, routed = get(f"{url}/datasets/{rel.replace('/', '~')}/plot/{var}/{kind}/viridis")
    assert status == 200 and routed == body
    status, served_file = get(f"{url}/{rel}.thumbnail.png")
    assert status == 200 and served_file == body
    assert json.loads(get(f"{url}/{rel}.stac.json")[1]) == doc


def test_the_map_is_the_last_time_step(mnt, url):
    body = (mnt / "gradient.thumbnail.png").read_bytes()
    status, last = get(f"{url}/datasets/gradient/plot/tas/map/viridis/time/2_3")
    assert status == 200 and last == body
    assert get(f"{url}/datasets/gradient/plot/tas/map/viridis/time/0_1")[1] != body


def test_nothing_to_plot_has_no_asset_and_an_empty_image(mnt):
    doc = item(mnt, "scalar.stac.json")
    assert "thumbnail" not in doc["assets"]
    body = (mnt / "scalar.thumbnail.png").read_bytes()
    assert body[:8] == b"\x89PNG\r\n\x1a\n" and body[16:24] == b"\0\0\0\x01\0\0\0\x01"
    assert os.stat(mnt / "scalar.thumbnail.png").st_size == len(body)
    log = (mnt.parent / (mnt.name + ".log")).read_text()
    assert "no thumbnail: no variable to plot file=scalar.nc" in log


def test_pystac_walks_the_catalog_to_every_thumbnail(mnt):
    root = pystac.Catalog.from_file(str(mnt / "catalog.json"))
    found = {}
    for it in root.get_items(recursive=True):
        if "thumbnail" in it.assets:
            href = it.assets["thumbnail"].get_absolute_href()
            assert os.path.isfile(href), href
            found[it.id] = href
    assert set(found) == {"gradient", "series", "noleap", "clim/curvilinear"}


def test_rsync_twice_moves_nothing(mnt, tmp_path):
    dest = tmp_path / "copy"
    r = subprocess.run(["rsync", "-a", f"{mnt}/", f"{dest}/"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in ("gradient", "series", "scalar", "noleap"):
        assert (dest / f"{name}.thumbnail.png").read_bytes() == \
            (mnt / f"{name}.thumbnail.png").read_bytes()
    assert (dest / "clim" / "tas_monthly_clim.zarr" / ".zmetadata").is_file()
    again = subprocess.run(["rsync", "-a", "--itemize-changes", f"{mnt}/", f"{dest}/"],
                           capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout == "", again.stdout + again.stderr


def test_public_url_makes_the_href_absolute(archive):
    with mounted(archive, "--thumbnails", "--public-url", "https://data.example.org/zarr/") as m:
        doc = item(m, "clim/curvilinear.stac.json")
        href = "https://data.example.org/zarr/clim/curvilinear.thumbnail.png"
        assert doc["assets"]["thumbnail"]["href"] == href


def test_declared_groupby_store_reads_as_xarray(mnt, url, archive):
    got = xr.open_zarr(mnt / "clim" / "tas_monthly_clim.zarr")
    want = xr.open_dataset(archive / "noleap.nc", engine="netcdf4")
    same(got, want.tas.groupby("time.month").mean(), "tas")
    # the served tree shows it too, with the route's bytes
    over_http = xr.open_zarr(f"{url}/clim/tas_monthly_clim.zarr")
    same(over_http, want.tas.groupby("time.month").mean(), "tas")
    route = get(f"{url}/datasets/noleap/groupby/tas/time.month/mean/.zmetadata")[1]
    assert route == (mnt / "clim" / "tas_monthly_clim.zarr" / ".zmetadata").read_bytes()
    files = sorted(p.name for p in (mnt / "clim" / "tas_monthly_clim.zarr" / "tas").iterdir())
    for f in files:  # exact sizes before reading
        p = mnt / "clim" / "tas_monthly_clim.zarr" / "tas" / f
        assert os.stat(p).st_size == len(p.read_bytes())


def test_declared_reduce_store_reads_as_xarray(mnt, archive):
    got = xr.open_zarr(mnt / "pr_time_max.zarr")
    want = xr.open_dataset(archive / "noleap.nc", engine="netcdf4")
    same(got, want.pr.max("time"), "pr")


def test_a_store_over_the_limit_is_eio_and_harms_nothing_else(archive):
    toml = archive.parent / "thumbs.toml"
    with mounted(archive, "--collections", str(toml), "--max-derived-size", "64") as m:
        with pytest.raises(OSError) as e:
            os.listdir(m / "pr_time_max.zarr")
        assert e.value.errno == 5
        log = (m.parent / (m.name + ".log")).read_text()
        assert "derived store cannot be computed" in log and "--max-derived-size" in log
        assert xr.open_zarr(m / "noleap.zarr").tas.shape == (180, 3, 4)


@pytest.mark.parametrize("change,words", [
    (("variable", "tas", "nope"), "nope"),
    (("dataset", "noleap.zarr", "missing.zarr"), "missing.zarr"),
    (("action", "mean", "avg"), "avg"),
    (("by", "time.month", "time.week"), "week"),
    (("name", "clim/tas_monthly_clim.zarr", "nowhere/tas_monthly_clim.zarr"), "nowhere"),
])
def test_bad_declarations_refuse_the_mount(archive, tmp_path, change, words):
    key, old, new = change
    toml = tmp_path / "bad.toml"
    toml.write_text(DERIVED.replace(f'{key} = "{old}"', f'{key} = "{new}"', 1))
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run([str(BIN), str(archive), str(mnt), "--collections", str(toml),
                        "--index-dir", str(index_dir())], capture_output=True, text=True, timeout=60)
    if r.returncode == 0:
        subprocess.run(["fusermount3", "-u", str(mnt)])
    assert r.returncode != 0
    assert "tas_monthly_clim.zarr" in r.stderr and words in r.stderr, r.stderr


def test_a_changed_source_is_drawn_and_computed_anew(tmp_path):
    root = tmp_path / "a"
    root.mkdir()
    make_noleap(root / "noleap.nc")
    toml = tmp_path / "c.toml"
    toml.write_text("[[derived]]" + DERIVED.split("[[derived]]")[2])  # pr_time_max only
    with mounted(root, "--thumbnails", "--collections", str(toml), "--index-dir", "none") as m:
        before = float(xr.open_zarr(m / "pr_time_max.zarr").pr.max())
        image = (m / "noleap.thumbnail.png").read_bytes()
        st = os.stat(root / "noleap.nc")
        with netCDF4.Dataset(root / "noleap.nc", "a") as ds:
            ds["pr"][-1] = np.full((3, 4), 12.0)  # above every value before (0 to 10)
            ds["tas"][-1] = np.full((3, 4), 300.0)
        os.utime(root / "noleap.nc", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        after = xr.open_zarr(m / "pr_time_max.zarr").pr
        want = xr.open_dataset(root / "noleap.nc", engine="netcdf4").pr.max("time")
        np.testing.assert_allclose(after.values, want.values, rtol=1e-6)
        assert float(after.max()) > before
        redrawn = (m / "noleap.thumbnail.png").read_bytes()
        assert redrawn != image and os.stat(m / "noleap.thumbnail.png").st_size == len(redrawn)


def test_a_listing_draws_nothing(archive):
    """Listing directories (readdir, no stat: `ls`, `find -maxdepth 1 -name`) reads no dataset:
    nothing indexed, nothing drawn; the first stat of a thumbnail draws it."""
    with mounted(archive, "--thumbnails", "--index-dir", "none") as m:
        names = os.listdir(m) + os.listdir(m / "clim")
        assert sorted(n for n in names if n.endswith(".thumbnail.png")) == [
            "curvilinear.thumbnail.png", "gradient.thumbnail.png", "noleap.thumbnail.png",
            "scalar.thumbnail.png", "series.thumbnail.png"]
        log = (m.parent / (m.name + ".log")).read_text()
        assert "series.nc" not in log and "no thumbnail" not in log
        assert os.stat(m / "series.thumbnail.png").st_size > 1000
        log = (m.parent / (m.name + ".log")).read_text()
        assert "indexed file=" in log and "series.nc" in log
