"""Issue 22 (reductions and groupby): `/datasets/{id}/reduce/{var}/{dims}/{action}` and
`/datasets/{id}/groupby/{var}/{coord}.{component}/{action}` are Zarr stores that
`xr.open_zarr` reads as xarray computes the same from the source with the netcdf4 engine
(`ds[var].mean("time")`, `ds[var].groupby("time.month").mean()`, as a Dataset): values,
dtype, dimensions, coordinates and attributes. Float64 results agree to 1e-12 relative;
float32 results (xarray accumulates float32 in float32, the server in float64) to float32
rounding. Sources are made here: fill values, missing_value, packing, the standard, noleap and
360_day calendars, an integer variable, grouping by a coordinate's values, and a collection of two files (open_mfdataset)."""
import json
import os
import socket
import urllib.error
import urllib.request

import netCDF4
import numpy as np
import pytest
import xarray as xr

from conftest import FIXTURES, poll, served

ACTIONS = ["mean", "min", "max", "sum", "count", "std", "var", "median", "first", "last"]
rng = np.random.default_rng(22)


def grid(ds, ny=3, nx=4):
    ds.createDimension("lat", ny)
    ds.createDimension("lon", nx)
    lat = ds.createVariable("lat", "f8", ("lat",))
    lat.units, lat.standard_name = "degrees_north", "latitude"
    lat[:] = np.linspace(-60, 60, ny)
    lon = ds.createVariable("lon", "f8", ("lon",))
    lon.units, lon.standard_name = "degrees_east", "longitude"
    lon[:] = np.linspace(0, 270, nx)


def time(ds, n, units, calendar, step, unlimited=False):
    ds.createDimension("time", None if unlimited else n)
    t = ds.createVariable("time", "f8", ("time",))
    t.units, t.calendar, t.standard_name = units, calendar, "time"
    t[:] = np.arange(n) * step
    return t


def make_noleap(path, n=180):
    """5-daily noleap: float32 with _FillValue and masked values, int16 packed (float32 scale)
    with missing values, float64 with missing_value, int32 without fill, a byte with
    _Unsigned (not packed), a scalar coordinate."""
    with netCDF4.Dataset(path, "w") as ds:
        time(ds, n, "days since 2000-01-01 06:00", "noleap", 5.0)
        grid(ds)
        h = ds.createVariable("height", "f8", ())
        h.units = "m"
        h[...] = 2.0
        tas = ds.createVariable("tas", "f4", ("time", "lat", "lon"), fill_value=np.float32(1e20),
                                chunksizes=(16, 2, 3))
        tas.units, tas.long_name, tas.coordinates = "K", "air temperature", "height region"
        region = ds.createVariable("region", "i4", ("lon",))
        region.long_name = "region number"
        region[:] = [2, 1, 2, 7]
        data = (250 + 40 * rng.random((n, 3, 4))).astype("f4")
        data[rng.random(data.shape) < 0.1] = 1e20
        data[:, 0, 0] = 1e20  # a cell never valid: NaN means, zero counts
        tas[:] = data
        pr = ds.createVariable("pr", "i2", ("time", "lat", "lon"), fill_value=np.int16(-32767),
                               chunksizes=(50, 3, 4))
        pr.scale_factor, pr.add_offset = np.float32(0.01), np.float32(5.0)
        pr.units = "mm/day"
        raw = rng.integers(-500, 500, (n, 3, 4)).astype("i2")
        raw[rng.random(raw.shape) < 0.05] = -32767
        pr.set_auto_maskandscale(False)
        pr[:] = raw
        hus = ds.createVariable("hus", "f8", ("time", "lat", "lon"))
        hus.missing_value = -999.0
        d = rng.random((n, 3, 4)) * 1e-2
        d[rng.random(d.shape) < 0.05] = -999.0
        hus[:] = d
        flag = ds.createVariable("flag", "i1", ("time", "lat", "lon"), fill_value=np.int8(-1))
        flag._Unsigned = "true"
        flag.set_auto_maskandscale(False)
        flag[:] = rng.integers(-128, 128, (n, 3, 4)).astype("i1")  # -1 (255) is the fill
        cnt = ds.createVariable("cnt", "i4", ("time", "lat", "lon"))
        cnt[:] = rng.integers(0, 1000, (n, 3, 4))


