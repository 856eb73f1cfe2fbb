#!/usr/bin/env python3
"""Generate CMIP-style sets of small yearly NetCDF files that the mount joins along time
(issue 17: one `<stem>.zarr` per set of files named `<stem>_<start>[-<end>].<ext>`).

Deterministic: every file's data comes from a numpy RNG seeded with SEED and the file's name, so
a set is the same whatever order or directory it is written in. Files are small (a 4 x 8 grid,
at most two years of days: < 200 kB each); every set is written in well under a second.

    python scripts/make_collections.py OUTDIR [CASE ...]   # one sub-directory per case
    PYTHONPATH=scripts python -c 'import make_collections as m; m.make_packing("/tmp/x")'

Each `make_<case>(dir)` writes one set into `dir` and returns {stem: [member paths]} for the
aggregates the set makes, members in time order. For the sets the mount must refuse it also
sets REFUSED[case] = {stem: [the members the refusal must name]}. Cases (see CASES; JOINED and
REFUSED_CASES split them):

  noleap_passthrough   noleap, 3 files (365, 365, 181 days): `tas` time chunk 1, `tasmax`
                       time chunk 365 (larger than the last member), time_bnds: every chunk
                       grid allows pass-through
  gregorian_leap       gregorian 1851-1853 (365, 366, 365 days), chunks of 31: generated chunks
  units_per_file       proleptic_gregorian, each year `days since <year>-01-01`
  units_per_file_bounds  the same with CMIP's time_bnds (no units of their own: CF says they
                       take the time coordinate's, so they must be re-expressed too)
  one_var_per_file     tas_* (3 yearly files, noleap) and pr_* (1850-1851 in one file, 1852 in
                       another, 365_day) side by side, plus files that must not form
                       aggregates (tasmin: one member only; run_123/run_124: 3-digit tokens)
  compression          standard; zlib 1 + shuffle / zlib 9 / uncompressed members, all with the
                       same chunks (only the codecs stop pass-through)
  packing              standard; int16 tas packed with a different (float64) scale_factor/
                       add_offset in each member, same chunks and codecs
  netcdf3              noleap record variables; NETCDF3_CLASSIC, NETCDF3_64BIT_OFFSET, CLASSIC
  cal_360_day          360_day, 2 years, time chunk 30 (pass-through possible)
  cal_all_leap         all_leap, 2 years, time chunk 61, start-only 4-digit tokens
                       (`..._1850.nc`)
  cal_julian           julian 1899-1901 (1900 is a leap year there), chunk 31, 12-digit tokens
  gap                  standard 1850 and 1852 (1851 missing): allowed
  swapped              the file named 1850 holds 1851 and vice versa: order by time, not names
  overlap              refused: the second member starts in the middle of the first
  duplicate            refused: the second member starts at the first member's last time
  unsorted             refused: two time steps of the second member are swapped
  mixed_calendar       refused: noleap, standard (1851: the same numbers), noleap

NcML aggregation files (NCML_CASES, `ncml_<kind>`; give `ncml_<kind>` on the command line):
explicit (joinExisting list, out of order), scan_suffix, scan_regexp (into sub-directories),
union (of two joinExisting and a file without time), units_change (per-file units, timeUnitsChange), edits
(<attribute>/<remove>), and refused ones: remote, outside (a location out of the archive),
join_new, other_dim (joinExisting along lat, where every member has the same lat values).

Time chunks are 73 days (365 = 5 x 73) where not said otherwise. Every member has lat/lon with
bounds, `orog(lat, lon)` equal in all members, CF attributes (units, standard_name, calendar,
_FillValue, missing_value) and global attributes `history`, `creation_date`, `tracking_id`
that differ per file and `title`, `source_id`, ... that do not.
"""
import os
import sys
import uuid
import zlib
from pathlib import Path

import cftime
import netCDF4
import numpy as np

SEED = 20270117
NLAT, NLON = 4, 8
FILL = np.float32(1e20)
MODEL = "MODEL"


def name(var, start, end=None, ext="nc", table="day"):
    """CMIP6 file name: <var>_<table>_MODEL_historical_r1i1p1f1_gn_<start>[-<end>].<ext>"""
    token = start if end is None else f"{start}-{end}"
    return f"{var}_{table}_{MODEL}_historical_r1i1p1f1_gn_{token}.{ext}"


