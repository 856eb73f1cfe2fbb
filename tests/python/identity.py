"""What xarray reads through the mount must equal what it reads from the file."""
import hdf5plugin  # noqa: F401 (h5py's Blosc, zstd, LZ4, bzip2 filters; before netCDF4)
import netCDF4
import numpy as np
import xarray as xr
from xarray.core.utils import dict_equiv


def group_paths(path):
    """Every group of a file, root first ("/", "/a", "/a/b", ...)."""
    import h5py
    if h5py.is_hdf5(path):
        out = ["/"]
        with h5py.File(path) as f:
            f.visititems(lambda name, obj: out.append("/" + name)
                         if isinstance(obj, h5py.Group) else None)
        return out
    out = []
    with netCDF4.Dataset(path) as ds:
        def walk(g, p):
            out.append(p)
            for name, sub in g.groups.items():
                walk(sub, (p.rstrip("/") + "/" + name))
        walk(ds, "/")
    return out


def _packed_float32(var):
    """A float32 scale_factor/add_offset: JSON has no float32, so xarray decodes such data to
    float64 from any Zarr v2 store (its own to_zarr round trip does the same)."""
    enc = var.encoding
    return any(isinstance(enc.get(k), np.float32) for k in ("scale_factor", "add_offset"))


def _as_float(values):
    """Numbers as float64; datetimes/timedeltas as float64 seconds (NaT as NaN)."""
    if np.issubdtype(values.dtype, np.datetime64) or np.issubdtype(values.dtype, np.timedelta64):
        ns = values.astype("datetime64[ns]" if values.dtype.kind == "M" else "timedelta64[ns]")
        out = ns.astype("int64").astype("float64") / 1e9
        out[np.isnat(ns)] = np.nan
        return out
    return values.astype("float64")


def without_compounds(expected, actual):
    """Both datasets without compound variables: the store's arrays cut from them (members
    `v.m` and the structured `v`, each with `cloudify_compound_of` or named by one) and the
    file's structured variables. xarray's netcdf4 engine shows what netCDF-C makes of a
    compound (some it does not list, fixed strings cut to one byte): test_compound.py compares
    them with h5py's and netCDF4-python's values instead."""
    members = {n for n, v in actual.variables.items() if "cloudify_compound_of" in v.attrs}
    parents = {actual[n].attrs["cloudify_compound_of"] for n in members}
    structured = {n for n, v in expected.variables.items() if v.dtype.names}
    expected = expected.drop_vars(sorted((parents | structured) & set(expected.variables)))
    actual = actual.drop_vars(sorted((members | parents) & set(actual.variables)))
    return expected, actual


def compare(src, store, group, left_out=(), decode_cf=True, engine="netcdf4", decode_times=None,
            unpacked=False, dtype_differs=(), zarr_format=None, fill_bits=(), open_store=None):
    """assert_identical of one group; returns the names compared. `unpacked`: the store serves
    packed variables unpacked (`--unpack`): values identical with no float32 allowance, and
    every variable's dtype the same (but those in `dtype_differs`). `zarr_format`: read the
    store as that Zarr version only (3 for a v3 mount). `fill_bits`: variables whose
    `_FillValue` the store gives as the same bits read signed (a v3 store, `_Unsigned`
    variables: xarray needs it so); compared as bits, then set aside. `open_store`: how the
    store is opened (default `xr.open_zarr`), called with the store and xarray's options."""
    kw = {} if group == "/" else {"group": group.lstrip("/")}
    if decode_times is not None:
        kw["decode_times"] = decode_times
    expected = xr.open_dataset(src, engine=engine, decode_cf=decode_cf, **kw)
    zkw = {} if zarr_format is None else {"zarr_format": zarr_format}
    actual = (open_store or xr.open_zarr)(store, decode_cf=decode_cf, **kw, **zkw)
    expected = expected.drop_vars([v for v in left_out if v in expected.variables])
    expected, actual = without_compounds(expected, actual)
    expected.load()
    actual.load()
    for name in fill_bits:
        if name in expected.variables and "_FillValue" in expected[name].attrs:
            want, got = int(expected[name].attrs["_FillValue"]), int(actual[name].attrs["_FillValue"])
            assert (want - got) % (1 << (8 * expected[name].dtype.itemsize)) == 0, (name, want, got)
            del expected[name].attrs["_FillValue"], actual[name].attrs["_FillValue"]
    if unpacked:
        for name in expected.variables:
            if name not in dtype_differs:
                assert actual[name].dtype == expected[name].dtype, (name, actual[name].dtype)
    if decode_cf and not unpacked:
        # packed float32: values equal to float32 precision, everything else identical
        for name in list(expected.variables):
            if _packed_float32(expected[name]):
                want, got = _as_float(expected[name].values), _as_float(actual[name].values)
                # float32 arithmetic vs float64: within a few float32 ulps of the largest value
                ulp = np.spacing(np.float32(np.nanmax(np.abs(want)))) if np.isfinite(want).any() else 0
                np.testing.assert_allclose(got, want, rtol=0, atol=4 * ulp, equal_nan=True,
                                           err_msg=name)
                assert dict_equiv(actual[name].attrs, expected[name].attrs), name
                expected = expected.drop_vars(name)
                actual = actual.drop_vars(name)
    xr.testing.assert_identical(expected, actual)
    return sorted(actual.variables)