def make_360(path, n=1440):
    """6-hourly 360_day float64 with _FillValue over two years."""
    with netCDF4.Dataset(path, "w") as ds:
        time(ds, n, "hours since 1999-12-01 00:00", "360_day", 6.0)
        grid(ds, 2, 3)
        psl = ds.createVariable("psl", "f8", ("time", "lat", "lon"), fill_value=-1.0,
                                chunksizes=(100, 2, 3))
        psl.units = "Pa"
        d = 1e5 + 1e3 * rng.standard_normal((n, 2, 3))
        d[rng.random(d.shape) < 0.05] = -1.0
        psl[:] = d


def make_members(directory):
    """One standard-calendar file cut into two members: the collection `sst.zarr`."""
    whole = []
    for year, start in ((2001, 0), (2002, 365)):
        with netCDF4.Dataset(directory / f"sst_{year}.nc", "w") as ds:
            t = time(ds, 365, "days since 2001-01-01", "standard", 1.0, unlimited=True)
            t[:] = start + np.arange(365) + 0.5
            grid(ds, 2, 2)
            v = ds.createVariable("sst", "f8", ("time", "lat", "lon"), fill_value=1e20)
            v.units = "degC"
            d = 15 + 10 * rng.random((365, 2, 2))
            d[rng.random(d.shape) < 0.05] = 1e20
            v[:] = d
            whole.append(ds.filepath())
    return whole


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("derived")
    make_noleap(root / "noleap.nc")
    make_360(root / "d360.nc")
    members = make_members(root)
    return root, members


@pytest.fixture(scope="module")
def url(archive):
    with served(archive[0], "--max-derived-size", str(4 << 20)) as u:
        yield u


def get(u):
    try:
        with urllib.request.urlopen(u) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def same(got, want, name, magnitude=0.0):
    """`got` (open_zarr of the derived store) equals `want` (xarray's DataArray).
    `magnitude`: the largest input value, for results that cancel to about zero (where
    neither xarray's sum nor any other is accurate relative to the result)."""
    want = want.to_dataset(name=name)
    assert list(got.data_vars) == [name]
    g, w = got[name], want[name]
    assert g.dims == w.dims
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    assert g.attrs.keys() == w.attrs.keys()
    for k in w.attrs:  # valid_range and the like: lists in JSON, arrays from netCDF
        assert np.array_equal(g.attrs[k], w.attrs[k]), k
    assert got.attrs == want.attrs
    assert sorted(got.coords) == sorted(want.coords)
    for c in want.coords:
        np.testing.assert_array_equal(got[c].values, want[c].values)
    gv, wv = g.values, w.values
    np.testing.assert_array_equal(np.isnan(gv) if gv.dtype.kind == "f" else gv * 0,
                                  np.isnan(wv) if wv.dtype.kind == "f" else wv * 0)
    if gv.dtype == np.float64:
        np.testing.assert_allclose(gv, wv, rtol=1e-12, atol=1e-13 * magnitude, equal_nan=True)
    elif gv.dtype == np.float32:
        # xarray sums float32 in float32 (pairwise); the server in float64, rounded once:
        # they differ by float32 rounding of the inputs' magnitude
        scale = max(magnitude, float(np.nanmax(np.abs(wv), initial=0)) if wv.size else 0.0)
        np.testing.assert_allclose(gv, wv, rtol=2e-6, atol=1e-6 * scale, equal_nan=True)
    else:
        np.testing.assert_array_equal(gv, wv)


def grouped(da, group, action):
    return getattr(da.groupby(group), action)()


def reduced(da, dims, action):
    if action in ("first", "last"):
        # one group over the dimension: xarray's first/last, skipping NaN
        dim = dims[0]
        return getattr(da.groupby(xr.zeros_like(da[dim], dtype=int).rename("g")), action)() \
            .squeeze("g", drop=True)
    return getattr(da, action)(dims if len(dims) > 1 else dims[0])


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("var", ["tas", "pr", "hus"])
def test_groupby_month_noleap(url, archive, var, action):
    ds = xr.open_dataset(archive[0] / "noleap.nc", engine="netcdf4")
    got = xr.open_zarr(f"{url}/datasets/noleap/groupby/{var}/time.month/{action}")
    same(got, grouped(ds[var], "time.month", action), var)


@pytest.mark.parametrize("action", ACTIONS)
def test_reduce_time(url, archive, action):
    ds = xr.open_dataset(archive[0] / "noleap.nc", engine="netcdf4")
    for var in ("tas", "pr", "cnt", "flag"):
        got = xr.open_zarr(f"{url}/datasets/noleap/reduce/{var}/time/{action}")
        same(got, reduced(ds[var], ["time"], action), var)


