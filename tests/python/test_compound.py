"""Compound variables (issue 18) through a real mount: every member `v.m` equals h5py's
`ds['m']` (and netCDF4-python's field where netCDF-C reads the file), the structured array `v`
(with --structured-arrays) equals h5py's array through zarr-python 3 and 2.18, and xarray
opens and loads the store either way."""
import json
import subprocess

import h5py
import hdf5plugin  # noqa: F401 (h5py's Blosc2 filter for compound_blosc2.h5; before netCDF4)
import netCDF4
import numpy as np
import pytest
import xarray as xr
import zarr

from conftest import CLOUDIFY, FIXTURES, MODES, PY2, mounted, served

# the compound fixtures (scripts/make_compound_fixtures.py; compound_blosc2.h5: PyTables tables
# compressed with Blosc2); netCDF-C lists the compounds of the netCDF-4 ones (compared with
# netCDF4-python too)
FILES = {"compound_h5py.h5": False, "compound_tables.h5": False, "compound_nc4.nc": True,
         "compound_l3b.nc": True, "unsupported_types.nc": True, "compound_blosc2.h5": False,
         # null-terminated string members with an embedded NUL: h5py cuts them there
         # (netCDF4-python misreads fixed-length string members: h5py is the reference)
         "compound_string_pads.h5": False}


def compounds(path):
    """(group path, name, h5py dtype) of every compound dataset of the file."""
    out = []
    with h5py.File(path) as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.dtype.names:
                group, _, var = ("/" + name).rpartition("/")
                out.append((group or "/", var, obj.dtype))
        f.visititems(visit)
    return out


def leaves(dtype, prefix=""):
    """(dotted member name, its path of field names) of a structured dtype, nested flattened."""
    for name in dtype.names:
        sub = dtype.fields[name][0]
        if sub.names:
            yield from ((f"{prefix}{name}.{n}", (name, *p)) for n, p in leaves(sub))
        else:
            yield f"{prefix}{name}", (name,)


def field(values, path):
    """A member's values as h5py reads them; variable-length strings (bytes in h5py) as text,
    as a Zarr vlen-utf8 array reads."""
    for p in path:
        values = values[p]
    if values.dtype == object:
        text = [v.decode() if isinstance(v, bytes) else v for v in values.ravel()]
        values = np.array(text, dtype=object).reshape(values.shape)
    return values


@pytest.fixture(scope="module")
def structured_mount():
    with mounted(FIXTURES, "--structured-arrays") as mnt:
        yield mnt


def store_of(mnt, name):
    return mnt / (name.rsplit(".", 1)[0] + ".zarr")


CASES = [(name, group, var) for name in FILES for group, var, _ in compounds(FIXTURES / name)]


@pytest.mark.parametrize("name,group,var", CASES)
def test_members_equal_h5py(fixtures_mount, name, group, var):
    src = FIXTURES / name
    zgroup = zarr.open_group(store_of(fixtures_mount, name), mode="r")
    if group != "/":
        zgroup = zgroup[group.strip("/")]
    with h5py.File(src) as f:
        ds = f[f"{group.rstrip('/')}/{var}"]
        data = ds[()]
        for member, path in leaves(ds.dtype):
            want = field(data, path)
            z = zgroup[f"{var}.{member}"]
            got = z[()]
            if want.dtype == object:  # variable-length strings: zarr-python 3 reads StringDType
                got = np.array(got.tolist(), dtype=object).reshape(got.shape)
            assert got.dtype == want.dtype, (member, got.dtype, want.dtype)
            np.testing.assert_array_equal(got, want, err_msg=member)
            attrs = dict(z.attrs)
            assert attrs["cloudify_compound_of"] == var
            dims = attrs["_ARRAY_DIMENSIONS"]
            assert len(dims) == want.ndim
            assert dims[data.ndim:] == [f"{var}.{member}_dim{k}" for k in range(want.ndim - data.ndim)]
            assert z.fill_value in (None, 0, b"", "", 0.0) or np.isnan(z.fill_value)


@pytest.mark.parametrize("name,group,var", [c for c in CASES if FILES[c[0]]])
def test_members_equal_netcdf4(fixtures_mount, name, group, var):
    """Where netCDF-C reads the file: the members equal netCDF4-python's fields too."""
    zgroup = zarr.open_group(store_of(fixtures_mount, name), mode="r")
    if group != "/":
        zgroup = zgroup[group.strip("/")]
    with netCDF4.Dataset(FIXTURES / name) as nc:
        v = nc[f"{group.rstrip('/')}/{var}"]
        data = v[...]
        for member in data.dtype.names:
            np.testing.assert_array_equal(zgroup[f"{var}.{member}"][()], data[member],
                                          err_msg=member)


