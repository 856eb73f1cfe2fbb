"""HDF5 files netCDF-C refuses to open (a soft or external link that leads nowhere): served
through the pure-HDF5 view, equal to what h5py reads, the dangling links left out with a reason."""
import json
import subprocess

import h5py
import numpy as np
import pytest
import xarray as xr

from conftest import FIXTURES, ROOT

NAME = "hdf5_dangling_links.h5"
# link -> why it is left out
DANGLING = {"/gone": "soft link that leads nowhere", "/sub/gone_too": "soft link that leads nowhere",
            "/elsewhere": "external link that leads nowhere"}


def h5py_datasets(path):
    """Every dataset h5py reads, by group: {group: {name: dataset}}; links that lead nowhere
    are skipped (h5py raises KeyError on them)."""
    out = {}

    def walk(g, gpath):
        members = out.setdefault(gpath, {})
        for name in g:
            try:
                obj = g[name]
            except KeyError:
                continue
            if isinstance(obj, h5py.Group):
                walk(obj, gpath.rstrip("/") + "/" + name)
            else:
                members[name] = obj[()]
    f = h5py.File(path)
    walk(f, "/")
    return f, out


# netCDF-C's reserved attributes (dimension scale bookkeeping): hidden, as netCDF-C hides them
HIDDEN = {"CLASS", "DIMENSION_LIST", "NAME", "REFERENCE_LIST"}


def dims_of(h5):
    """netCDF-C's dimension names: the attached scale's, else a phony dimension (None)."""
    if h5.attrs.get("CLASS") == b"DIMENSION_SCALE":
        return [h5.name.rsplit("/", 1)[1]]
    return [d[0].name.rsplit("/", 1)[1] if len(d) else None for d in h5.dims]


def attrs_equal(got, want):
    want = {k: v for k, v in want.items() if k not in HIDDEN}
    assert sorted(got) == sorted(want)
    for k, v in want.items():
        assert np.array_equal(np.asarray(got[k]), np.asarray(v)), k


def test_netcdf_c_refuses_the_fixture():
    import netCDF4
    with pytest.raises(OSError, match="HDF error"):
        netCDF4.Dataset(FIXTURES / NAME)


@pytest.mark.parametrize("mode", ["raw", "decoded"])
def test_what_h5py_reads_is_served(request, mode):
    mnt = request.getfixturevalue("fixtures_mount" if mode == "raw" else "fixtures_decoded_mount")
    store = mnt / "hdf5_dangling_links.zarr"
    f, groups = h5py_datasets(FIXTURES / NAME)
    with f:
        assert sorted(groups) == ["/", "/sub"]
        for gpath, members in groups.items():
            kw = {} if gpath == "/" else {"group": gpath.lstrip("/")}
            ds = xr.open_zarr(store, decode_cf=False, **kw).load()
            assert sorted(ds.variables) == sorted(members), gpath
            attrs_equal(ds.attrs, dict(f[gpath].attrs))
            for name, want in members.items():
                got = ds[name].values
                h5 = f[gpath][name]
                if h5.dtype.kind == "O":
                    want = np.array([s.decode() for s in np.ravel(want)]).reshape(np.shape(want))
                    assert [str(s) for s in np.ravel(got)] == list(np.ravel(want)), name
                else:
                    # byte order aside (zarr hands big-endian data back in native order)
                    assert got.dtype.newbyteorder("=") == h5.dtype.newbyteorder("="), name
                    assert got.shape == h5.shape, name
                    assert np.array_equal(got, want), name
                attrs_equal(ds[name].attrs, dict(h5.attrs))
                for got_dim, want_dim in zip(ds[name].dims, dims_of(h5), strict=True):
                    assert got_dim == want_dim or (want_dim is None and got_dim.startswith("phony_dim_"))


def test_dangling_links_are_left_out_with_the_reason(fixtures_mount):
    meta = json.loads((fixtures_mount / "hdf5_dangling_links.zarr" / ".zmetadata").read_text())
    keys = meta["metadata"]
    for link in DANGLING:
        assert f"{link.lstrip('/')}/.zarray" not in keys
    out = subprocess.run([str(ROOT / "target" / "debug" / "cloudify"), "inspect", str(FIXTURES / NAME)],
                         capture_output=True, text=True, check=True).stdout
    for link, why in DANGLING.items():
        name = link.rsplit("/", 1)[1]
        line = next(l for l in out.splitlines() if l.strip().startswith(name + " "))
        assert "LEFT OUT" in line and why in line, line
    assert "temperature" in out and "alias" in out
    assert 'dims ["y", "phony_dim_' in out


def test_the_stac_item_describes_the_served_variables(fixtures_mount):
    """The item validates, and its datacube lists what the view serves (netCDF4, the STAC
    tests' reference reader, cannot open the file: checked here by hand)."""
    import stac_expect as X
    item = json.loads((fixtures_mount / "hdf5_dangling_links.stac.json").read_text())
    assert not X.validate_item(item)
    props = item["properties"]
    assert props["title"] == "dangling links"
    cube = props["cube:variables"]
    assert sorted(cube) == ["alias", "counts", "flag", "labels", "sub/x", "temperature"]
    assert cube["temperature"]["dimensions"][0] == "y" and cube["temperature"]["unit"] == "K"
    assert props["cube:dimensions"]["y"]["values"] == [0.0, 1.0, 2.0, 3.0]
