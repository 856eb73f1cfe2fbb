"""`--chunks decoded --unpack`: CF-packed variables served unpacked, so that `xr.open_zarr` of
the mount equals `xr.open_dataset(file, engine="netcdf4")` in values and dtypes (float32 where
the packing attributes are float32, an integer type where an integer scale_factor alone gives
one), the packing attributes gone from `.zattrs`."""
import json
import subprocess

import netCDF4
import pytest

from conftest import BIN, CORPUS, FIXTURES, mounted
from identity import compare

# an integer scale_factor alone: xarray gives the attribute's integer type (packed_ints.nc:
# int8, int32, uint16, int64, int16 from int32 data), served unpacked in that type
INTEGER_UNPACKED = {"packed_kinds.nc": {"int_scale": "<i2"},
                    "packed_ints.nc": {"scale_int8": "|i1", "scale_int32": "<i4",
                                       "scale_uint16": "<u2", "scale_int64_on_ubyte": "<i8",
                                       "scale_int8_unsigned": "|i1",
                                       "scale_int16_on_int32": "<i2"}}
PACKING = {"scale_factor", "add_offset", "_Unsigned", "missing_value"}


def packed_variables(path):
    """{group: [packed variables]} of a file netCDF4 reads."""
    out = {}
    with netCDF4.Dataset(path) as ds:
        def walk(g, gpath):
            for name, v in g.variables.items():
                if {"scale_factor", "add_offset"} & set(v.ncattrs()):
                    out.setdefault(gpath, []).append(name)
            for sub_name, sub in g.groups.items():
                walk(sub, gpath.rstrip("/") + "/" + sub_name)
        walk(ds, "/")
    return out


FIXTURE_FILES = ["packed.nc", "packed_kinds.nc", "packed_ints.nc"]
CORPUS_FILES = sorted(p.name for p in CORPUS.iterdir()
                      if p.suffix not in (".md", "") and packed_variables(p)) if CORPUS.is_dir() else []


def test_the_files_are_packed():
    assert packed_variables(FIXTURES / "packed_kinds.nc")["/"] and CORPUS_FILES


@pytest.fixture(scope="module")
def unpacked_mounts():
    with mounted(FIXTURES, "--chunks", "decoded", "--unpack") as fx, \
         mounted(CORPUS, "-o", "chunks=decoded,unpack") as corpus:
        yield {FIXTURES: fx, CORPUS: corpus}


def store(mnt, name):
    return mnt / (name.rsplit(".", 1)[0] + ".zarr")


@pytest.mark.parametrize("where,name", [(FIXTURES, n) for n in FIXTURE_FILES]
                         + [(CORPUS, n) for n in CORPUS_FILES])
def test_unpacked_equals_netcdf4(unpacked_mounts, where, name):
    """Every group holding a packed variable, and the root (S5P has 1317 groups)."""
    src = where / name
    for group in sorted({"/", *packed_variables(src)}):
        compare(src, store(unpacked_mounts[where], name), group, unpacked=True)


@pytest.mark.parametrize("where,name", [(FIXTURES, n) for n in FIXTURE_FILES]
                         + [(CORPUS, n) for n in CORPUS_FILES])
def test_packing_attributes_are_gone(unpacked_mounts, where, name):
    meta = json.loads((store(unpacked_mounts[where], name) / ".zmetadata").read_text())["metadata"]
    for group, names in packed_variables(where / name).items():
        prefix = "/".join(p for p in group.split("/") if p)
        for v in names:
            key = f"{prefix}/{v}" if prefix else v
            assert not PACKING & set(meta[f"{key}/.zattrs"]), key
            zarray = meta[f"{key}/.zarray"]
            if v in INTEGER_UNPACKED.get(name, {}):
                # no fill value: xarray cannot mask integers (it fails on such a file)
                assert zarray["dtype"] == INTEGER_UNPACKED[name][v], key
                assert zarray["fill_value"] is None and "_FillValue" not in meta[f"{key}/.zattrs"]
            else:
                assert zarray["dtype"] in ("<f4", "<f8") and zarray["fill_value"] == "NaN", key


def test_integer_unpacked_values_wrap_as_numpy_does(unpacked_mounts):
    """The values xarray computes in the integer type (cast, then multiplied: both wrap)."""
    import numpy as np
    import xarray as xr
    want = xr.open_dataset(FIXTURES / "packed_ints.nc", engine="netcdf4")
    got = xr.open_zarr(store(unpacked_mounts[FIXTURES], "packed_ints.nc"))
    raw = want.scale_int8.encoding
    assert raw["dtype"] == np.int16 and want.scale_int8.dtype == np.int8
    for name in INTEGER_UNPACKED["packed_ints.nc"]:
        assert got[name].dtype == want[name].dtype, name
        np.testing.assert_array_equal(got[name].values, want[name].values, err_msg=name)
    with netCDF4.Dataset(FIXTURES / "packed_ints.nc") as ds:
        ds.set_auto_maskandscale(False)
        stored = ds["scale_int8"][:]
    assert (stored.astype(np.int8) * np.int8(3) == got.scale_int8.values).all()
    assert (np.abs(stored * 3) > 127).any()  # some values wrapped


def test_unpack_needs_decoded_chunks(tmp_path):
    r = subprocess.run([str(BIN), str(FIXTURES), str(tmp_path), "--unpack"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "--unpack needs --chunks decoded" in r.stderr


def test_a_collection_of_packed_members_is_unpacked(tmp_path):
    """Members packed alike (float32 scale/offset) joined along time: the joined store serves
    the members' chunks unpacked, equal to open_mfdataset in values and dtype."""
    import numpy as np
    import xarray as xr

    archive = tmp_path / "archive"
    archive.mkdir()
    for i, (a, b) in enumerate([("20000101", "20000110"), ("20000111", "20000120")]):
        with netCDF4.Dataset(archive / f"tas_day_{a}-{b}.nc", "w") as ds:
            ds.createDimension("time", None)
            ds.createDimension("x", 4)
            t = ds.createVariable("time", "f8", ("time",))
            t.units, t.calendar = "days since 2000-01-01", "standard"
            t[:] = np.arange(10) + 10 * i
            v = ds.createVariable("tas", "i2", ("time", "x"), fill_value=np.int16(-32767),
                                  chunksizes=(5, 4), zlib=True)
            v.set_auto_maskandscale(False)
            v.scale_factor, v.add_offset = np.float32(0.01), np.float32(273.15)
            raw = np.random.default_rng(i).integers(-3000, 3000, (10, 4)).astype("i2")
            raw[0, 0] = -32767
            v[:] = raw
    want = xr.open_mfdataset(sorted(archive.glob("*.nc")), engine="netcdf4", combine="by_coords").load()
    with mounted(archive, "--chunks", "decoded", "--unpack", "--index-dir", "none") as mnt:
        got = xr.open_zarr(mnt / "tas_day.zarr").load()
        assert got.tas.dtype == want.tas.dtype == np.float32
        xr.testing.assert_identical(got.tas, want.tas)