@pytest.mark.parametrize("component", ["year", "season", "day", "dayofyear", "hour"])
def test_groupby_components_360_day(url, archive, component):
    ds = xr.open_dataset(archive[0] / "d360.nc", engine="netcdf4")
    for action in ("mean", "std", "max"):
        got = xr.open_zarr(f"{url}/datasets/d360/groupby/psl/time.{component}/{action}")
        same(got, grouped(ds.psl, f"time.{component}", action), "psl")


@pytest.mark.parametrize("action", ["mean", "sum", "median", "first", "count"])
def test_groupby_by_value(url, archive, action):
    ds = xr.open_dataset(archive[0] / "noleap.nc", engine="netcdf4")
    got = xr.open_zarr(f"{url}/datasets/noleap/groupby/tas/region/{action}")
    same(got, grouped(ds.tas, "region", action), "tas")
    got = xr.open_zarr(f"{url}/datasets/noleap/groupby/pr/lat/{action}")
    same(got, grouped(ds.pr, "lat", action), "pr")
    d360 = xr.open_dataset(archive[0] / "d360.nc", engine="netcdf4")
    got = xr.open_zarr(f"{url}/datasets/d360/groupby/psl/time/{action}")
    same(got, grouped(d360.psl, "time", action), "psl")


def test_reduce_over_space_keeps_time(url, archive):
    ds = xr.open_dataset(archive[0] / "noleap.nc", engine="netcdf4")
    got = xr.open_zarr(f"{url}/datasets/noleap/reduce/tas/lat,lon/mean")
    same(got, ds.tas.mean(["lat", "lon"]), "tas")
    got = xr.open_zarr(f"{url}/datasets/noleap/reduce/hus/time,lat,lon/sum")
    same(got, ds.hus.sum(["time", "lat", "lon"]), "hus")


@pytest.mark.parametrize("group", ["time.month", "time.season", "time.dayofyear"])
def test_collection(url, archive, group):
    ds = xr.open_mfdataset(archive[1], engine="netcdf4", combine="nested", concat_dim="time",
                           data_vars="minimal", coords="minimal", compat="override")
    for action in ("mean", "median", "count"):
        got = xr.open_zarr(f"{url}/datasets/sst/groupby/sst/{group}/{action}")
        same(got, grouped(ds.sst, group, action).load(), "sst")


@pytest.fixture(scope="module")
def fixtures_url():
    with served(FIXTURES, "--contiguous-chunk-size", "20000") as u:
        yield u


@pytest.mark.filterwarnings("ignore::xarray.SerializationWarning")
@pytest.mark.parametrize("name", ["packed_kinds", "packed", "tas_day", "calendar_noleap",
                                  "netcdf3_classic"])
def test_fixture_variables(fixtures_url, name):
    """Every numeric variable of the fixtures with packing kinds (_Unsigned, big-endian,
    float32/float64 scales, missing_value lists, an integer scale left packed), reduced along
    its first dimension."""
    ds = xr.open_dataset(FIXTURES / f"{name}.nc", engine="netcdf4")
    checked = 0
    for var, da in ds.data_vars.items():
        if da.ndim == 0 or da.dtype.kind not in "iuf":
            continue
        for action in ("mean", "max", "count", "sum", "median"):
            got = xr.open_zarr(f"{fixtures_url}/datasets/{name}/reduce/{var}/{da.dims[0]}/{action}")
            magnitude = float(np.nanmax(np.abs(da.values), initial=0))
            same(got, reduced(da, [da.dims[0]], action), var, magnitude)
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize("path, words", [
    ("noleap/reduce/tas/time/avg", ["'avg'", "median"]),
    ("noleap/reduce/tas/depth/mean", ["'depth'", "time, lat, lon"]),
    ("noleap/reduce/nothing/time/mean", ["'nothing'", "tas"]),
    ("noleap/groupby/tas/time.week/mean", ["'week'", "dayofyear"]),
    ("noleap/groupby/tas/lat.month/mean", ["not a CF time"]),
    ("noleap/groupby/tas/tas.month/mean", ["not a 1-D coordinate"]),
    ("noleap/groupby/tas/nothing/mean", ["'nothing'"]),
    ("noleap/reduce/tas/time", ["reduce/{var}"]),
])
def test_bad_requests_are_400(url, path, words):
    status, body = get(f"{url}/datasets/{path}/.zmetadata")
    assert status == 400, body
    for w in words:
        assert w in body.decode(), body


