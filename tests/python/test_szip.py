"""szip (HDF5 filter 4) decoded in the daemon (issue 23, P5), through real mounts: every array
of fixtures/hdf5_szip.h5 (libaec's output for every option, see scripts/make_szip_fixtures.py)
read through Zarr equals h5py's values, dtype and byte order included, and xarray reads the
store as netCDF4 reads the file, in raw and decoded mode; with the index persisted, a second
mount reads every szip chunk while any worker given the file aborts (so no worker decodes
them), except the one array whose parameters are left to libhdf5 (4 pixels per block)."""
import errno
import shutil

import h5py
import numpy as np
import pytest
import zarr

from conftest import FIXTURES, mounted
from identity import compare

NAME = "hdf5_szip.h5"
# 4 pixels per block: not decoded in Rust, read through libhdf5 in a worker
LIBRARY = "ppb4_library_u2_nn4"


@pytest.fixture
def archive(tmp_path):
    a = tmp_path / "archive"
    a.mkdir()
    shutil.copy(FIXTURES / NAME, a / NAME)
    return a


def h5py_arrays(path):
    with h5py.File(path) as f:
        return {name: f[name][...] for name in f}


def assert_same(zarr_array, want, name):
    got = zarr_array[...]
    assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
    assert got.shape == want.shape, name
    assert got.tobytes() == want.tobytes(), name


@pytest.mark.parametrize("mode", ["raw", "decoded"])
def test_szip_arrays_equal_h5py_and_netcdf4(archive, tmp_path, mode):
    want = h5py_arrays(archive / NAME)
    assert len(want) >= 25
    with mounted(archive, "--index-dir", str(tmp_path / "index"), "--chunks", mode) as mnt:
        store = zarr.open_group(str(mnt / "hdf5_szip.zarr"), mode="r")
        for name, values in want.items():
            assert_same(store[name], values, name)
        for decode_cf in (True, False):
            compared = compare(archive / NAME, mnt / "hdf5_szip.zarr", "/", [], decode_cf)
            assert set(want) <= set(compared)
        log = (mnt.parent / (mnt.name + ".log")).read_text()
    # the parameters left to libhdf5 are named in the log, with the reason
    assert "szip chunks decoded by libhdf5" in log and "pixels per block other than 8" in log


def test_no_worker_decodes_szip_chunks(archive, tmp_path):
    index = tmp_path / "index"
    want = h5py_arrays(archive / NAME)
    with mounted(archive, "--index-dir", str(index)) as mnt:
        (mnt / "hdf5_szip.zarr" / ".zmetadata").read_bytes()  # indexed (by a worker) and persisted
    with mounted(archive, "--index-dir", str(index), env={"CLOUDIFY_TEST_WORKER_HOOK": "abort:hdf5_szip"}) as mnt:
        store = zarr.open_group(str(mnt / "hdf5_szip.zarr"), mode="r")
        for name, values in want.items():
            if name != LIBRARY:
                assert_same(store[name], values, name)
        # the hook does reach workers: the library-decoded array's chunks fail
        with pytest.raises(OSError) as e:
            (mnt / "hdf5_szip.zarr" / LIBRARY / "0.0").read_bytes()
        assert e.value.errno == errno.EIO