def stem(var, table="day"):
    return f"{var}_{table}_{MODEL}_historical_r1i1p1f1_gn"


def rng_for(label):
    return np.random.default_rng([SEED, zlib.crc32(label.encode())])


def days_in_year(year, calendar):
    return (cftime.datetime(year + 1, 1, 1, calendar=calendar)
            - cftime.datetime(year, 1, 1, calendar=calendar)).days


def day_offset(year, month, day, calendar, units):
    """Days since the units' reference date of YEAR-MONTH-DAY 00:00 (exact, the calendar's own
    arithmetic)."""
    return float(cftime.date2num(cftime.datetime(year, month, day, calendar=calendar), units,
                                 calendar=calendar))


def last_day(calendar):
    return "1230" if calendar == "360_day" else "1231"


def _global_attrs(ds, index, base, rng):
    """CMIP-style global attributes: equal in every member, then different in every member."""
    ds.Conventions = "CF-1.7 CMIP-6.2"
    ds.title = f"{MODEL} output prepared for CMIP6"
    ds.source_id = MODEL
    ds.experiment_id = "historical"
    ds.variant_label = "r1i1p1f1"
    ds.frequency = "day"
    ds.grid_label = "gn"
    created = f"2019-0{1 + index % 9}-1{index % 10}T0{index % 10}:3{index % 10}:00Z"
    ds.creation_date = created
    ds.tracking_id = "hdl:21.14100/" + str(uuid.UUID(bytes=rng.bytes(16), version=4))
    ds.history = f"{created} ; CMOR rewrote data to be consistent with CMIP6 ({base})"


def _grid(ds):
    ds.createDimension("lat", NLAT)
    ds.createDimension("lon", NLON)
    ds.createDimension("bnds", 2)
    lat = ds.createVariable("lat", "f8", ("lat",))
    lat.units, lat.standard_name = "degrees_north", "latitude"
    lat.axis, lat.bounds = "Y", "lat_bnds"
    edges = np.linspace(-90, 90, NLAT + 1)
    lat[:] = (edges[:-1] + edges[1:]) / 2
    lb = ds.createVariable("lat_bnds", "f8", ("lat", "bnds"))
    lb[:] = np.stack([edges[:-1], edges[1:]], axis=1)
    lon = ds.createVariable("lon", "f8", ("lon",))
    lon.units, lon.standard_name = "degrees_east", "longitude"
    lon.axis, lon.bounds = "X", "lon_bnds"
    edges = np.linspace(0, 360, NLON + 1)
    lon[:] = (edges[:-1] + edges[1:]) / 2
    lb = ds.createVariable("lon_bnds", "f8", ("lon", "bnds"))
    lb[:] = np.stack([edges[:-1], edges[1:]], axis=1)
    # a variable without time, equal in every member (its own seed, not the file's)
    orog = ds.createVariable("orog", "f4", ("lat", "lon"), fill_value=FILL)
    orog.units, orog.standard_name = "m", "surface_altitude"
    orog[:] = (rng_for("orog").random((NLAT, NLON)) * 3000).astype("f4")


VAR_ATTRS = {
    "tas": dict(units="K", standard_name="air_temperature",
                long_name="Near-Surface Air Temperature", cell_methods="area: mean time: mean"),
    "tasmax": dict(units="K", standard_name="air_temperature",
                   long_name="Daily Maximum Near-Surface Air Temperature",
                   cell_methods="area: mean time: maximum"),
    "pr": dict(units="kg m-2 s-1", standard_name="precipitation_flux", long_name="Precipitation",
               cell_methods="area: time: mean"),
    "tasmin": dict(units="K", standard_name="air_temperature",
                   long_name="Daily Minimum Near-Surface Air Temperature",
                   cell_methods="area: mean time: minimum"),
}


