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


def _integer_scaled(var):
    """An integer scale_factor alone narrower than int64 (or unsigned): netCDF4 gives
    xarray a NumPy integer of that width, which decodes (wrapping) in that type; a Zarr
    store's JSON integer is int64 to xarray, so only `--unpack` can serve what netCDF4 gives
    (xarray's own to_zarr refuses such a variable)."""
    scale = var.encoding.get("scale_factor")
    return (isinstance(scale, np.integer) and scale.dtype != np.int64
            and var.encoding.get("add_offset") is None)


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


def ragged_objects(values, counts):
    """The object array of sequences a CF contiguous ragged pair stands for (row-major)."""
    counts = np.asarray(counts)
    parts = np.split(np.asarray(values), np.cumsum(counts.ravel())[:-1]) if counts.size else []
    out = np.empty(counts.shape, dtype=object)
    for i, part in enumerate(parts):
        out[np.unravel_index(i, counts.shape)] = part
    return out


def without_ragged(expected, actual):
    """Both datasets without variable-length sequence variables, checked first: the store
    serves each as a CF contiguous ragged pair (`v` along `v.values`, `v.count` with the
    variable's dimensions, `_cloudify_vlen_count` naming it); rebuilt, it must equal the
    file's object array element by element, in values and element type."""
    for name in [n for n, v in actual.variables.items() if "_cloudify_vlen_count" in v.attrs]:
        count = actual[name].attrs["_cloudify_vlen_count"]
        assert name in expected.variables, name
        want = expected[name]
        got = ragged_objects(actual[name].values, actual[count].values)
        assert actual[count].dims == want.dims and got.shape == want.shape, name
        assert actual[count].attrs["sample_dimension"] == actual[name].dims[0], name
        for w, g in zip(np.asarray(want.values).ravel(), got.ravel()):
            np.testing.assert_array_equal(g, w, err_msg=name)
            assert g.dtype == np.asarray(w).dtype, (name, g.dtype, np.asarray(w).dtype)
        attrs = {k: v for k, v in actual[name].attrs.items() if k != "_cloudify_vlen_count"}
        assert dict_equiv(attrs, dict(want.attrs)), name
        expected = expected.drop_vars(name)
        actual = actual.drop_vars([name, count])
    return expected, actual


def opened_once(src, store, decode_cf=True, zarr_format=None, storage_options=None,
                **store_options):
    """Openers for [`compare`] that open every group of `src` (netCDF4) and of `store` once:
    opening one group of a file reads the whole file's metadata, and one group of a store its
    whole consolidated metadata, so a file of many groups (S5P's 1,318) compared group by
    group would read both once per group. Each returns the group's Dataset as
    `xr.open_dataset(src, group=…)` / `xr.open_zarr(store, group=…)` would. `store_options`
    go to the store's `open_groups` (`group=` a subtree: a dataset in an Icechunk
    repository)."""
    # open_groups (xarray 2026.9) does not pass decode_cf on: what decode_cf=False means, spelt out
    raw = dict(mask_and_scale=False, decode_times=False, concat_characters=False,
               decode_coords=False, decode_timedelta=False)
    options = {} if decode_cf else raw
    expected = xr.open_groups(src, engine="netcdf4", **options)
    zkw = {} if zarr_format is None else {"zarr_format": zarr_format}
    if storage_options is not None:  # a store in an object store (s3://…)
        zkw["storage_options"] = storage_options
    actual = xr.open_groups(store, engine="zarr", **options, **zkw, **store_options)
    # a subtree's groups are named relative to it ("." for its root)
    actual = {k if k.startswith("/") else "/" + k.removeprefix("."): v for k, v in actual.items()}

    def pick(groups):
        return lambda _path, group="", **_options: groups["/" + group]
    return pick(expected), pick(actual)


def compare(src, store, group, left_out=(), decode_cf=True, engine="netcdf4", decode_times=None,
            unpacked=False, dtype_differs=(), zarr_format=None, fill_bits=(), open_store=None,
            open_source=None):
    """assert_identical of one group; returns the names compared. `unpacked`: the store serves
    packed variables unpacked (`--unpack`): values identical with no float32 allowance, and
    every variable's dtype the same (but those in `dtype_differs`). `zarr_format`: read the
    store as that Zarr version only (3 for a v3 mount). `fill_bits`: variables whose
    `_FillValue` the store gives as the same bits read signed (a v3 store, `_Unsigned`
    variables: xarray needs it so); compared as bits, then set aside. `open_store`: how the
    store is opened (default `xr.open_zarr`), called with the store and xarray's options;
    `open_source` the same for the source (default `xr.open_dataset`; see `opened_once`)."""
    kw = {} if group == "/" else {"group": group.lstrip("/")}
    if decode_times is not None:
        kw["decode_times"] = decode_times
    expected = (open_source or xr.open_dataset)(src, engine=engine, decode_cf=decode_cf, **kw)
    zkw = {} if zarr_format is None else {"zarr_format": zarr_format}
    actual = (open_store or xr.open_zarr)(store, decode_cf=decode_cf, **kw, **zkw)
    expected = expected.drop_vars([v for v in left_out if v in expected.variables])
    expected, actual = without_compounds(expected, actual)
    expected, actual = without_ragged(expected, actual)
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
        # an integer scale_factor: the stored values and attributes are compared with
        # decode_cf=False; here only that xarray decodes the store's in int64
        for name in list(expected.variables):
            if _integer_scaled(expected[name]):
                assert actual[name].dtype == np.int64, name
                assert dict_equiv(actual[name].attrs, expected[name].attrs), name
                expected = expected.drop_vars(name)
                actual = actual.drop_vars(name)
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
