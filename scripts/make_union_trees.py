#!/usr/bin/env python3
"""Seeded archives for `--union-parent` and for declared collections joined along a dimension
other than time (issue 17), beside make_collections.py (whose helpers and seeding they use:
the same file name gives the same data, whatever directory it is written in).

    python scripts/make_union_trees.py OUTDIR        # writes every tree below OUTDIR

cmip6_tree(root) writes a CMIP6 DRS tree (the table directory `day/` is the union parent):

  CMIP6/CMIP/INST/MODEL/historical/r1i1p1f1/day/
    tas/gn/v20190101/   an older version (1850-1851 in one file): must not be taken
    tas/gn/v20190710/   tas 1850, 1851, 1852 (three yearly files, noleap)
    pr/gn/v20190710/    pr 1850-1851 and 1852 (365_day: the same calendar as noleap)
    pr/gn/latest ->     a symbolic link to v20190710 (ESGF replicas have them): not looked at
    tasmax/gn/v20190710/ tasmax 1850-1852 in one file
    tasmin/gn/v20190710/ tasmin 1851-1853: as long, other times: cannot be merged, refused
    tas/gr/v20190710/, tasmin/gr/v20190710/   another grid label: a store of its own (1850)
    pr/gr/v20190710/    pr 1850-1851: a time axis of another length, refused (it sorts
                        first: the variables that agree with the most others are kept)

and returns {store name: {variable: [member paths of the version taken]}} for the stores that
must be merged (`refused`: the variables left out, per store, in CMIP6_REFUSED).

realization_set(dir) writes members split along `realization` (a 1-D int coordinate), named so
that name order is not coordinate order; lev_set(dir) members split along `lev`, which has no
coordinate variable (chunks along lev that do not fit: joined chunks); overlapping_realizations
(dir) two members that both hold realization 2 (refused).
"""
import os
import sys
from pathlib import Path

import netCDF4
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_collections as mc  # noqa: E402

TABLE = "CMIP6/CMIP/INST/MODEL/historical/r1i1p1f1/day"
CMIP6_REFUSED = {}


def cmip_name(var, grid, token):
    return f"{var}_day_{mc.MODEL}_historical_r1i1p1f1_{grid}_{token}.nc"


def store_name(grid):
    return f"day_{mc.MODEL}_historical_r1i1p1f1_{grid}.zarr"


def _years(directory, var, grid, spans, calendar, index=0):
    """One member per (first year, last year) span, mid-day daily steps since 1850."""
    os.makedirs(directory, exist_ok=True)
    units = "days since 1850-01-01"
    out = []
    for i, (a, b) in enumerate(spans):
        start = mc.day_offset(a, 1, 1, calendar, units)
        n = sum(mc.days_in_year(y, calendar) for y in range(a, b + 1))
        path = os.path.join(directory, cmip_name(var, grid, f"{a}0101-{b}1231"))
        out.append(mc.member(path, start + np.arange(n) + 0.5, calendar=calendar, units=units,
                             variables={var: {"chunk": 73}}, index=index + i))
    return out


def cmip6_tree(root):
    day = Path(root) / TABLE
    v_old, v = "v20190101", "v20190710"
    _years(day / "tas/gn" / v_old, "tas", "gn", [(1850, 1851)], "noleap", index=5)
    gn = {
        "tas": _years(day / "tas/gn" / v, "tas", "gn",
                      [(1850, 1850), (1851, 1851), (1852, 1852)], "noleap"),
        "pr": _years(day / "pr/gn" / v, "pr", "gn", [(1850, 1851), (1852, 1852)], "365_day"),
        "tasmax": _years(day / "tasmax/gn" / v, "tasmax", "gn", [(1850, 1852)], "noleap"),
    }
    # as long as the others, other times: its time coordinate differs
    _years(day / "tasmin/gn" / v, "tasmin", "gn", [(1851, 1853)], "noleap")
    latest = day / "pr/gn/latest"
    if not latest.is_symlink():
        os.symlink(v, latest)
    gr = {var: _years(day / var / "gr" / v, var, "gr", [(1850, 1850)], "noleap")
          for var in ("tas", "tasmin")}
    # the odd one out sorts first: the variables agreeing with most others are kept
    _years(day / "pr/gr" / v, "pr", "gr", [(1850, 1851)], "365_day")
    CMIP6_REFUSED[store_name("gn")] = ["tasmin"]
    CMIP6_REFUSED[store_name("gr")] = ["pr"]
    return {store_name("gn"): gn, store_name("gr"): gr}