def member(path, times, *, calendar, units, variables, index, fmt="NETCDF4", bounds=False,
           time_chunk=512):
    """Write one member file.

    times: the time values (mid-day), in `units`.
    variables: {var: dict(chunk=int|None, zlib=bool, complevel=int, shuffle=bool,
                          pack=(scale_factor, add_offset)|None)}
    index: the member's position in its set (drives the attributes that differ per file).
    """
    base = os.path.basename(path)
    rng = rng_for(base)
    nc4 = fmt.startswith("NETCDF4")
    if os.path.exists(path):
        os.remove(path)
    with netCDF4.Dataset(path, "w", format=fmt) as ds:
        _global_attrs(ds, index, base, rng)

        ds.createDimension("time", None)
        _grid(ds)
        t = ds.createVariable("time", "f8", ("time",),
                              **({"chunksizes": (time_chunk,)} if nc4 else {}))
        t.units, t.calendar = units, calendar
        t.standard_name, t.long_name, t.axis = "time", "time", "T"
        t[:] = np.asarray(times, dtype="f8")
        n = len(times)
        if bounds:
            t.bounds = "time_bnds"
            tb = ds.createVariable("time_bnds", "f8", ("time", "bnds"),
                                   **({"chunksizes": (1, 2)} if nc4 else {}))
            tb[:] = np.stack([np.asarray(times) - 0.5, np.asarray(times) + 0.5], axis=1)

        for var, spec in variables.items():
            pack = spec.get("pack")
            kw = {}
            if nc4:
                kw = dict(zlib=spec.get("zlib", True), complevel=spec.get("complevel", 4),
                          shuffle=spec.get("shuffle", True))
                if spec.get("chunk"):
                    kw["chunksizes"] = (spec["chunk"], NLAT, NLON)
                else:
                    kw["contiguous"] = False
                    kw["chunksizes"] = (1, NLAT, NLON)
            data = rng.random((n, NLAT, NLON))
            if var == "pr":
                values = (data ** 4 * 4e-4).astype("f4")
            else:
                values = (250 + 60 * data).astype("f4")
            holes = rng.random((n, NLAT, NLON)) < 0.01  # a few missing values
            if pack:
                scale, offset = pack
                v = ds.createVariable(var, "i2", ("time", "lat", "lon"),
                                      fill_value=np.int16(-32767), **kw)
                v.set_auto_maskandscale(False)
                v.scale_factor, v.add_offset = np.float64(scale), np.float64(offset)
                v.missing_value = np.int16(-32767)
                packed = np.round((values.astype("f8") - offset) / scale).astype("i2")
                packed[holes] = -32767
                v[:] = packed
            else:
                v = ds.createVariable(var, "f4", ("time", "lat", "lon"), fill_value=FILL, **kw)
                v.missing_value = FILL
                values[holes] = FILL
                v.set_auto_maskandscale(False)
                v[:] = values
            for k, val in VAR_ATTRS[var].items():
                v.setncattr(k, val)
            if len(variables) == 1:
                ds.variable_id = var
    return Path(path)


def yearly(directory, var, years, calendar, *, units="days since 1850-01-01", per_file_units=False,
           variables=None, fmt=None, bounds=False, first_index=0, token=None):
    """One member per year (whole years, mid-day steps)."""
    out = []
    for i, y in enumerate(years):
        u = f"days since {y}-01-01" if per_file_units else units
        start = day_offset(y, 1, 1, calendar, u)
        times = start + np.arange(days_in_year(y, calendar)) + 0.5
        fname = token(y) if token else name(var, f"{y}0101", f"{y}{last_day(calendar)}")
        out.append(member(os.path.join(directory, fname), times, calendar=calendar, units=u,
                          variables=variables or {var: {"chunk": 73}}, index=first_index + i,
                          fmt=(fmt[i] if isinstance(fmt, (list, tuple)) else fmt) or "NETCDF4",
                          bounds=bounds))
    return out


# --- the sets the mount joins --------------------------------------------------------------

def make_noleap_passthrough(d):
    os.makedirs(d, exist_ok=True)
    cal, units = "noleap", "days since 1850-01-01"
    variables = {"tas": {"chunk": 1}, "tasmax": {"chunk": 365}}
    files = yearly(d, "tas", [1850, 1851], cal, variables=variables, bounds=True)
    # the last member: half a year (181 days), shorter than tasmax's chunk of 365
    start = day_offset(1852, 1, 1, cal, units)
    files.append(member(os.path.join(d, name("tas", "18520101", "18520630")),
                        start + np.arange(181) + 0.5, calendar=cal, units=units,
                        variables=variables, index=2, bounds=True))
    return {stem("tas"): files}


