"""What h5py reads and netCDF-C does not list (issue 18), through real mounts, against h5py:
vlen sequences of numbers (and a compound's vlen member) as CF contiguous ragged pairs
(`v` along `v.values` + `v.count`), opaque data as `|V<n>` (v3: `raw_bytes`), bitfields as
unsigned integers, object references as the referenced objects' paths, region references as
the path and selection (`/sub/grid[0:2,1:3]`, `/sub/grid{(0,1),(2,3)}`), a null-dataspace vlen
as an empty pair; a vlen whose pair names are taken renamed (`v.count_1`). Read with xarray + zarr-python 3 (Zarr v2 raw and decoded, Zarr v3
sharded) and with zarr-python 2.18."""
import json
import subprocess

import h5py
import numpy as np
import pytest
import xarray as xr

from conftest import CLOUDIFY, FIXTURES, PY2, mounted
from identity import ragged_objects

NAME = "hdf5_plain_types.h5"
STORE = "hdf5_plain_types.zarr"
LEFT_OUT = {}


def region_text(f, ref):
    """The served string of region reference `ref`, rebuilt from h5py: the dataset's path,
    then each hyperslab block `[start:stop,…]`, the points `{(i,j),…}`, the whole extent as
    one block, `{}` for no element; `""` for a null reference."""
    if not ref:
        return ""
    space = h5py.h5r.get_region(ref, f.id)
    kind = space.get_select_type()
    if kind == h5py.h5s.SEL_NONE:
        selection = "{}"
    elif kind == h5py.h5s.SEL_ALL:
        selection = "[" + ",".join(f"0:{n}" for n in space.shape) + "]"
    elif kind == h5py.h5s.SEL_HYPERSLABS:
        blocks = space.get_select_hyper_blocklist()  # (block, corner, axis), last inclusive
        selection = "".join("[" + ",".join(f"{s}:{e + 1}" for s, e in zip(*b)) + "]" for b in blocks)
    else:
        points = space.get_select_elem_pointlist()
        selection = "{" + ",".join("(" + ",".join(str(i) for i in p) + ")" for p in points) + "}"
    return f[ref].name + selection


@pytest.fixture(scope="module")
def v3_mount():
    with mounted(FIXTURES, "--zarr-format", "3") as mnt:
        yield mnt


def is_vlen(dtype):
    base = h5py.check_vlen_dtype(dtype)
    return base is not None and base not in (str, bytes)


def served(mnt, zarr_format=None):
    kw = {} if zarr_format is None else {"zarr_format": zarr_format}
    return xr.open_zarr(mnt / STORE, **kw).load()


def check_ragged(ds, name, want, base):
    """The ragged pair `name` equals h5py's sequences `want` (an object array, or one sequence
    for a scalar), values in h5py's element type (native byte order)."""
    count = f"{name}.count"
    assert ds[name].attrs["_cloudify_vlen_count"] == count
    assert ds[name].dims == (f"{name}.values",)
    assert ds[count].attrs["sample_dimension"] == f"{name}.values"
    assert ds[count].dtype == np.int32
    got = ragged_objects(ds[name].values, ds[count].values)
    want = np.asarray(want, dtype=object) if got.shape else np.array(want)
    assert got.shape == np.shape(want) if got.shape else got.shape == ()
    pairs = zip(want.ravel(), got.ravel()) if got.shape else [(want, got[()])]
    for w, g in pairs:
        np.testing.assert_array_equal(g, w, err_msg=name)
    assert ds[name].dtype == np.dtype(base).newbyteorder("="), (name, ds[name].dtype, base)


