"""Variable-length sequence variables in an aggregated dataset (issue 18): members named
`<stem>_<year>.nc` are joined along time; a vlen variable whose count has time as its first
dimension is joined as a ragged pair (counts along time, values end to end along `v.values`)
and rebuilds to the members' sequences one after another, as netCDF4 reads them; one whose
time is not the count's first dimension would interleave the members' sequences, so the pair
is left out with the reason (inspect says it), and the rest of the dataset is served."""
import subprocess

import netCDF4
import numpy as np
import pytest
import xarray as xr

from conftest import CLOUDIFY, MODES, mounted
from identity import ragged_objects

ROWS = {2000: [[1, 2], [], [3]], 2001: [[4, 5, 6], [7]], 2002: [[], [8, 9]]}


def make(archive):
    """Three yearly members: `v(time)` (joinable), `w(station, time)` (time second) and `x`."""
    for k, (year, rows) in enumerate(ROWS.items()):
        with netCDF4.Dataset(archive / f"obs_{year}.nc", "w") as ds:
            ds.createDimension("time", None)
            ds.createDimension("station", 2)
            t = ds.createVariable("time", "f8", ("time",))
            t.units = "days since 2000-01-01"
            t[:] = np.arange(len(rows)) + 10 * k
            seq = ds.createVLType(np.int32, "seq_t")
            v = ds.createVariable("v", seq, ("time",))
            v.long_name = "ragged rows"
            for i, row in enumerate(rows):
                v[i] = np.array(row, "i4")
            w = ds.createVariable("w", seq, ("station", "time"))
            for s in range(2):
                for i in range(len(rows)):
                    w[s, i] = np.arange(s + i, dtype="i4")
            ds.createVariable("x", "f4", ("time",))[:] = np.arange(len(rows)) + k


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("vlen-collection")
    make(root)
    return root


def expected(archive, name):
    """Every member's sequences of `name` in time order, as netCDF4 reads them."""
    out = []
    for year in ROWS:
        with netCDF4.Dataset(archive / f"obs_{year}.nc") as nc:
            out.extend(nc[name][:])
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_joined_ragged_pair_rebuilds_every_members_sequences(archive, mode, zarr_format):
    args = (*MODES[mode], "--zarr-format", str(zarr_format), "--index-dir", "none")
    with mounted(archive, *args) as mnt:
        ds = xr.open_zarr(mnt / "obs.zarr", zarr_format=zarr_format).load()
    assert ds.v.attrs["_cloudify_vlen_count"] == "v.count"
    assert ds["v.count"].dims == ("time",) and ds["v.count"].attrs["sample_dimension"] == "v.values"
    assert ds.sizes["v.values"] == sum(len(r) for rows in ROWS.values() for r in rows)
    got = ragged_objects(ds.v.values, ds["v.count"].values)
    want = expected(archive, "v")
    assert len(got) == len(want) == ds.sizes["time"]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == np.asarray(w).dtype
    np.testing.assert_array_equal(ds.x.values, np.concatenate([np.arange(len(r)) + k for k, r in
                                                               enumerate(ROWS.values())]))
    assert "w" not in ds.variables and "w.count" not in ds.variables
    assert "w.values" not in ds.sizes


def test_inspect_says_why_a_pair_is_left_out(archive):
    out = subprocess.run([str(CLOUDIFY), "inspect", str(archive)], capture_output=True, text=True,
                         check=True).stdout
    collection = out[out.index("collection obs.zarr"):]
    assert "w                    left out: variable-length sequences (CF ragged pair with w.count) " \
           "joined along time, which is not the first dimension of w.count" in collection
    assert "w.count              left out: the values of its sequences (w) are left out" in collection
    total = sum(len(r) for rows in ROWS.values() for r in rows)
    assert "v                    [" in collection and f"dimension v.values: {total}" in collection
    assert "dimension w.values" not in collection