def make_gregorian_leap(d):
    os.makedirs(d, exist_ok=True)
    files = yearly(d, "tas", [1851, 1852, 1853], "gregorian", variables={"tas": {"chunk": 31}})
    return {stem("tas"): files}


def make_units_per_file(d):
    os.makedirs(d, exist_ok=True)
    files = yearly(d, "tas", [1850, 1851, 1852], "proleptic_gregorian", per_file_units=True)
    return {stem("tas"): files}


def make_units_per_file_bounds(d):
    os.makedirs(d, exist_ok=True)
    files = yearly(d, "tas", [1850, 1851, 1852], "proleptic_gregorian", per_file_units=True,
                   bounds=True)
    return {stem("tas"): files}


def make_one_var_per_file(d):
    os.makedirs(d, exist_ok=True)
    tas = yearly(d, "tas", [1850, 1851, 1852], "noleap")
    cal, units = "365_day", "days since 1850-01-01"
    pr = [member(os.path.join(d, name("pr", "18500101", "18511231")),
                 np.arange(730) + 0.5, calendar=cal, units=units,
                 variables={"pr": {"chunk": 73}}, index=0),
          member(os.path.join(d, name("pr", "18520101", "18521231")),
                 730 + np.arange(365) + 0.5, calendar=cal, units=units,
                 variables={"pr": {"chunk": 73}}, index=1)]
    # no aggregate: a single member; tokens of 3 digits
    member(os.path.join(d, name("tasmin", "18500101", "18501231")),
           np.arange(365) + 0.5, calendar="noleap", units=units, variables={"tasmin": {}}, index=0)
    for i, tok in enumerate(["123", "124"]):
        member(os.path.join(d, f"run_{tok}.nc"), np.arange(3) + 0.5 + 3 * i, calendar="noleap",
               units=units, variables={"tas": {}}, index=i)
    return {stem("tas"): tas, stem("pr"): pr}


def make_compression(d):
    os.makedirs(d, exist_ok=True)
    codecs = [{"zlib": True, "complevel": 1, "shuffle": True},
              {"zlib": True, "complevel": 9, "shuffle": False},
              {"zlib": False, "shuffle": False}]
    files = []
    for i, (y, codec) in enumerate(zip([1850, 1851, 1852], codecs)):
        files += yearly(d, "tas", [y], "standard", variables={"tas": {"chunk": 73, **codec}},
                        first_index=i)
    return {stem("tas"): files}


def make_packing(d):
    os.makedirs(d, exist_ok=True)
    packs = [(0.01, 270.0), (0.005, 280.0), (0.02, 250.0)]
    files = []
    for i, (y, pack) in enumerate(zip([1850, 1851, 1852], packs)):
        files += yearly(d, "tas", [y], "standard", variables={"tas": {"chunk": 73, "pack": pack}},
                        first_index=i)
    return {stem("tas"): files}


def make_netcdf3(d):
    os.makedirs(d, exist_ok=True)
    files = yearly(d, "tas", [1850, 1851, 1852], "noleap",
                   fmt=["NETCDF3_CLASSIC", "NETCDF3_64BIT_OFFSET", "NETCDF3_CLASSIC"])
    return {stem("tas"): files}


def make_cal_360_day(d):
    os.makedirs(d, exist_ok=True)
    files = yearly(d, "tas", [1850, 1851], "360_day", variables={"tas": {"chunk": 30}})
    return {stem("tas"): files}


def make_cal_all_leap(d):
    os.makedirs(d, exist_ok=True)
    files = yearly(d, "tas", [1850, 1851], "all_leap", variables={"tas": {"chunk": 61}},
                   token=lambda y: name("tas", f"{y}"))
    return {stem("tas"): files}


def make_cal_julian(d):
    os.makedirs(d, exist_ok=True)
    files = yearly(d, "tas", [1899, 1900, 1901], "julian", variables={"tas": {"chunk": 31}},
                   token=lambda y: name("tas", f"{y}01011200", f"{y}12311200"))
    return {stem("tas"): files}