def structured_expected(data):
    """h5py's array as the packed, little-endian structured array the store serves."""
    fields = [(n, data.dtype.fields[n][0].newbyteorder("<")
               if data.dtype.fields[n][0].byteorder == ">" else data.dtype.fields[n][0])
              for n in data.dtype.names]
    out = np.empty(data.shape, np.dtype(fields))
    for n in data.dtype.names:
        out[n] = data[n]
    return out


@pytest.mark.parametrize("name,group,var", CASES)
def test_structured_array(structured_mount, fixtures_mount, name, group, var):
    """With --structured-arrays, `v` is a packed little-endian structured array equal to
    h5py's, where every member is a scalar (zarr-python 3.1 cannot read array members; then `v`
    is not served, and the members say why in `cloudify_structured_array`). Without it (by
    default) no structured array is served."""
    prefix = "" if group == "/" else group.strip("/") + "/"
    default = json.loads((store_of(fixtures_mount, name) / ".zmetadata").read_text())["metadata"]
    assert f"{prefix}{var}/.zarray" not in default
    store = store_of(structured_mount, name)
    meta = json.loads((store / ".zmetadata").read_text())["metadata"]
    with h5py.File(FIXTURES / name) as f:
        data = f[f"{group.rstrip('/')}/{var}"][()]
    array_members = any(data.dtype.fields[n][0].shape for n in data.dtype.names)
    strings = any(data.dtype.fields[n][0] == object for n in data.dtype.names)
    if array_members or strings:
        assert f"{prefix}{var}/.zarray" not in meta
        first = data.dtype.names[0]
        note = meta[f"{prefix}{var}.{first}/.zattrs"]["cloudify_structured_array"]
        why = "is an array" if array_members else "is variable-length"
        assert note.startswith("not served: member ") and why in note, note
        return
    zarray = meta[f"{prefix}{var}/.zarray"]
    assert zarray["fill_value"] is None
    want = structured_expected(data)
    assert [tuple(f) for f in zarray["dtype"]] == [(n, want.dtype[n].str) for n in want.dtype.names]
    got = zarr.open_array(store / prefix / var, mode="r")[()]
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    # zarr-python 2.18 reads the same
    script = ("import sys, zarr, numpy as np; a = zarr.open_array(sys.argv[1], mode='r')[()]; "
              "sys.stdout.buffer.write(a.dtype.str.encode() + b'|' + a.tobytes())")
    r = subprocess.run([str(PY2), "-c", script, str(store / prefix / var)], capture_output=True,
                       check=True)
    assert r.stdout == want.dtype.str.encode() + b"|" + want.tobytes()


@pytest.mark.parametrize("structured", [False, True])
@pytest.mark.parametrize("name", sorted(FILES))
def test_xarray_opens_and_loads(request, name, structured):
    """xr.open_zarr on every group of the store loads every array, the structured ones
    included, and each member equals h5py's."""
    mnt = request.getfixturevalue("structured_mount" if structured else "fixtures_mount")
    store = store_of(mnt, name)
    groups = sorted({g for g, _, _ in compounds(FIXTURES / name)})
    with h5py.File(FIXTURES / name) as f:
        for group in groups:
            kw = {} if group == "/" else {"group": group.strip("/")}
            ds = xr.open_zarr(store, **kw).load()
            for g, var, dtype in compounds(FIXTURES / name):
                if g != group:
                    continue
                data = f[f"{g.rstrip('/')}/{var}"][()]
                for member, path in leaves(dtype):
                    np.testing.assert_array_equal(ds[f"{var}.{member}"].values, field(data, path))
                    assert ds[f"{var}.{member}"].attrs["cloudify_compound_of"] == var
                scalars = not any(dtype.fields[n][0].shape or dtype.fields[n][0] == object
                                  for n in dtype.names)
                assert (var in ds) == (structured and scalars), var
                if var in ds:
                    np.testing.assert_array_equal(ds[var].values, structured_expected(data))


@pytest.mark.parametrize("name", sorted(FILES))
def test_inspect_says_how_compounds_were_mapped(name):
    out = subprocess.run([str(CLOUDIFY), "inspect", str(FIXTURES / name)],
                         capture_output=True, text=True, check=True).stdout
    left_out = [line for line in out.splitlines() if "LEFT OUT" in line]
    assert left_out == []
    for group, var, dtype in compounds(FIXTURES / name):
        for member, _ in leaves(dtype):
            assert f"member {member}" in out and f"of compound {var}" in out, (var, member)