def check_everything(ds):
    import netCDF4
    # netCDF-C reads the vlen variables it lists through libhdf5's conversions; h5py 3.16
    # returns a big-endian vlen's bytes unswapped, labelled native (ragged_be_i2: 300 read as
    # 11265), so netCDF4-python is the reference for those, h5py for the rest
    with netCDF4.Dataset(FIXTURES / NAME) as nc:
        by_netcdf = {n: v[...] for n, v in nc.variables.items()}
    with h5py.File(FIXTURES / NAME) as f:
        compared = set()
        for name, h5 in f.items():
            if not isinstance(h5, h5py.Dataset) or name in LEFT_OUT:
                continue
            data = h5[()]
            if is_vlen(h5.dtype):
                check_ragged(ds, name, by_netcdf.get(name, data), h5py.check_vlen_dtype(h5.dtype))
                compared |= {name, f"{name}.count"}
            elif h5.dtype.kind == "V" and h5.dtype.names is None:  # opaque
                assert ds[name].dtype == h5.dtype, name
                assert ds[name].values.tobytes() == data.tobytes(), name
                compared.add(name)
            elif h5py.check_ref_dtype(h5.dtype) is h5py.Reference:
                want = np.array([f[r].name if r else "" for r in data.ravel()]).reshape(data.shape)
                np.testing.assert_array_equal(np.array(ds[name].values.tolist()), want, err_msg=name)
                assert ds[name].attrs["_cloudify_reference"] == "object"
                compared.add(name)
            elif h5py.check_ref_dtype(h5.dtype) is h5py.RegionReference:
                want = np.array([region_text(f, r) for r in data.ravel()]).reshape(data.shape)
                np.testing.assert_array_equal(np.array(ds[name].values.tolist()), want, err_msg=name)
                assert ds[name].attrs["_cloudify_reference"] == "region"
                compared.add(name)
            elif h5.dtype.names:  # compound with a vlen member
                for member in h5.dtype.names:
                    field = data[member]
                    if f"{name}.{member}" in LEFT_OUT:
                        continue
                    if h5py.check_ref_dtype(h5.dtype.fields[member][0]) is h5py.Reference:
                        want = [f[r].name if r else "" for r in field]
                        assert ds[f"{name}.{member}"].values.tolist() == want, (name, member)
                        assert ds[f"{name}.{member}"].attrs["_cloudify_reference"] == "object"
                        compared.add(f"{name}.{member}")
                        continue
                    if h5py.check_ref_dtype(h5.dtype.fields[member][0]) is h5py.RegionReference:
                        want = [region_text(f, r) for r in field]
                        assert ds[f"{name}.{member}"].values.tolist() == want, (name, member)
                        assert ds[f"{name}.{member}"].attrs["_cloudify_reference"] == "region"
                        compared.add(f"{name}.{member}")
                        continue
                    if is_vlen(h5.dtype.fields[member][0]):
                        check_ragged(ds, f"{name}.{member}", field,
                                     h5py.check_vlen_dtype(h5.dtype.fields[member][0]))
                        compared |= {f"{name}.{member}", f"{name}.{member}.count"}
                        continue
                    if field.dtype == object:
                        field = np.array([x.decode() for x in field])
                        np.testing.assert_array_equal(np.array(ds[f"{name}.{member}"].values.tolist()), field)
                    else:  # numbers, opaque (void) and bitfield (unsigned) members
                        got = ds[f"{name}.{member}"]
                        assert got.dtype == field.dtype.newbyteorder("="), (name, member, got.dtype)
                        np.testing.assert_array_equal(got.values, field)
                    compared.add(f"{name}.{member}")
            else:  # bitfields (h5py: unsigned integers) and plain numbers (xarray: native order)
                assert ds[name].dtype == h5.dtype.newbyteorder("="), (name, ds[name].dtype, h5.dtype)
                np.testing.assert_array_equal(ds[name].values, data, err_msg=name)
                compared.add(name)
    assert set(ds.variables) == compared, set(ds.variables) ^ compared
    assert not set(LEFT_OUT) & set(ds.variables)


@pytest.mark.parametrize("mode", ["raw", "decoded"])
def test_zarr_v2_mount_reads_what_h5py_reads(request, mode):
    mnt = request.getfixturevalue("fixtures_mount" if mode == "raw" else "fixtures_decoded_mount")
    check_everything(served(mnt))
    meta = json.loads((mnt / STORE / ".zmetadata").read_text())["metadata"]
    assert meta["opaque/.zarray"]["dtype"] == "|V6"
    assert meta["bits32_be/.zarray"]["dtype"] == ">u4" and meta["bits8/.zarray"]["dtype"] == "|u1"
    assert meta["refs/.zarray"]["filters"] == [{"id": "vlen-utf8"}]


def test_zarr_v3_mount_reads_what_h5py_reads(v3_mount):
    check_everything(served(v3_mount, 3))
    opaque = json.loads((v3_mount / STORE / "opaque" / "zarr.json").read_text())
    assert opaque["data_type"] == {"name": "raw_bytes", "configuration": {"length_bytes": 6}}
    assert opaque["fill_value"] == "AAAAAAAA"