def make_gap(d):
    os.makedirs(d, exist_ok=True)
    files = yearly(d, "tas", [1850, 1852], "standard")
    return {stem("tas"): files}


def make_swapped(d):
    """File names that lie: the 1850 name holds 1851 and the 1851 name holds 1850."""
    os.makedirs(d, exist_ok=True)
    files = yearly(d, "tas", [1850, 1851], "noleap",
                   token=lambda y: name("tas", f"{3701 - y}0101", f"{3701 - y}1231"))
    return {stem("tas"): files}  # in time order: the file named 1851 first



# --- many small members (benchmark P8 of scripts/bench.py; not a case: no make_ prefix) -----

SMALL_VARS = ("tas", "tasmax", "tasmin", "pr")


def small_member(path, year, *, units="days since 1850-01-01", index=0, time_chunk=73):
    """One small noleap year (365 days) of SMALL_VARS on the 4 x 8 grid, with time_bnds: values
    on a quarter-unit grid, five levels of noise (exact in float32, so that shuffle + deflate
    leave a few KiB a variable), time chunks of `time_chunk` days. Seeded by the file's name
    like `member`."""
    base = os.path.basename(path)
    rng = rng_for(base)
    if os.path.exists(path):
        os.remove(path)
    n = 365
    start = day_offset(year, 1, 1, "noleap", units)
    times = start + np.arange(n) + 0.5
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        _global_attrs(ds, index, base, rng)
        ds.createDimension("time", None)
        _grid(ds)
        t = ds.createVariable("time", "f8", ("time",), chunksizes=(n,))
        t.units, t.calendar = units, "noleap"
        t.standard_name, t.long_name, t.axis, t.bounds = "time", "time", "T", "time_bnds"
        t[:] = times
        tb = ds.createVariable("time_bnds", "f8", ("time", "bnds"), chunksizes=(n, 2))
        tb[:] = np.stack([times - 0.5, times + 0.5], axis=1)
        season = np.cos(2 * np.pi * (np.arange(n) + 0.5) / n)[:, None, None]
        for var in SMALL_VARS:
            v = ds.createVariable(var, "f4", ("time", "lat", "lon"), fill_value=FILL, zlib=True,
                                  complevel=4, shuffle=True, chunksizes=(time_chunk, NLAT, NLON))
            v.missing_value = FILL
            noise = rng.integers(-2, 3, size=(n, NLAT, NLON)) / 4
            if var == "pr":
                values = np.maximum(0, noise) * 1e-5
            else:
                values = np.round(280 + {"tas": 0, "tasmax": 6, "tasmin": -6}[var]
                                  + 10 * season) + noise
            v.set_auto_maskandscale(False)
            v[:] = values.astype("f4")
            for k, val in VAR_ATTRS[var].items():
                v.setncattr(k, val)
    return Path(path)


def many_small(d, n, first_year=1850):
    """`n` small yearly noleap members (first_year, first_year + 1, ...) of one set: one store
    `tas_day_MODEL_historical_r1i1p1f1_gn.zarr` of n x 365 days. Returns {stem: [paths]}."""
    os.makedirs(d, exist_ok=True)
    files = [small_member(os.path.join(d, name("tas", f"{y:04d}0101", f"{y:04d}1231")), y,
                          index=i)
             for i, y in enumerate(range(first_year, first_year + n))]
    return {stem("tas"): files}

# --- the sets the mount must refuse (REFUSED[case]: the files the reason must name) ---------
# (by name they form an aggregate; by content it is not one: <stem>.zarr must fail with EIO)

REFUSED = {}


def make_overlap(d):
    os.makedirs(d, exist_ok=True)
    cal, units = "noleap", "days since 1850-01-01"
    a = member(os.path.join(d, name("tas", "18500101", "18501231")), np.arange(365) + 0.5,
               calendar=cal, units=units, variables={"tas": {"chunk": 73}}, index=0)
    b = member(os.path.join(d, name("tas", "18500701", "18510630")), 181 + np.arange(365) + 0.5,
               calendar=cal, units=units, variables={"tas": {"chunk": 73}}, index=1)
    c = member(os.path.join(d, name("tas", "18510701", "18511231")), 546 + np.arange(184) + 0.5,
               calendar=cal, units=units, variables={"tas": {"chunk": 73}}, index=2)
    REFUSED["overlap"] = {stem("tas"): [a, b]}
    return {stem("tas"): [a, b, c]}