def write_obs(path, start, n):
    """A netCDF-4 file of `n` time steps from `start` with a compound variable along time."""
    rng = np.random.default_rng(start)
    obs_t = np.dtype([("temperature", "f4"), ("count", "i2")])
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("time", None)
        ds.createDimension("station", 3)
        ct = ds.createCompoundType(obs_t, "obs_t")
        v = ds.createVariable("obs", ct, ("time", "station"), zlib=True, chunksizes=(2, 3))
        data = np.zeros((n, 3), obs_t)
        data["temperature"] = rng.normal(280, 5, (n, 3))
        data["count"] = rng.integers(0, 100, (n, 3))
        v[:] = data
        t = ds.createVariable("time", "f8", ("time",))
        t.units, t.calendar = "days since 2000-01-01", "standard"
        t[:] = np.arange(start, start + n)
    return data


def test_a_collection_joins_compound_members(tmp_path):
    """Files joined along time (the automatic rule): each member's chunks are cut from its own
    file's stored compound chunks (never another member's: members of whole chunks, which
    plain variables would pass through as they are)."""
    parts = [write_obs(tmp_path / f"obs_day_2000010{1 + 4 * i}-2000010{4 + 4 * i}.nc", 4 * i, 4)
             for i in range(2)]
    want = np.concatenate(parts)
    with mounted(tmp_path, "--structured-arrays") as mnt:
        ds = xr.open_zarr(mnt / "obs_day.zarr").load()
        for m in ("temperature", "count"):
            np.testing.assert_array_equal(ds[f"obs.{m}"].values, want[m])
        np.testing.assert_array_equal(ds["obs"].values, want)