def test_too_large_is_413_and_unknown_files_404(url):
    # the median keeps every input value: 1440*2*3 float64 is below 4 MiB, so it is computed
    assert get(f"{url}/datasets/d360/reduce/psl/time/median/.zmetadata")[0] == 200
    status, body = get(f"{url}/datasets/nothing/reduce/tas/time/mean/.zmetadata")
    assert status == 404
    status, _ = get(f"{url}/datasets/noleap/reduce/tas/time/mean/nothing/0")
    assert status == 404


def test_listed_in_openapi_and_store_listing(url):
    paths = json.loads(get(f"{url}/openapi.json")[1])["paths"]
    assert any("/groupby/" in p for p in paths) and any("/reduce/" in p for p in paths)
    status, body = get(f"{url}/datasets/noleap/groupby/tas/time.season/mean/")
    assert status == 200
    assert {".zmetadata", "tas/.zarray", "season/0", "height/.zarray"} <= set(json.loads(body))


def test_byte_ranges_of_a_derived_file(url):
    """A derived file answers one byte range as the tree's files do (206, Content-Range), 416
    beyond its end; the parts put together are the whole file."""
    u = f"{url}/datasets/noleap/groupby/tas/time.month/mean/tas/0.0.0"
    status, whole = get(u)
    assert status == 200 and len(whole) > 20

    def ranged(spec):
        req = urllib.request.Request(u, headers={"Range": spec})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    status, headers, head = ranged("bytes=0-9")
    assert (status, headers["Content-Range"]) == (206, f"bytes 0-9/{len(whole)}")
    assert headers["Accept-Ranges"] == "bytes"
    status, _, tail = ranged("bytes=10-")
    assert status == 206 and head + tail == whole
    status, _, last = ranged("bytes=-4")
    assert status == 206 and last == whole[-4:]
    status, headers, _ = ranged(f"bytes={len(whole)}-")
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(whole)}"


def test_a_computation_stops_when_its_client_goes_away(tmp_path):
    """A client that hangs up on a long computation (a day-of-year mean over 2,000 one-step
    chunks, 40 million values: seconds in a debug build) makes the server stop it between
    chunks, which the log says."""
    archive = tmp_path / "archive"
    archive.mkdir()
    with netCDF4.Dataset(archive / "big.nc", "w") as ds:
        ds.createDimension("time", 2000)
        ds.createDimension("lat", 100)
        ds.createDimension("lon", 200)
        t = ds.createVariable("time", "f8", ("time",))
        t.units, t.calendar = "days since 2000-01-01", "noleap"
        t[:] = np.arange(2000)
        v = ds.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, complevel=1,
                              chunksizes=(1, 100, 200))
        field = (np.arange(100)[:, None] + np.arange(200)).astype("f4")
        for i in range(0, 2000, 500):
            v[i:i + 500] = field + np.arange(i, i + 500, dtype="f4")[:, None, None]
    log = tmp_path / "serve.log"
    path = "/datasets/big/groupby/tas/time.dayofyear/mean/.zmetadata"
    with served(archive, "--index-dir", "none", log=log) as u:
        host, port = u.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as s:  # ask, then hang up
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            s.settimeout(0.2)
            with pytest.raises(TimeoutError):
                s.recv(1)
        assert poll(lambda: "derived computation stopped" in log.read_text(), 120), \
            log.read_text()[-2000:]


def test_limit(archive):
    with served(archive[0], "--max-derived-size", "1000") as u:
        status, body = get(f"{u}/datasets/noleap/reduce/tas/time/median/.zmetadata")
        assert status == 413 and b"--max-derived-size" in body, body
        assert get(f"{u}/datasets/noleap/reduce/tas/lat,lon,time/mean/.zmetadata")[0] == 200


def test_changed_source_is_computed_anew(tmp_path):
    path = tmp_path / "c.nc"

    def write(value):
        with netCDF4.Dataset(path, "w") as ds:
            time(ds, 4, "days since 2000-01-01", "standard", 1.0)
            v = ds.createVariable("x", "f8", ("time",))
            v[:] = np.full(4, value)

    write(1.0)
    with served(tmp_path, "--index-dir", "none") as u:
        route = f"{u}/datasets/c/reduce/x/time/sum"
        assert float(xr.open_zarr(route).x) == 4.0
        st = os.stat(path)
        write(2.0)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        assert float(xr.open_zarr(route).x) == 8.0
        json.loads(get(f"{route}/.zmetadata")[1])