def make_duplicate(d):
    """The second member's first time is the first member's last time."""
    os.makedirs(d, exist_ok=True)
    cal, units = "noleap", "days since 1850-01-01"
    a = member(os.path.join(d, name("tas", "18500101", "18501231")), np.arange(365) + 0.5,
               calendar=cal, units=units, variables={"tas": {"chunk": 73}}, index=0)
    b = member(os.path.join(d, name("tas", "18501231", "18511230")), 364 + np.arange(365) + 0.5,
               calendar=cal, units=units, variables={"tas": {"chunk": 73}}, index=1)
    REFUSED["duplicate"] = {stem("tas"): [a, b]}
    return {stem("tas"): [a, b]}


def make_unsorted(d):
    """Two time steps of the second member swapped (times not increasing inside a member)."""
    os.makedirs(d, exist_ok=True)
    cal, units = "noleap", "days since 1850-01-01"
    a = member(os.path.join(d, name("tas", "18500101", "18501231")), np.arange(365) + 0.5,
               calendar=cal, units=units, variables={"tas": {"chunk": 73}}, index=0)
    times = 365 + np.arange(365) + 0.5
    times[[10, 11]] = times[[11, 10]]
    b = member(os.path.join(d, name("tas", "18510101", "18511231")), times,
               calendar=cal, units=units, variables={"tas": {"chunk": 73}}, index=1)
    REFUSED["unsorted"] = {stem("tas"): [b]}
    return {stem("tas"): [a, b]}


def make_mixed_calendar(d):
    """noleap, standard, noleap: 1851 has 365 days in both, the numbers alone agree."""
    os.makedirs(d, exist_ok=True)
    a = yearly(d, "tas", [1850], "noleap", first_index=0)[0]
    b = yearly(d, "tas", [1851], "standard", first_index=1)[0]
    c = yearly(d, "tas", [1852], "noleap", first_index=2)[0]
    REFUSED["mixed_calendar"] = {stem("tas"): [a, b]}  # the first member and the odd one
    return {stem("tas"): [a, b, c]}


# --- THREDDS NcML aggregation files (not cases of the naming rule: no make_ prefix) --------
# Each ncml_<kind>(d) writes its members under d/data/ and d/<kind>.ncml, and returns
# {"ncml": path, "store": "<kind>.zarr", "members": [paths, time order], "groups": [[paths]]
# (union: each nested aggregation's members), "refused": text the reason must contain, or None}.

NCML_NS = "http://www.unidata.ucar.edu/namespaces/netcdf/ncml-2.2"


def _ncml(path, body):
    Path(path).write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n'
                          f'<netcdf xmlns="{NCML_NS}">\n{body}</netcdf>\n')
    return Path(path)


def _spec(d, kind, members, groups=None, refused=None):
    return {"ncml": Path(d) / f"{kind}.ncml", "store": f"{kind}.zarr", "members": members,
            "groups": groups or [members], "refused": refused}


def _tas_years(d, years, calendar="noleap", var="tas", **kw):
    os.makedirs(d, exist_ok=True)
    return yearly(d, var, years, calendar, token=lambda y: f"{var}_{y}.nc", **kw)


def ncml_explicit(d):
    """joinExisting of an explicit list of members, given out of time order."""
    files = _tas_years(os.path.join(d, "data"), [1850, 1851, 1852])
    listed = "".join(f'    <netcdf location="data/{f.name}"/>\n' for f in [files[1], files[2], files[0]])
    _ncml(os.path.join(d, "explicit.ncml"),
          f'  <aggregation type="joinExisting" dimName="time">\n{listed}  </aggregation>\n')
    return _spec(d, "explicit", files)