def test_zarr2_reads_them_too(fixtures_mount):
    script = f"""
import json, sys, numpy as np, xarray as xr, zarr
sys.path.insert(0, {str(FIXTURES.parent / "tests" / "python")!r})
from identity import ragged_objects
ds = xr.open_zarr({str(fixtures_mount / STORE)!r}).load()
print(json.dumps({{"ragged_i4": [x.tolist() for x in ragged_objects(ds.ragged_i4.values, ds["ragged_i4.count"].values)],
                  "opaque": ds.opaque.values.tobytes().hex(), "refs": ds.refs.values.tolist(),
                  "bits32_be": ds.bits32_be.values.tolist()}}))
"""
    r = subprocess.run([str(PY2), "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout)
    with h5py.File(FIXTURES / NAME) as f:
        assert got["ragged_i4"] == [x.tolist() for x in f["ragged_i4"][()]]
        assert got["opaque"] == f["opaque"][()].tobytes().hex()
        assert got["refs"] == [f[r].name if r else "" for r in f["refs"][()]]
        assert got["bits32_be"] == f["bits32_be"][()].tolist()


def test_inspect_leaves_nothing_out():
    out = subprocess.run([str(CLOUDIFY), "inspect", str(FIXTURES / NAME)],
                         capture_output=True, text=True, check=True).stdout
    assert "LEFT OUT" not in out, out
    assert "region-reference member where of compound links" in out
    assert "region references as the path and selection" in out
    assert "object-reference member target of compound links" in out
    assert "a CF contiguous ragged array" in out and "object references" in out


def test_region_strings_are_the_documented_form(fixtures_mount):
    """The form itself, spelled out once (the identity test rebuilds it from h5py)."""
    ds = served(fixtures_mount)
    assert ds.region_refs.values.tolist() == [
        "/sub/target[1:3]", "/sub/grid[0:2,1:3]", "/sub/grid[0:1,0:2][3:4,3:5]",
        "/sub/grid{(0,1),(2,3),(3,4)}", "/sub/target[0:4]", "/sub/target{}", ""]
    assert ds["links.where"].values.tolist() == ["/sub/target[0:4]", "/sub/target[1:4]",
                                                 "/sub/target[2:4]"]


def test_null_dataspace_vlen_is_an_empty_pair(fixtures_mount, v3_mount):
    """A null-dataspace vlen (h5py: `Empty`; netCDF-C refuses the file, so the pure-HDF5 view
    serves it): `v` of length 0 and a scalar `v.count` without a value (0), as null strings and
    numbers are served; the other datasets as h5py reads them."""
    for mnt, kw in ((fixtures_mount, {}), (v3_mount, {"zarr_format": 3})):
        ds = xr.open_zarr(mnt / "hdf5_null_vlen.zarr", **kw).load()
        with h5py.File(FIXTURES / "hdf5_null_vlen.h5") as f:
            assert isinstance(f["ragged_null"][()], h5py.Empty)
            assert ds.ragged_null.shape == (0,) and ds.ragged_null.dims == ("ragged_null.values",)
            assert ds["ragged_null.count"].shape == () and ds["ragged_null.count"].values == 0
            assert ds["ragged_null.count"].attrs["sample_dimension"] == "ragged_null.values"
            check_ragged(ds, "ragged_one", f["ragged_one"][()], "f4")
            np.testing.assert_array_equal(ds.x.values, f["x"][()])
            assert set(ds.variables) == {"ragged_null", "ragged_null.count", "ragged_one",
                                         "ragged_one.count", "x"}
    out = subprocess.run([str(CLOUDIFY), "inspect", str(FIXTURES / "hdf5_null_vlen.h5")],
                         capture_output=True, text=True, check=True).stdout
    assert "LEFT OUT" not in out, out
    item = json.loads((fixtures_mount / "hdf5_null_vlen.stac.json").read_text())
    cube = item["properties"]["cube:variables"]
    assert set(cube) == {"ragged_null", "ragged_null.count", "ragged_one", "ragged_one.count", "x"}
    assert cube["ragged_null"]["dimensions"] == ["ragged_null.values"]
    assert cube["ragged_null.count"]["dimensions"] == []


def test_vlen_pair_names_taken_before_or_after_are_renamed(fixtures_mount):
    """`a.count` before vlen `a`, `b.count` after vlen `b`, a dimension `c.values` before vlen
    `c`: each pair takes `_1`, the other variables stay as netCDF4 reads them."""
    import netCDF4
    ds = xr.open_zarr(fixtures_mount / "vlen_name_clash.zarr").load()
    with netCDF4.Dataset(FIXTURES / "vlen_name_clash.nc") as nc:
        for name in ("a", "b", "c"):
            count = f"{name}.count_1"
            assert ds[name].attrs["_cloudify_vlen_count"] == count
            assert ds[name].dims == (f"{name}.values_1",)
            assert ds[count].attrs["sample_dimension"] == f"{name}.values_1"
            got = ragged_objects(ds[name].values, ds[count].values)
            want = nc[name][:]
            assert len(got) == len(want)
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g, w, err_msg=name)
        for name in ("a.count", "b.count", "w"):
            np.testing.assert_array_equal(ds[name].values, nc[name][:], err_msg=name)
        assert ds.w.dims == ("c.values",)
    out = subprocess.run([str(CLOUDIFY), "inspect", str(FIXTURES / "vlen_name_clash.nc")],
                         capture_output=True, text=True, check=True).stdout
    assert "LEFT OUT" not in out
    assert out.count("(renamed: ") == 3, out


def test_netcdf_vlen_variable_equals_netcdf4():
    """A netCDF-4 vlen variable (listed by netCDF-C, read through libhdf5) as netCDF4 reads it."""
    import netCDF4
    with mounted(FIXTURES) as mnt:
        ds = xr.open_zarr(mnt / "unsupported_types.zarr").load()
    with netCDF4.Dataset(FIXTURES / "unsupported_types.nc") as nc:
        want = nc["ragged"][:]
    check_ragged(ds, "ragged", want, "i4")


def test_stac_item_names_every_array(fixtures_mount):
    item = json.loads((fixtures_mount / "hdf5_plain_types.stac.json").read_text())
    meta = json.loads((fixtures_mount / STORE / ".zmetadata").read_text())["metadata"]
    arrays = {k[: -len("/.zarray")] for k in meta if k.endswith("/.zarray")}
    assert set(item["properties"]["cube:variables"]) == arrays
    cube = item["properties"]["cube:variables"]
    assert cube["ragged_i4"]["dimensions"] == ["ragged_i4.values"]
    assert cube["ragged_i4.count"]["dimensions"] == list(meta["ragged_i4.count/.zattrs"]["_ARRAY_DIMENSIONS"])
    assert "ragged_i4.values" in item["properties"]["cube:dimensions"]


OPAQUE_CDL = """netcdf op {
types:
  opaque(5) blob_t;
dimensions:
  n = 3 ;
variables:
  blob_t blob(n) ;
    blob:long_name = "five bytes" ;
  float x(n) ;
data:
  blob = 0X0102030405, 0XAABBCCDDEE, 0X0000000000 ;
  x = 1, 2, 3 ;
}
"""


def test_netcdf4_opaque_variable_is_served_as_h5py_reads_it(tmp_path):
    """An NC_OPAQUE variable (netCDF4-python skips it; ncgen writes it) as h5py reads it."""
    archive = tmp_path / "archive"
    archive.mkdir()
    (tmp_path / "op.cdl").write_text(OPAQUE_CDL)
    subprocess.run(["ncgen", "-k", "nc4", "-o", str(archive / "op.nc"), str(tmp_path / "op.cdl")],
                   check=True)
    with h5py.File(archive / "op.nc") as f:
        want = f["blob"][()]
    for args in ((), ("--zarr-format", "3")):
        with mounted(archive, "--index-dir", "none", *args) as mnt:
            ds = xr.open_zarr(mnt / "op.zarr", **({"zarr_format": 3} if args else {})).load()
        assert ds.blob.dtype == want.dtype == np.dtype("V5")
        assert ds.blob.values.tobytes() == want.tobytes()
        assert ds.blob.attrs["long_name"] == "five bytes"
        np.testing.assert_array_equal(ds.x.values, [1, 2, 3])
