"""Null-dataspace (H5S_NULL) and empty strings, read through a mount as h5py reads them.

netCDF-C lists a null-dataspace string dataset as a scalar string but fails to read it (and
netCDF4-python 1.7 / h5netcdf cannot open such a file at all): h5py is the reference. A null
dataspace holds no value (h5py's `Empty`); it is served as a scalar without a chunk, read as
the empty string, as a null numeric dataset is served as a scalar of its fill value. Empty
vlen strings are values like any other.
"""
import subprocess

import h5py
import numpy as np
import zarr

from conftest import BIN, mounted

STRINGS = h5py.string_dtype()


def make(path):
    with h5py.File(path, "w") as f:
        f.create_dataset("null_vstr", data=h5py.Empty(STRINGS))
        f.create_dataset("null_fstr", data=h5py.Empty("S8"))
        f.create_dataset("null_f4", data=h5py.Empty("f4"))
        f.create_dataset("empty_vstrs", data=np.array(["", "", ""], dtype=object), dtype=STRINGS)
        f.create_dataset("mixed_vstrs", data=np.array(["a", "", "ccc"], dtype=object), dtype=STRINGS)
        f.create_dataset("scalar_empty_vstr", data="", dtype=STRINGS)
        f.create_dataset("zero_len_vstr", shape=(0,), dtype=STRINGS)
        f.create_dataset("x", data=np.arange(3.0))
        f.attrs["null_attr"] = h5py.Empty("f4")


def decoded(value):
    if isinstance(value, h5py.Empty):
        return None
    if isinstance(value, bytes):
        return np.asarray(value.decode())
    value = np.asarray(value)
    if value.dtype == object:
        return np.vectorize(lambda b: b.decode(), otypes=[object])(value) if value.size else value
    return value


def test_null_and_empty_strings_are_served(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    make(archive / "nulls.h5")
    inspect = subprocess.run([str(BIN.with_name("cloudify")), "inspect", str(archive / "nulls.h5")],
                             capture_output=True, text=True, check=True).stdout
    assert "LEFT OUT" not in inspect, inspect
    with mounted(archive) as mnt, h5py.File(archive / "nulls.h5") as f:
        g = zarr.open_group(str(mnt / "nulls.zarr"), mode="r")
        assert sorted(g.array_keys()) == sorted(f.keys())
        for name in f:
            want = decoded(f[name][()])
            got = np.asarray(g[name][...])
            if want is None:  # a null dataspace: a scalar without a value
                assert g[name].shape == ()
                assert got == ("" if f[name].dtype.kind in "OS" else 0), name
            else:
                assert got.shape == want.shape, name
                assert [str(v) for v in np.ravel(got)] == [str(v) for v in np.ravel(want)], name