def ncml_scan_suffix(d):
    """A scan of data/ by suffix .nc (not into sub-directories): the .nc4 copy of a member and
    the notes beside them are not members."""
    files = _tas_years(os.path.join(d, "data"), [1850, 1851])
    member(os.path.join(d, "data", "tas_1850_copy.nc4"), np.arange(365) + 0.5, calendar="noleap",
           units="days since 1850-01-01", variables={"tas": {"chunk": 73}}, index=9)
    Path(d, "data", "README.txt").write_text("not a member\n")
    os.makedirs(os.path.join(d, "data", "old"), exist_ok=True)
    member(os.path.join(d, "data", "old", "tas_1850.nc"), np.arange(365) + 0.5, calendar="noleap",
           units="days since 1850-01-01", variables={"tas": {"chunk": 73}}, index=8)
    _ncml(os.path.join(d, "scan_suffix.ncml"),
          '  <aggregation type="joinExisting" dimName="time">\n'
          '    <scan location="data/" suffix=".nc" subdirs="false"/>\n'
          '  </aggregation>\n')
    return _spec(d, "scan_suffix", files)


def ncml_scan_regexp(d):
    """A scan by regExp (the whole file name) into sub-directories: tas files only, one of
    them in data/more/; pr files beside them are not members."""
    data = os.path.join(d, "data")
    files = _tas_years(data, [1850, 1851]) + _tas_years(os.path.join(data, "more"), [1852])
    _tas_years(data, [1850, 1851], var="pr", first_index=3)
    _ncml(os.path.join(d, "scan_regexp.ncml"),
          '  <aggregation type="joinExisting" dimName="time">\n'
          '    <scan location="data" regExp="tas_[0-9]{4}\\.nc" suffix=".nc4"/>\n'
          '  </aggregation>\n')
    return _spec(d, "scan_regexp", files)


def static_fields(path, index=0):
    """A file of fields without time (CMIP's fx table): the grid, orog, and sftlf."""
    base = os.path.basename(path)
    rng = rng_for(base)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        _global_attrs(ds, index, base, rng)
        _grid(ds)
        v = ds.createVariable("sftlf", "f4", ("lat", "lon"), fill_value=FILL)
        v.units, v.standard_name = "%", "land_area_fraction"
        v[:] = np.round(rng.random((NLAT, NLON)) * 100).astype("f4")
    return Path(path)


def ncml_union(d):
    """The union of two joinExisting aggregations (tas found by a scan, pr listed) and of a
    file of fields without time."""
    data = os.path.join(d, "data")
    tas = _tas_years(os.path.join(data, "tas"), [1850, 1851, 1852])
    os.makedirs(os.path.join(data, "pr"), exist_ok=True)
    pr = [member(os.path.join(data, "pr", "pr_1850-1851.nc"), np.arange(730) + 0.5,
                 calendar="noleap", units="days since 1850-01-01",
                 variables={"pr": {"chunk": 73}}, index=0),
          member(os.path.join(data, "pr", "pr_1852.nc"), 730 + np.arange(365) + 0.5,
                 calendar="noleap", units="days since 1850-01-01",
                 variables={"pr": {"chunk": 365}}, index=1)]
    fx = static_fields(os.path.join(data, "sftlf_fx.nc"), index=5)
    listed = "".join(f'        <netcdf location="data/pr/{f.name}"/>\n' for f in pr)
    _ncml(os.path.join(d, "union.ncml"),
          '  <aggregation type="union">\n'
          '    <netcdf>\n      <aggregation type="joinExisting" dimName="time">\n'
          '        <scan location="data/tas" suffix=".nc"/>\n'
          '      </aggregation>\n    </netcdf>\n'
          '    <netcdf>\n      <aggregation type="joinExisting" dimName="time">\n'
          f'{listed}      </aggregation>\n    </netcdf>\n'
          '    <netcdf location="data/sftlf_fx.nc"/>\n'
          '  </aggregation>\n')
    return _spec(d, "union", tas + pr + [fx], groups=[tas, pr, [fx]])


def ncml_units_change(d):
    """Members with their own time units (days since the first of their year), joined with
    timeUnitsChange: served in the first member's units."""
    files = _tas_years(os.path.join(d, "data"), [1850, 1851, 1852], "proleptic_gregorian",
                       per_file_units=True, bounds=True)
    listed = "".join(f'    <netcdf location="data/{f.name}"/>\n' for f in files)
    _ncml(os.path.join(d, "units_change.ncml"),
          '  <aggregation type="joinExisting" dimName="time" timeUnitsChange="true">\n'
          f'{listed}  </aggregation>\n')
    return _spec(d, "units_change", files)


