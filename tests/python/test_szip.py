"""szip (HDF5 filter 4) decoded in the daemon (issue 23, P5), through real mounts: every array
of fixtures/hdf5_szip.h5 (libaec's output for every option, see scripts/make_szip_fixtures.py)
and nc4_szip.nc (netCDF-C's, read by the native reader) read through Zarr equals h5py's
values, dtype and byte order included, and xarray reads the stores as netCDF4 reads the files,
in raw and decoded mode; with the index persisted, a second mount reads every szip chunk while
any worker given the files aborts (so no worker decodes them), except the one array whose
parameters are left to libhdf5 (4 pixels per block)."""
import errno
import shutil

import h5py
import numpy as np
import pytest
import zarr

from conftest import FIXTURES, mounted
from identity import compare

NAMES = ["hdf5_szip.h5", "nc4_szip.nc"]
# 4 pixels per block: not decoded in Rust, read through libhdf5 in a worker
LIBRARY = "ppb4_library_u2_nn4"


@pytest.fixture
def archive(tmp_path):
    a = tmp_path / "archive"
    a.mkdir()
    for name in NAMES:
        shutil.copy(FIXTURES / name, a / name)
    return a


def h5py_arrays(archive):
    """{(store, array): values} of every dataset of the fixtures."""
    out = {}
    for name in NAMES:
        with h5py.File(archive / name) as f:
            store = name.rsplit(".", 1)[0] + ".zarr"
            out.update({(store, k): f[k][...] for k in f if not dimension_only(f[k])})
    return out


def dimension_only(ds):
    """netCDF-C's dataset for a dimension without a variable (not a netCDF variable)."""
    return str(ds.attrs.get("NAME", b"")).find("This is a netCDF dimension but not") >= 0


def assert_same(zarr_array, want, name):
    got = zarr_array[...]
    assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
    assert got.shape == want.shape, name
    assert got.tobytes() == want.tobytes(), name


@pytest.mark.parametrize("mode", ["raw", "decoded"])
def test_szip_arrays_equal_h5py_and_netcdf4(archive, tmp_path, mode):
    want = h5py_arrays(archive)
    assert len(want) >= 30
    with mounted(archive, "--index-dir", str(tmp_path / "index"), "--chunks", mode) as mnt:
        for (store, name), values in want.items():
            assert_same(zarr.open_group(str(mnt / store), mode="r")[name], values, name)
        for file_name in NAMES:
            store = file_name.rsplit(".", 1)[0] + ".zarr"
            for decode_cf in (True, False):
                compared = compare(archive / file_name, mnt / store, "/", [], decode_cf)
                assert {n for s, n in want if s == store} <= set(compared)
        log = (mnt.parent / (mnt.name + ".log")).read_text()
    # the parameters left to libhdf5 are named in the log, with the reason
    assert "szip chunks decoded by libhdf5" in log and "pixels per block other than 8" in log


def test_no_worker_decodes_szip_chunks(archive, tmp_path):
    index = tmp_path / "index"
    want = h5py_arrays(archive)
    with mounted(archive, "--index-dir", str(index)) as mnt:
        for name in NAMES:  # indexed (h5py's file by a worker) and persisted
            (mnt / (name.rsplit(".", 1)[0] + ".zarr") / ".zmetadata").read_bytes()
    with mounted(archive, "--index-dir", str(index), env={"CLOUDIFY_TEST_WORKER_HOOK": "abort:szip"}) as mnt:
        for (store, name), values in want.items():
            if name != LIBRARY:
                assert_same(zarr.open_group(str(mnt / store), mode="r")[name], values, name)
        # the hook does reach workers: the library-decoded array's chunks fail
        with pytest.raises(OSError) as e:
            (mnt / "hdf5_szip.zarr" / LIBRARY / "0.0").read_bytes()
        assert e.value.errno == errno.EIO
