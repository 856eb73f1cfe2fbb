"""HDF5 files netCDF-C refuses to open (a soft or external link that leads nowhere): served
through the pure-HDF5 view, equal to what h5py reads, the dangling links left out with a reason.

Strings (variable- and fixed-length of more than one byte) are served as the netCDF-C path
serves strings (`vlen-utf8`, read by xarray as str): h5py's bytes decoded as UTF-8, a byte that
is not UTF-8 replaced (U+FFFD); a null dataspace (h5py's `Empty`) is a scalar read as "", and a
string attribute with one as "". One-byte fixed strings stay char arrays (`|S1`)."""
import json
import subprocess

import h5py
import numpy as np
import pytest
import xarray as xr

from conftest import FIXTURES, ROOT

NAME = "hdf5_dangling_links.h5"
STRINGS = "hdf5_dangling_strings.h5"  # strings and string attributes of every kind
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


def is_strings(dtype):
    """Served as strings: h5py's vlen strings and fixed-length strings longer than one byte."""
    return dtype.kind == "O" or (dtype.kind == "S" and dtype.itemsize > 1)


def text(b):
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b)


def served_value(v):
    """An attribute's value as the view serves it: strings decoded, one element a scalar,
    several flattened into a list, an `Empty` string the empty string."""
    if isinstance(v, h5py.Empty):
        return ""
    if isinstance(v, (bytes, str)):
        return text(v)
    v = np.asarray(v)
    if v.dtype.kind in "OS":
        items = [text(x) for x in v.ravel()]
        return items[0] if len(items) == 1 else items
    return v


def attrs_equal(got, want):
    want = {k: served_value(v) for k, v in want.items() if k not in HIDDEN}
    assert sorted(got) == sorted(want)
    for k, v in want.items():
        if isinstance(v, (str, list)):
            assert got[k] == v, k
        else:
            assert np.array_equal(np.asarray(got[k]), v), k


def test_netcdf_c_refuses_the_fixture():
    import netCDF4
    with pytest.raises(OSError, match="HDF error"):
        netCDF4.Dataset(FIXTURES / NAME)


@pytest.mark.parametrize("file_name", [NAME, STRINGS])
@pytest.mark.parametrize("mode", ["raw", "decoded"])
def test_what_h5py_reads_is_served(request, mode, file_name):
    mnt = request.getfixturevalue("fixtures_mount" if mode == "raw" else "fixtures_decoded_mount")
    store = mnt / file_name.replace(".h5", ".zarr")
    f, groups = h5py_datasets(FIXTURES / file_name)
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
                if isinstance(want, h5py.Empty):  # a null dataspace: a scalar without a value
                    assert got.shape == (), name
                    assert got[()] == ("" if is_strings(h5.dtype) else 0), name
                elif is_strings(h5.dtype):
                    assert got.dtype.kind in "OT" and got.shape == h5.shape, name  # object or StringDType
                    assert [str(s) for s in np.ravel(got)] == [text(s) for s in np.ravel(want)], name
                else:
                    # byte order aside (zarr hands big-endian data back in native order)
                    assert got.dtype.newbyteorder("=") == h5.dtype.newbyteorder("="), name
                    assert got.shape == h5.shape, name
                    assert np.array_equal(got, want), name
                attrs_equal(ds[name].attrs, dict(h5.attrs))
                for axis, (got_dim, want_dim) in enumerate(zip(ds[name].dims, dims_of(h5), strict=True)):
                    if want_dim is not None:
                        assert got_dim == want_dim, name
                        continue
                    # no scale: netCDF-C's rule, a dimension of the group of that length (a
                    # scale's) or a phony one (test_phony_dims checks the numbering)
                    scale = f[gpath].get(got_dim)
                    is_scale = scale is not None and scale.attrs.get("CLASS") == b"DIMENSION_SCALE"
                    assert got_dim.startswith("phony_dim_") or is_scale, (name, got_dim)
                    assert ds.sizes[got_dim] == h5.shape[axis], (name, got_dim)


def test_strings_fixture_covers_every_kind():
    """The fixture holds what the view must serve (a guard against a fixture that shrank)."""
    with h5py.File(FIXTURES / STRINGS) as f:
        datasets = [f[k] for k in f if k != "gone" and isinstance(f[k], h5py.Dataset)]
        strings = [d for d in datasets if h5py.check_string_dtype(d.dtype)]
        kinds = {(h5py.check_string_dtype(d.dtype).length is None, d.ndim) for d in strings}
        assert kinds >= {(vlen, ndim) for vlen in (True, False) for ndim in (0, 1, 2)}
        pads = {d.id.get_type().get_strpad() for d in strings if d.dtype.kind == "S"}
        assert pads == {h5py.h5t.STR_NULLPAD, h5py.h5t.STR_NULLTERM, h5py.h5t.STR_SPACEPAD}
        assert {d.id.get_type().get_cset() for d in strings} == {h5py.h5t.CSET_ASCII, h5py.h5t.CSET_UTF8}
        assert isinstance(f["vlen_null"][()], h5py.Empty) and isinstance(f["fixed_null"][()], h5py.Empty)
        assert b"\xe9" in f["fixed_latin1"][0] and len(f.attrs["fixed_long"]) > 4096


def test_strings_are_not_left_out():
    out = subprocess.run([str(ROOT / "target" / "debug" / "cloudify"), "inspect", str(FIXTURES / STRINGS)],
                         capture_output=True, text=True, check=True).stdout
    left_out = [line.split()[0] for line in out.splitlines() if "LEFT OUT" in line]
    assert left_out == ["gone"], out
    assert "fixed_space_padded       |O [3]" in out and "fixed_one_byte           |S1 [2]" in out


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


def test_the_strings_item_describes_the_served_variables(fixtures_mount):
    import stac_expect as X
    item = json.loads((fixtures_mount / "hdf5_dangling_strings.stac.json").read_text())
    assert not X.validate_item(item)
    meta = json.loads((fixtures_mount / "hdf5_dangling_strings.zarr" / ".zmetadata").read_text())
    served = sorted(k[: -len("/.zarray")] for k in meta["metadata"] if k.endswith("/.zarray"))
    props = item["properties"]
    assert props["title"] == "strings of every kind"
    # every served array but the coordinate is a cube variable; the coordinate its dimension
    assert sorted(props["cube:variables"]) == [a for a in served if a != "station"]
    assert props["cube:dimensions"]["station"]["extent"] == [0, 2]
    # a fixed-length string attribute made the description
    temperature = props["cube:variables"]["temperature"]
    assert temperature == {"dimensions": ["station"], "type": "data", "unit": "degC",
                           "description": "air temperature"}