NCML_EDITS = {"set": {"title": "NcML aggregation of tas", "nyears": 3,
                      "weights": [0.25, 0.5, 0.25]},
              "removed_attributes": ["tracking_id", "source_id"], "removed_variables": ["orog"]}


def ncml_edits(d):
    """joinExisting by scan, with the aggregated dataset's global attributes set and removed
    and a variable removed (NCML_EDITS)."""
    files = _tas_years(os.path.join(d, "data"), [1850, 1851])
    _ncml(os.path.join(d, "edits.ncml"),
          '  <attribute name="title" value="NcML aggregation of tas"/>\n'
          '  <attribute name="nyears" type="int" value="3"/>\n'
          '  <attribute name="weights" type="double" value="0.25 0.5 0.25"/>\n'
          '  <remove name="tracking_id" type="attribute"/>\n'
          '  <remove name="source_id" type="attribute"/>\n'
          '  <remove name="orog" type="variable"/>\n'
          '  <aggregation type="joinExisting" dimName="time">\n'
          '    <scan location="data" suffix=".nc"/>\n'
          '  </aggregation>\n')
    return _spec(d, "edits", files)


def _refused(d, kind, body, reason):
    files = _tas_years(os.path.join(d, "data"), [1850, 1851])
    _ncml(os.path.join(d, f"{kind}.ncml"), body(files))
    return _spec(d, kind, files, refused=reason)


def ncml_remote(d):
    return _refused(d, "remote", lambda f: (
        '  <aggregation type="joinExisting" dimName="time">\n'
        f'    <netcdf location="data/{f[0].name}"/>\n'
        '    <netcdf location="https://example.org/thredds/fileServer/tas_1851.nc"/>\n'
        '  </aggregation>\n'), "is remote")


def ncml_outside(d):
    return _refused(d, "outside", lambda f: (
        '  <aggregation type="joinExisting" dimName="time">\n'
        f'    <netcdf location="data/{f[0].name}"/>\n'
        f'    <netcdf location="../../elsewhere/{f[1].name}"/>\n'
        '  </aggregation>\n'), "outside the archive")


def ncml_join_new(d):
    return _refused(d, "join_new", lambda f: (
        '  <aggregation type="joinNew" dimName="run">\n'
        '    <variableAgg name="tas"/>\n'
        + "".join(f'    <netcdf location="data/{x.name}" coordValue="{i}"/>\n'
                  for i, x in enumerate(f))
        + '  </aggregation>\n'), 'type="joinNew"')


def ncml_other_dim(d):
    return _refused(d, "other_dim", lambda f: (
        '  <aggregation type="joinExisting" dimName="lat">\n'
        + "".join(f'    <netcdf location="data/{x.name}"/>\n' for x in f)
        + '  </aggregation>\n'), "lat values overlap")


NCML_CASES = {n[len("ncml_"):]: f for n, f in sorted(globals().items())
              if n.startswith("ncml_") and callable(f)}
NCML_REFUSED = ["remote", "outside", "join_new", "other_dim"]
NCML_SERVED = [c for c in NCML_CASES if c not in NCML_REFUSED]


CASES = {n[len("make_"):]: f for n, f in sorted(globals().items())
         if n.startswith("make_") and callable(f)}
REFUSED_CASES = ["overlap", "duplicate", "unsorted", "mixed_calendar"]
JOINED = [c for c in CASES if c not in REFUSED_CASES]


def main(argv):
    if not argv:
        sys.exit(__doc__)
    out, cases = argv[0], argv[1:] or list(CASES) + [f"ncml_{c}" for c in NCML_CASES]
    for case in cases:
        if case.startswith("ncml_"):
            spec = NCML_CASES[case[len("ncml_"):]](os.path.join(out, case))
            print(f"{case}: {spec['ncml']} <- {len(spec['members'])} files"
                  + (" (must be refused)" if spec["refused"] else ""))
            continue
        for s, files in CASES[case](os.path.join(out, case)).items():
            print(f"{case}: {s}.zarr <- {len(files)} files"
                  + (" (must be refused)" if case in REFUSED_CASES else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
