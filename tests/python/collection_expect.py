"""What a joined store (issue 17) must read as: the members' open_mfdataset. Shared by
test_collections.py (.venv, zarr 3, dask) and zarr2_collections.py (.venv-zarr2, zarr 2.18,
no dask: there xr.combine_nested, which is what open_mfdataset calls, on the opened members).
Needs only xarray, numpy, netCDF4, cftime."""
import re
from pathlib import Path

import cftime
import netCDF4
import numpy as np
import xarray as xr

# <stem>_<start>[-<end>].<ext>, start/end of 4-14 digits (the automatic grouping rule)
MEMBER = re.compile(r"^(?P<stem>.+)_(?P<start>\d{4,14})(?:-(?P<end>\d{4,14}))?\.(?P<ext>[^.]+)$")
DROPPED = "cloudify_dropped_attributes"
MF_OPTIONS = dict(combine="nested", data_vars="minimal", coords="minimal", compat="override",
                  join="exact")


def groups(directory):
    """{stem: [member paths]} of the aggregates the naming rule makes in `directory` (>= 2
    members with the same stem and extension)."""
    found = {}
    for p in sorted(Path(directory).iterdir()):
        m = MEMBER.match(p.name)
        if p.is_file() and m:
            found.setdefault((m["stem"], m["ext"]), []).append(p)
    return {stem: files for (stem, _ext), files in found.items() if len(files) >= 2}


def time_variable(ds, dim=None):
    """The CF time coordinate of a netCDF4.Dataset (units contain ' since '); along `dim` when
    given."""
    for v in ds.variables.values():
        if " since " in getattr(v, "units", "") and len(v.dimensions) == 1 and \
                (dim is None or v.dimensions[0] == dim):
            return v
    raise ValueError(f"no time coordinate in {ds.filepath()}")


def first_time(path, dim=None):
    with netCDF4.Dataset(path) as ds:
        t = time_variable(ds, dim)
        return cftime.num2date(t[0], t.units, calendar=getattr(t, "calendar", "standard"),
                               only_use_cftime_datetimes=True)


def by_time(files, dim=None):
    """Members in the order of their first time value (not their names)."""
    return sorted(files, key=lambda f: first_time(f, dim))


def differing_global_attributes(files):
    """Names of global attributes that are not equal (or not present) in every member."""
    attrs = []
    for f in files:
        with netCDF4.Dataset(f) as ds:
            attrs.append({k: ds.getncattr(k) for k in ds.ncattrs()})
    names = set().union(*attrs)
    out = set()
    for n in names:
        values = [a.get(n) for a in attrs]
        if any(v is None for v in values) or not all(
                np.array_equal(np.asarray(values[0]), np.asarray(v)) for v in values[1:]):
            out.add(n)
    return out


def expected(files, dim="time", **open_kwargs):
    """open_mfdataset(members sorted by time, nested along `dim`, minimal, override, exact),
    loaded; without dask the same combine_nested on the opened members."""
    files = [str(f) for f in by_time(files, dim)]
    try:
        import dask  # noqa: F401
        ds = xr.open_mfdataset(files, concat_dim=dim, **MF_OPTIONS, **open_kwargs)
    except ImportError:
        opts = {k: v for k, v in MF_OPTIONS.items() if k != "combine"}
        ds = xr.combine_nested([xr.open_dataset(f, **open_kwargs) for f in files],
                               concat_dim=dim, combine_attrs="override", **opts)
    return ds.load()


CALENDAR_ALIASES = {None: "standard", "gregorian": "standard", "365_day": "noleap",
                    "366_day": "all_leap"}


def calendar_class(name):
    return CALENDAR_ALIASES.get(name.lower() if name else None, name.lower() if name else None)


def check_time_encoding(actual, first_member, dim="time"):
    """The joined time coordinate is expressed in the first member's units and calendar."""
    with netCDF4.Dataset(first_member) as ds:
        t = time_variable(ds, dim)
        name, units, calendar = t.name, t.units, getattr(t, "calendar", None)
    enc = actual[name].encoding
    assert enc.get("units") == units, f"{name}: units {enc.get('units')!r}, first member {units!r}"
    assert calendar_class(enc.get("calendar")) == calendar_class(calendar), \
        f"{name}: calendar {enc.get('calendar')!r}, first member {calendar!r}"


def check_dtypes(actual, expected_ds):
    for name in expected_ds.variables:
        want = expected_ds[name].dtype
        if _packed_float32(expected_ds[name]) and want == np.float32:
            # JSON has no float32: a float32 scale_factor/add_offset comes back as a Python
            # float and xarray unpacks to float64 from any Zarr v2 store (as after its own
            # to_zarr); the values are compared by assert_identical
            want = np.dtype("float64")
        assert actual[name].dtype == want, f"{name}: dtype {actual[name].dtype} != {want}"


def _packed_float32(var):
    enc = var.encoding
    return any(isinstance(enc.get(k), np.float32) for k in ("scale_factor", "add_offset"))


def compare(store, files, dim="time", ignore_attrs=(), expected_ds=None, zarr_format=None,
            **open_kwargs):
    """assert that xr.open_zarr(store) is identical to the members' open_mfdataset (values,
    dtypes, attributes), once `cloudify_dropped_attributes` is taken from the store's global
    attributes and checked to name exactly the global attributes that differ between members
    (which are removed from the expectation: open_mfdataset keeps the first member's), and that
    the time coordinate is in the first member's units and calendar.
    `ignore_attrs`: further global attributes removed from both sides; `expected_ds`: the
    expectation when already made (not modified); `zarr_format`: read the store as that Zarr
    version only. Returns the store's dataset."""
    exp = expected(files, dim, **open_kwargs) if expected_ds is None else expected_ds.copy()
    exp.attrs = dict(exp.attrs)
    # chunks=None: zarr reads every chunk without dask (the same bytes, a fraction of the time)
    zkw = {} if zarr_format is None else {"zarr_format": zarr_format}
    act = xr.open_zarr(store, chunks=None, **open_kwargs, **zkw).load()
    differing = differing_global_attributes(files)
    dropped = act.attrs.pop(DROPPED, None)
    if differing:
        assert dropped is not None, f"{store}: no {DROPPED} (members differ in {sorted(differing)})"
        assert isinstance(dropped, (list, tuple)), f"{DROPPED} is not a list: {dropped!r}"
        assert sorted(dropped) == sorted(differing), f"{DROPPED}: {dropped} != {sorted(differing)}"
    else:
        assert not dropped, f"{DROPPED} = {dropped!r} but the members agree"
    for name in differing | set(ignore_attrs):
        exp.attrs.pop(name, None)
        if name in ignore_attrs:
            act.attrs.pop(name, None)
    check_dtypes(act, exp)
    xr.testing.assert_identical(act, exp)
    check_time_encoding(act, by_time(files, dim)[0], dim)
    return act