def test_a_netcdf_c_crash_still_serves_compounds(tmp_path):
    """netcdf-c kills the worker on the file: the pure-HDF5 view serves the compound
    variables the same way (members from the HDF5 type)."""
    import shutil

    for name in ("compound_nc4.nc", "compound_l3b.nc"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    with mounted(tmp_path, "--index-dir", "none", "--workers", "1",
                 env={"CLOUDIFY_TEST_WORKER_HOOK": "abort-netcdf:compound_"}) as mnt:
        for name in ("compound_nc4.nc", "compound_l3b.nc"):
            for group, var, dtype in compounds(FIXTURES / name):
                kw = {} if group == "/" else {"group": group.strip("/")}
                ds = xr.open_zarr(store_of(mnt, name), **kw).load()
                with h5py.File(FIXTURES / name) as f:
                    data = f[f"{group.rstrip('/')}/{var}"][()]
                for member, path in leaves(dtype):
                    np.testing.assert_array_equal(ds[f"{var}.{member}"].values,
                                                  field(data, path))
        log = (mnt.parent / (mnt.name + ".log")).read_text()
        assert "retrying with libhdf5 alone" in log


@pytest.mark.parametrize("name", sorted(FILES))
def test_stac_item_lists_the_members(fixtures_mount, name):
    """The item's datacube names every member array with the member's dimensions (keyed
    where they are defined: `group/dim`)."""
    item = json.loads((fixtures_mount / (name.rsplit(".", 1)[0] + ".stac.json")).read_text())
    variables = item["properties"]["cube:variables"]
    store = store_of(fixtures_mount, name)
    for group, var, dtype in compounds(FIXTURES / name):
        prefix = "" if group == "/" else group.strip("/") + "/"
        for member, _ in leaves(dtype):
            zattrs = json.loads((store / prefix / f"{var}.{member}" / ".zattrs").read_text())
            dims = [d.rpartition("/")[2] for d in variables[f"{prefix}{var}.{member}"]["dimensions"]]
            assert dims == zattrs["_ARRAY_DIMENSIONS"], (var, member)


# Zarr v3 (`--zarr-format 3`): (shard size, chunk mode, extra options) of each mount; a shard
# size of 64 bytes groups several of the small member chunks in a shard, with a partial last
# shard; --structured-arrays changes nothing in v3 (it has no structured type)
V3_LAYOUTS = {
    "unsharded-raw": ("0", "raw", ()),
    "sharded-raw-structured": (str(256 << 20), "raw", ("--structured-arrays",)),
    "small-shards-decoded": ("64", "decoded", ()),
}
NO_V3_TYPE = "not served: Zarr v3 has no structured data type"


@pytest.fixture(scope="module", params=sorted(V3_LAYOUTS))
def v3_mount(request):
    shard, mode, extra = V3_LAYOUTS[request.param]
    with mounted(FIXTURES, "--zarr-format", "3", "--shard-size", shard, *MODES[mode],
                 *extra) as mnt:
        yield request.param, mnt


def as_object(values):
    """Variable-length strings as an object array (zarr-python 3 reads StringDType)."""
    return np.array(values.tolist(), dtype=object).reshape(values.shape)


@pytest.mark.parametrize("name", sorted(FILES))
def test_v3_members_equal_h5py(v3_mount, name):
    """Through `xr.open_zarr(zarr_format=3)` every member `v.m` equals h5py's `ds['m']`, in
    shards or not; `v` itself is never a v3 array, and its members say why."""
    layout, mnt = v3_mount
    store = store_of(mnt, name)
    with h5py.File(FIXTURES / name) as f:
        for group in sorted({g for g, _, _ in compounds(FIXTURES / name)}):
            kw = {} if group == "/" else {"group": group.strip("/")}
            ds = xr.open_zarr(store, zarr_format=3, **kw).load()
            for g, var, dtype in compounds(FIXTURES / name):
                if g != group:
                    continue
                data = f[f"{g.rstrip('/')}/{var}"][()]
                assert var not in ds, var
                scalars = not any(dtype.fields[n][0].shape or dtype.fields[n][0] == object
                                  for n in dtype.names)
                for member, path in leaves(dtype):
                    want, got = field(data, path), ds[f"{var}.{member}"].values
                    if want.dtype == object:
                        got = as_object(got)
                    # v3 gives the byte order in the `bytes` codec; zarr reads native order
                    same = (got.dtype.kind, got.dtype.itemsize) == (want.dtype.kind,
                                                                    want.dtype.itemsize)
                    assert same, (member, got.dtype, want.dtype)
                    np.testing.assert_array_equal(got, want, err_msg=f"{var}.{member}")
                    attrs = ds[f"{var}.{member}"].attrs
                    assert attrs["cloudify_compound_of"] == var
                    note = attrs["cloudify_structured_array"]
                    assert note == NO_V3_TYPE if scalars else note.startswith("not served: member")


def test_v3_compound_chunks_in_shards(v3_mount):
    """The member arrays' chunks (generated, cut from the stored compound chunks) are grouped
    in shards where the layout shards, several to a shard with small shards; every file's
    size is exact (a shard's index is made from the chunk sizes alone) and zarr-python reads
    every member."""
    layout, mnt = v3_mount
    several = 0
    sharded = 0
    for name in sorted(FILES):
        store = store_of(mnt, name)
        root = json.loads((store / "zarr.json").read_text())
        members = {path: node for path, node in root["consolidated_metadata"]["metadata"].items()
                   if "cloudify_compound_of" in node.get("attributes", {})}
        assert members, name
        for path, node in members.items():
            assert not str(node["data_type"]).startswith("r"), (path, node["data_type"])
            codec = node["codecs"][0]
            if codec["name"] == "sharding_indexed":
                sharded += 1
                inner = codec["configuration"]["chunk_shape"]
                outer = node["chunk_grid"]["configuration"]["chunk_shape"]
                several += outer != inner
            z = zarr.open_array(store / path, mode="r", zarr_format=3)
            assert z.shape == tuple(node["shape"])
            z[...]
        for p in store.rglob("*"):
            if p.is_file():
                assert len(p.read_bytes()) == p.stat().st_size, p
    if layout.startswith("unsharded"):
        assert sharded == 0
    else:
        assert sharded
    if layout.startswith("small-shards"):
        assert several, "no shard of several member chunks"


def test_inspect_says_v3_has_no_structured_arrays():
    out = subprocess.run([str(CLOUDIFY), "inspect", str(FIXTURES / "compound_tables.h5")],
                         capture_output=True, text=True, check=True).stdout
    assert "never in v3: it has no structured type" in out


@pytest.fixture(scope="module")
def structured_server():
    with served(FIXTURES, "--structured-arrays") as url:
        yield url


@pytest.mark.parametrize("name", sorted(FILES))
def test_structured_arrays_over_http(structured_server, structured_mount, name):
    """`cloudify serve --structured-arrays`: every structured array and member zarr-python
    reads over HTTP equals the mount's, and xarray opens the store (structured arrays and
    all) over HTTP as through the mount."""
    url = f"{structured_server}/{store_of(structured_mount, name).name}"
    store = store_of(structured_mount, name)
    meta = json.loads((store / ".zmetadata").read_text())["metadata"]
    structured = [k[: -len("/.zarray")] for k, v in meta.items()
                  if k.endswith("/.zarray") and isinstance(v["dtype"], list)]
    members = [k[: -len("/.zarray")] for k in meta if k.endswith("/.zarray") and "." in k.split("/")[-2]]
    assert members, name
    for path in structured + members:
        got = zarr.open_array(f"{url}/{path}", mode="r")[()]
        want = zarr.open_array(store / path, mode="r")[()]
        assert got.dtype == want.dtype, path
        np.testing.assert_array_equal(got, want, err_msg=path)
    for group in {""} | {k.rsplit("/", 2)[0] for k in meta if k.count("/") >= 2}:
        kw = {"group": group} if group else {}
        xr.testing.assert_identical(xr.open_zarr(url, **kw).load(), xr.open_zarr(store, **kw).load())