def new_version(root, var, grid, version, spans, calendar="noleap"):
    """A newer version of one variable, written into a staging directory (the caller renames
    it into place); returns (staging directory, its member paths)."""
    stage = Path(root) / f".staging-{var}-{grid}-{version}"
    return stage, _years(stage, var, grid, spans, calendar, index=7)


# --- split along a dimension other than time --------------------------------------------------

def split_member(path, dim, values, *, coordinate=True, chunk=1, index=0):
    """tas(<dim>, time, lat, lon) for 30 noleap days with `len(values)` entries along `dim`
    (its coordinate `values` when `coordinate`), chunks of `chunk` along `dim`."""
    base = os.path.basename(path)
    rng = mc.rng_for(base)
    if os.path.exists(path):
        os.remove(path)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        mc._global_attrs(ds, index, base, rng)
        ds.createDimension(dim, len(values))
        ds.createDimension("time", 30)
        mc._grid(ds)
        if coordinate:
            c = ds.createVariable(dim, "i4", (dim,))
            c.long_name = "ensemble member" if dim == "realization" else dim
            c[:] = np.asarray(values, dtype="i4")
        t = ds.createVariable("time", "f8", ("time",))
        t.units, t.calendar, t.standard_name = "days since 1850-01-01", "noleap", "time"
        t[:] = np.arange(30) + 0.5
        v = ds.createVariable("tas", "f4", (dim, "time", "lat", "lon"), fill_value=mc.FILL,
                              zlib=True, chunksizes=(chunk, 10, mc.NLAT, mc.NLON))
        v.units, v.standard_name = "K", "air_temperature"
        v[:] = (250 + 60 * rng.random((len(values), 30, mc.NLAT, mc.NLON))).astype("f4")
    return Path(path)


def realization_set(d):
    """Members along realization 1, [2, 3], 10, named so that name order (r10 < r1 < r2) is
    not coordinate order. Returns the members in coordinate order."""
    os.makedirs(d, exist_ok=True)
    return [split_member(os.path.join(d, "tas_r1.nc"), "realization", [1], index=0),
            split_member(os.path.join(d, "tas_r2-3.nc"), "realization", [2, 3], index=1),
            split_member(os.path.join(d, "tas_r10.nc"), "realization", [10], index=2)]


def lev_set(d):
    """Members along lev (no coordinate variable), 2, 3 and 2 levels long, chunks of 2 along
    lev (the second member does not fill whole chunks: joined chunks). Returns them as the
    declared globs list them: b_* before a_*."""
    os.makedirs(d, exist_ok=True)
    return [split_member(os.path.join(d, "b_1.nc"), "lev", [0, 0], coordinate=False, chunk=2),
            split_member(os.path.join(d, "b_2.nc"), "lev", [0, 0, 0], coordinate=False,
                         chunk=2, index=1),
            split_member(os.path.join(d, "a_1.nc"), "lev", [0, 0], coordinate=False, chunk=2,
                         index=2)]


def overlapping_realizations(d):
    os.makedirs(d, exist_ok=True)
    return [split_member(os.path.join(d, "tas_a.nc"), "realization", [1, 2]),
            split_member(os.path.join(d, "tas_b.nc"), "realization", [2, 3], index=1)]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    for store, variables in cmip6_tree(out / "cmip6").items():
        print(f"{TABLE}/{store} <- {sorted(variables)}")
    realization_set(out / "split" / "realization")
    lev_set(out / "split" / "lev")
    overlapping_realizations(out / "split" / "overlap")
