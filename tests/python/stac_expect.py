"""What the STAC Item of a source file must say, computed independently of the daemon, from the
source file and the rules of docs/STAC.md (netCDF4 with masking/scaling off: the CF decoding is
done here, in float64; times through cftime; the STAC JSON schemas from ../shared/stac-schemas).

Run directly (`python tests/python/stac_expect.py FILE...`) to print the expectations.
"""
import calendar as pycalendar
import datetime as dt
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import cftime
import netCDF4
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT.parent / "shared" / "stac-schemas"

STAC_VERSION = "1.1.0"
DATACUBE = "https://stac-extensions.github.io/datacube/v2.2.0/schema.json"
XARRAY_ASSETS = "https://stac-extensions.github.io/xarray-assets/v1.0.0/schema.json"
ITEM_SCHEMA = "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/item.json"
CATALOG_SCHEMA = "https://schemas.stacspec.org/v1.1.0/catalog-spec/json-schema/catalog.json"
PROJJSON = "https://proj.org/schemas/v0.4/projjson.schema.json"

LAT_UNITS = {"degrees_north", "degree_north", "degrees_N", "degree_N", "degreesN", "degreeN"}
LON_UNITS = {"degrees_east", "degree_east", "degrees_E", "degree_E", "degreesE", "degreeE"}
# global attributes copied verbatim into the item's properties
COPIED_ATTRS = ["institution", "institution_id", "source", "source_id", "source_type", "experiment",
                "experiment_id", "activity_id", "project", "project_id", "mip_era", "model_id",
                "frequency", "realm", "table_id", "grid", "grid_label", "nominal_resolution",
                "variant_label", "product", "platform", "instrument", "Conventions", "references"]

# Rules where docs/STAC.md changed or is silent: each switch is where the suite changes with it.
# - a time coordinate: `<unit> since <date>` units alone, any shape (CF 4.4). (An earlier
#   version of the spec also wanted standard_name time, axis T, or a coordinate variable.)
TIME_NEEDS_NAME_AXIS_OR_DIMENSION = False
# - only when no CF latitude/longitude pair: variables named lat/latitude (lon/long/longitude),
#   any case, units missing or starting with "deg"
NAMED_LATLON_FALLBACK = True
# - attributes that make the variables they name `auxiliary` in cube:variables
AUXILIARY_ATTRS = ("coordinates", "bounds", "climatology", "grid_mapping")
# - the item's extent comes from the time variables of the best rank only (`time_rank`): the
#   data's time axis, not auxiliary times such as a forecast_reference_time
TIME_AXIS_FIRST = True
# - STAC datetimes before year 1 (after 9999) are clamped; the exact labels in a property
FIRST_STAC_YEAR, LAST_STAC_YEAR = 1, 9999
# - valid_range/valid_min/valid_max: the spec does not mention them (skip raw values outside?)
APPLY_VALID_RANGE = True
REAL_CALENDARS = {"standard", "gregorian", "proleptic_gregorian", "julian", "noleap", "365_day",
                  "all_leap", "366_day", "360_day"}


# ---------------------------------------------------------------- schemas

def schema_registry():
    """Every vendored schema under its `$id` (common.json also under its intended name, its
    `$id` has the upstream typo `.../commonjson`)."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resources = []
    for p in sorted(SCHEMAS.rglob("*.json")):
        doc = json.loads(p.read_text())
        uri = doc["$id"].rstrip("#")
        res = Resource.from_contents(doc, default_specification=DRAFT7)
        resources.append((uri, res))
        if uri.endswith("/json-schema/commonjson"):
            resources.append((uri[: -len("commonjson")] + "common.json", res))
    # The datacube schema's `reference_system` is oneOf [WKT2 string, EPSG integer, PROJJSON
    # object], the last a remote $ref to proj.org that is not vendored. Stubbed as "any object":
    # enough for the oneOf (a string or integer can never match an object), no network needed.
    resources.append((PROJJSON, Resource.from_contents({"type": "object"}, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


_VALIDATORS = {}


def validator(uri):
    import jsonschema
    if uri not in _VALIDATORS:
        registry = _VALIDATORS.setdefault("registry", schema_registry())
        schema = registry.contents(uri)
        _VALIDATORS[uri] = jsonschema.Draft7Validator(schema, registry=registry)
    return _VALIDATORS[uri]


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def is_rfc3339(s):
    """RFC 3339 and a real (proleptic Gregorian) date."""
    if not isinstance(s, str) or not RFC3339.match(s):
        return False
    try:
        parse_time(s)
    except ValueError:
        return False
    return True


def schema_errors(doc, uri):
    """Readable errors: for a failed oneOf/anyOf, its most relevant sub-error."""
    from jsonschema.exceptions import best_match
    out = []
    for e in validator(uri).iter_errors(doc):
        if e.context:
            e = best_match(e.context)
        out.append(f"{uri.rsplit('/', 2)[-2]}: {'/'.join(map(str, e.absolute_path))}: {e.message[:300]}")
    return out


def validate_item(item):
    """Core item + datacube schema; xarray-assets (not vendored) checked by hand."""
    errors = schema_errors(item, ITEM_SCHEMA)
    exts = item.get("stac_extensions", [])
    assert set(exts) == {DATACUBE, XARRAY_ASSETS}, exts
    errors += schema_errors(item, DATACUBE)
    # xarray-assets v1.0.0: `xarray:open_kwargs` / `xarray:storage_options` are objects
    for key, asset in item.get("assets", {}).items():
        for f in ("xarray:open_kwargs", "xarray:storage_options"):
            if f in asset and not isinstance(asset[f], dict):
                errors.append(f"assets/{key}/{f}: not an object")
    # the schema's `format: date-time` is not asserted by Draft7Validator: by hand
    props = item.get("properties", {})
    for f in ("datetime", "start_datetime", "end_datetime", "created", "updated"):
        if props.get(f) is not None and not is_rfc3339(props[f]):
            errors.append(f"properties/{f}: not RFC 3339: {props[f]!r}")
    for k, d in props.get("cube:dimensions", {}).items():
        if d.get("type") == "temporal":
            # exact calendar labels: a year before 1 is ISO 8601 (0000 = 1 BC), not a
            # Python datetime
            for v in d.get("extent", []):
                early = isinstance(v, str) and RFC3339.match(v) and v.startswith("0000-")
                if v is not None and not early and not is_rfc3339(v):
                    errors.append(f"cube:dimensions/{k}/extent: not RFC 3339: {v!r}")
    return errors


def validate_catalog(cat):
    return schema_errors(cat, CATALOG_SCHEMA)


# ---------------------------------------------------------------- reading the source

def attrs(obj):
    out = {}
    for k in obj.ncattrs():
        try:
            v = obj.getncattr(k)
        except Exception:  # noqa: BLE001 - an attribute netCDF4 cannot read is not one we use
            continue
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        out[k] = v
    return out


def text(a, key):
    v = a.get(key)
    if isinstance(v, np.ndarray) and v.size == 1:
        v = v.item()
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    return v.strip() if isinstance(v, str) else None


def groups(ds):
    """(path, group) of every group, root first; paths "/", "/a", "/a/b"."""
    out = []

    def walk(g, p):
        out.append((p, g))
        for name, sub in g.groups.items():
            walk(sub, p.rstrip("/") + "/" + name)
    walk(ds, "/")
    return out


def resolve(ds, group, name):
    """A variable named in an attribute: absolute path, path relative to the group, or a bare
    name in the group (then its ancestors, CF's search by proximity)."""
    name = name.strip()
    try:
        if name.startswith("/"):
            g = ds
            parts = [p for p in name.split("/") if p]
            for p in parts[:-1]:
                g = g.groups[p]
            return g.variables.get(parts[-1])
        if "/" in name:
            g = group
            parts = name.split("/")
            for p in parts[:-1]:
                g = g.parent if p == ".." else g.groups[p]
            return g.variables.get(parts[-1])
    except (KeyError, AttributeError):
        return None
    g = group
    while g is not None:
        if name in g.variables:
            return g.variables[name]
        g = g.parent
    return None


def decoded(var, a=None):
    """CF-decoded values as float64, _FillValue/missing_value/NaN removed (flattened)."""
    a = attrs(var) if a is None else a
    var.set_auto_maskandscale(False)
    raw = np.asarray(var[...])
    if raw.dtype.kind not in "fiu":
        return np.array([], dtype="f8")
    raw = raw.ravel()
    x = raw.astype("f8")
    keep = ~np.isnan(x)
    for k in ("_FillValue", "missing_value"):
        if k in a:
            for fv in np.atleast_1d(np.asarray(a[k])).ravel():
                if isinstance(fv, (str, bytes)):
                    continue
                fv = np.asarray(fv).astype(raw.dtype) if raw.dtype.kind == "f" else fv
                keep &= ~(raw == fv)
    sf = a.get("scale_factor")
    ao = a.get("add_offset")
    # CF 8.1: valid_* are in packed units, unless the variable is packed (integer type with
    # scale_factor/add_offset) and they have a float type: then in unpacked units
    packed_lo = unpacked_lo = -np.inf
    packed_hi = unpacked_hi = np.inf
    if APPLY_VALID_RANGE:
        packed_var = raw.dtype.kind in "iu" and (sf is not None or ao is not None)

        def unpacked_units(v):
            return packed_var and np.asarray(v).dtype.kind == "f"

        vr = a.get("valid_range")
        if vr is not None and np.size(vr) == 2:
            lo, hi = (float(v) for v in np.ravel(vr))
            if unpacked_units(vr):
                unpacked_lo, unpacked_hi = lo, hi
            else:
                packed_lo, packed_hi = lo, hi
        for key in ("valid_min", "valid_max"):
            if key in a:
                v = float(np.ravel(a[key])[0])
                unp = unpacked_units(a[key])
                if key == "valid_min":
                    unpacked_lo, packed_lo = (v, packed_lo) if unp else (unpacked_lo, v)
                else:
                    unpacked_hi, packed_hi = (v, packed_hi) if unp else (unpacked_hi, v)
        keep &= (x >= packed_lo) & (x <= packed_hi)
    x = x[keep]
    if sf is not None:
        x = x * float(np.asarray(sf).ravel()[0])
    if ao is not None:
        x = x + float(np.asarray(ao).ravel()[0])
    return x[(x >= unpacked_lo) & (x <= unpacked_hi)]


def is_lat(a):
    return text(a, "standard_name") == "latitude" or text(a, "units") in LAT_UNITS


def is_lon(a):
    return text(a, "standard_name") == "longitude" or text(a, "units") in LON_UNITS


def is_coordinate_variable(name, var):
    return len(var.dimensions) == 1 and var.dimensions[0] == name


def is_time(name, var, a):
    units = text(a, "units")
    if not units or " since " not in units.lower():
        return False
    if not TIME_NEEDS_NAME_AXIS_OR_DIMENSION:
        return True
    return (text(a, "standard_name") == "time" or text(a, "axis") == "T"
            or is_coordinate_variable(name, var))


# ---------------------------------------------------------------- bbox

def time_rank(name, var, a):
    """How well a time stands for the data's time axis, lower is better (docs/STAC.md)."""
    sn = text(a, "standard_name") or ""
    if sn == "forecast_reference_time":
        return 3
    if is_coordinate_variable(name, var):
        return 0
    if sn == "time" or (text(a, "axis") or "").upper() == "T":
        return 1
    return 2


def time_bounds_name(a):
    """A time's cell bounds: `bounds`, else `climatology` (CF 7.4)."""
    return text(a, "bounds") or text(a, "climatology")


def rotate_to_geographic(rlon, rlat, pole_lat, pole_lon, npgl=0.0):
    """Rotated-pole grid points to true lon/lat (CF appendix F, cartopy's RotatedPole):
    v_geo = Rz(pole_lon) . Ry(90 - pole_lat) . Rz(180 - npgl) . v_rot."""
    lam = np.radians(np.asarray(rlon, "f8") - npgl + 180.0)
    phi = np.radians(np.asarray(rlat, "f8"))
    x, y, z = np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)
    b = np.radians(90.0 - pole_lat)
    x, z = np.cos(b) * x + np.sin(b) * z, -np.sin(b) * x + np.cos(b) * z
    c = np.radians(pole_lon)
    x, y = np.cos(c) * x - np.sin(c) * y, np.sin(c) * x + np.cos(c) * y
    lat = np.degrees(np.arcsin(np.clip(z, -1, 1)))
    lon = np.degrees(np.arctan2(y, x))
    return lon, lat


# The arc crosses ±180 only when another gap is larger than the one across ±180 by more than
# this (docs/STAC.md): a global grid stored with rounding noise (MERRA-2 in the corpus: a
# longitude -6e-13 instead of 0) must not "cross" and get the bbox [0.625, -90, -6e-13, 90].
# (The daemon also bins values at 0.01° for the gap search; not modelled: exact values here.)
GAP_TIE = 0.001


def lon_arc(lons):
    """(west, east) of the smallest arc holding every longitude (docs/STAC.md): normalised to
    [-180, 180), the largest gap between sorted neighbours, the one across ±180 winning ties."""
    v = np.unique(np.mod(np.asarray(lons, "f8") + 180.0, 360.0) - 180.0)
    if v.size == 1:
        return float(v[0]), float(v[0])
    gaps = np.diff(v)
    wrap = v[0] + 360.0 - v[-1]
    i = int(np.argmax(gaps))
    if gaps[i] <= wrap + GAP_TIE:
        return float(v[0]), float(v[-1])
    return float(v[i + 1]), float(v[i])


@dataclass
class Expected:
    bbox: list
    bbox_source: str
    geometry_type: str
    datetime: object = None  # dt.datetime (single instant) or None
    start: object = None
    end: object = None
    datetime_source: str = "coordinates"
    calendar: object = None  # cf:calendar or None when absent
    cf_time_extent: object = None  # cloudify:cf_time_extent (labels) when clamped, else absent
    title: object = None
    description: object = None
    copied: dict = field(default_factory=dict)
    dims: dict = field(default_factory=dict)  # cube:dimensions expectations (netCDF files)
    variables: dict = field(default_factory=dict)  # cube:variables expectations


def named_lat(name, a):
    u = (text(a, "units") or "").lower()
    return name.lower() in ("lat", "latitude") and (u == "" or u.startswith("deg"))


def named_lon(name, a):
    u = (text(a, "units") or "").lower()
    return name.lower() in ("lon", "long", "longitude") and (u == "" or u.startswith("deg"))


def coordinate_names(ds, all_groups):
    """ids of the variables that are coordinates: of a dimension, or named by a `coordinates`
    attribute (resolved like CF references)."""
    out = set()
    for _p, g in all_groups:
        for name, var in g.variables.items():
            if is_coordinate_variable(name, var):
                out.add(id(var))
            for word in (text(attrs(var), "coordinates") or "").split():
                target = resolve(ds, g, word)
                if target is not None:
                    out.add(id(target))
    return out


def spatial(ds, all_groups):
    # latitudes/longitudes that are coordinates win over others (a satellite's position)
    coords = coordinate_names(ds, all_groups)
    lat_only = lambda n, a: is_lat(a) and not is_lon(a)  # noqa: E731
    lon_only = lambda n, a: is_lon(a) and not is_lat(a)  # noqa: E731
    has_pair = any(id(v) in coords and lat_only(n, attrs(v)) for _p, g in all_groups
                   for n, v in g.variables.items()) and \
        any(id(v) in coords and lon_only(n, attrs(v)) for _p, g in all_groups
            for n, v in g.variables.items())
    if has_pair:
        lat, lon = lat_lon_values(ds, all_groups, lat_only, lon_only, only=coords)
    else:
        lat, lon = lat_lon_values(ds, all_groups, lat_only, lon_only)
    if NAMED_LATLON_FALLBACK and (lat.size == 0 or lon.size == 0):
        lat, lon = lat_lon_values(ds, all_groups, named_lat, named_lon)
    if lat.size == 0 or lon.size == 0:
        lon, lat = rotated(ds, all_groups)
    if lat.size == 0 or lon.size == 0:
        return [-180.0, -90.0, 180.0, 90.0], "global-fallback", "Polygon"
    west, east = lon_arc(lon)
    south, north = float(lat.min()), float(lat.max())
    if south == north and west == east:
        kind = "Point"
    elif west > east:
        kind = "MultiPolygon"
    else:
        kind = "Polygon"
    return [west, south, east, north], "coordinates", kind


def lat_lon_values(ds, all_groups, pick_lat, pick_lon, only=None):
    """Every latitude and every longitude value (bounds instead of centres when named) of the
    variables `pick_lat(name, attrs)` / `pick_lon(name, attrs)` choose (among `only`, ids)."""
    lats, lons = [], []
    for _p, g in all_groups:
        for name, var in g.variables.items():
            if only is not None and id(var) not in only:
                continue
            a = attrs(var)
            lat, lon = pick_lat(name, a), pick_lon(name, a)
            if not (lat or lon):
                continue
            src = var
            bname = text(a, "bounds")
            if bname:
                b = resolve(ds, g, bname)
                if b is not None:
                    src = b
            vals = decoded(src)
            if lat:
                lats.append(vals[(vals >= -90) & (vals <= 90)])
            if lon:  # beyond [-360, 720]: undeclared fill values such as -9999.9
                lons.append(vals[(vals >= -360) & (vals <= 720)])
    lat = np.concatenate(lats) if lats else np.array([])
    lon = np.concatenate(lons) if lons else np.array([])
    return lat, lon


def rotated(ds, all_groups):
    for _p, g in all_groups:
        for name, var in g.variables.items():
            a = attrs(var)
            if text(a, "grid_mapping_name") != "rotated_latitude_longitude":
                continue
            rlat = rlon = None
            for _q, h in all_groups:
                for n2, v2 in h.variables.items():
                    if len(v2.dimensions) != 1:
                        continue
                    sn = text(attrs(v2), "standard_name")
                    if sn == "grid_latitude" and rlat is None:
                        rlat = decoded(v2)
                    elif sn == "grid_longitude" and rlon is None:
                        rlon = decoded(v2)
            if rlat is None or rlon is None:
                continue
            glon, glat = np.meshgrid(rlon, rlat)
            lon, lat = rotate_to_geographic(glon.ravel(), glat.ravel(),
                                            float(a["grid_north_pole_latitude"]),
                                            float(a["grid_north_pole_longitude"]),
                                            float(a.get("north_pole_grid_longitude", 0.0)))
            return lon, lat
    return np.array([]), np.array([])


# ---------------------------------------------------------------- time

def gregorian_label(d):
    """A calendar date label as an aware datetime; not a real date -> last day of the month;
    before year 1 (after 9999) clamped to 0001-01-01T00:00 (9999-12-31T23:59:59)."""
    if d.year < FIRST_STAC_YEAR:
        return dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
    if d.year > LAST_STAC_YEAR:
        return dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
    day = min(d.day, pycalendar.monthrange(d.year, d.month)[1])
    return dt.datetime(d.year, d.month, day, d.hour, d.minute, d.second, d.microsecond,
                       tzinfo=dt.timezone.utc)


def clamped(d):
    return not FIRST_STAC_YEAR <= d.year <= LAST_STAC_YEAR


def cube_label(d):
    """A temporal cube extent: the Gregorian label as a datetime, or (a year cannot be a
    Python datetime) the label's ISO 8601 text."""
    if clamped(d):
        return d.isoformat() + "Z"
    return gregorian_label(d)


def label_key(d):
    return (d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)


def time_extent(var, a, bounds_var):
    """(min label, max label) of the values (and bounds) of one time coordinate, or None."""
    cal = text(a, "calendar") or "standard"
    if cal.lower() not in REAL_CALENDARS:
        return None
    vals = [decoded(var, a)]
    if bounds_var is not None:
        vals.append(decoded(bounds_var))
    vals = np.concatenate(vals)
    if vals.size == 0:
        return None
    try:
        dates = cftime.num2date(np.array([vals.min(), vals.max()]), text(a, "units"), cal.lower(),
                                only_use_cftime_datetimes=True)
    except (ValueError, TypeError, OverflowError):
        return None
    return dates[0], dates[1]


def file_mtime(path):
    return dt.datetime.fromtimestamp(math.floor(os.stat(path).st_mtime), tz=dt.timezone.utc)


def temporal(ds, all_groups, path):
    found = {}  # rank -> [lo, hi, calendar]
    for _p, g in all_groups:
        for name, var in g.variables.items():
            a = attrs(var)
            if not is_time(name, var, a):
                continue
            rank = time_rank(name, var, a) if TIME_AXIS_FIRST else 0
            b = None
            bname = time_bounds_name(a)
            if bname:
                b = resolve(ds, g, bname)
            ext = time_extent(var, a, b)
            if ext is None:
                continue
            r = found.setdefault(rank, [None, None, None])
            if r[2] is None:
                r[2] = text(a, "calendar") or "standard"
            if r[0] is None or label_key(ext[0]) < label_key(r[0]):
                r[0] = ext[0]
            if r[1] is None or label_key(ext[1]) > label_key(r[1]):
                r[1] = ext[1]
    if not found:
        return dict(datetime=file_mtime(path), start=None, end=None, datetime_source="file-mtime",
                    calendar=None)
    lo, hi, cal = found[min(found)]
    labels = None
    if clamped(lo) or clamped(hi):
        labels = [lo.isoformat(), hi.isoformat()]
    glo, ghi = gregorian_label(lo), gregorian_label(hi)
    if glo == ghi and labels is None:
        return dict(datetime=glo, start=None, end=None, datetime_source="coordinates", calendar=cal)
    return dict(datetime=None, start=glo, end=ghi, datetime_source="coordinates", calendar=cal,
                cf_time_extent=labels)


# ---------------------------------------------------------------- datacube

def cube_key(gpath, name):
    return name if gpath == "/" else gpath.strip("/") + "/" + name


def dimension_key(var, dname):
    """The cube:dimensions key of a variable's dimension: where the dimension is defined."""
    for d in var.get_dims():
        if d.name == dname:
            g = d.group()
            gpath = g.path if hasattr(g, "path") else "/"
            return cube_key(gpath, dname)
    return dname


def datacube(ds, all_groups, left_out):
    """cube:dimensions and cube:variables expectations: {key: {field: value}} with the fields
    this suite checks (type, axis, extent for index/spatial/temporal, values)."""
    dims, variables = {}, {}
    referenced = set()
    for _p, g in all_groups:
        for name, var in g.variables.items():
            a = attrs(var)
            for k in AUXILIARY_ATTRS:
                for w in (text(a, k) or "").split():
                    target = None if w.endswith(":") else resolve(ds, g, w)
                    if target is not None:
                        referenced.add((target.group().path, target.name))
    for gpath, g in all_groups:
        for dname, dim in g.dimensions.items():
            key = cube_key(gpath, dname)
            var = g.variables.get(dname)
            if var is None or not is_coordinate_variable(dname, var):
                dims[key] = {"type": "index", "extent": [0, len(dim) - 1]}
                continue
            a = attrs(var)
            sn = text(a, "standard_name") or ""
            axis = (text(a, "axis") or "").upper()
            if is_lat(a) or is_lon(a):
                v = decoded(var, a)
                dims[key] = {"type": "spatial", "axis": "y" if is_lat(a) else "x",
                             "extent": [float(v.min()), float(v.max())]}
            elif axis in ("X", "Y") or sn in ("projection_x_coordinate", "projection_y_coordinate",
                                              "grid_longitude", "grid_latitude"):
                ax = "x" if axis == "X" or sn in ("projection_x_coordinate", "grid_longitude") else "y"
                dims[key] = {"type": "spatial", "axis": ax}
            elif axis == "Z" or "positive" in a:
                dims[key] = {"type": "spatial", "axis": "z"}
            elif is_time(dname, var, a):
                ext = time_extent(var, a, None)
                if ext is None:
                    dims[key] = {}  # calendar none: not checked (docs/STAC.md says nothing)
                else:
                    dims[key] = {"type": "temporal",
                                 "extent": [cube_label(ext[0]), cube_label(ext[1])]}
                    bname = time_bounds_name(a)
                    b = resolve(ds, g, bname) if bname else None
                    if b is not None:
                        eb = time_extent(var, a, b)
                        dims[key]["extent_with_bounds"] = [cube_label(eb[0]), cube_label(eb[1])]
            else:
                dims[key] = {"type": sn or "other"}
                if len(dim) <= 100:
                    var.set_auto_maskandscale(True)
                    kind = getattr(var.dtype, "kind", "O")
                    v = var[...] if kind in "fiu" else np.array([])
                    v = np.ma.masked_invalid(v) if kind == "f" else v
                    plain = kind in "fiu" and not np.ma.is_masked(v)
                    # values compared only when numeric and without fill values
                    dims[key]["values"] = np.ma.getdata(v).tolist() if plain else None
        for name, var in g.variables.items():
            if name in left_out.get(gpath, []):
                continue
            if is_coordinate_variable(name, var):
                continue
            a = attrs(var)
            aux = ((gpath, name) in referenced or is_lat(a) or is_lon(a) or is_time(name, var, a))
            entry = {"dimensions": [dimension_key(var, d) for d in var.dimensions],
                     "type": "auxiliary" if aux else "data"}
            if text(a, "units"):
                entry["unit"] = text(a, "units")
            desc = text(a, "long_name") or text(a, "standard_name")
            if desc:
                entry["description"] = desc
            variables[cube_key(gpath, name)] = entry
    return dims, variables


# ---------------------------------------------------------------- everything

def store_stem(file_name):
    """The mount's short naming rule (last extension replaced)."""
    return file_name.rsplit(".", 1)[0] if "." in file_name[1:] else file_name


def expected(path, left_out=None, cube=True):
    """Expectations for the item of the file at `path` (`left_out`: {group: [variables the
    Zarr view leaves out]}; `cube`: compute the datacube expectations too)."""
    path = Path(path)
    with netCDF4.Dataset(path) as ds:
        all_groups = groups(ds)
        bbox, bsrc, gtype = spatial(ds, all_groups)
        t = temporal(ds, all_groups, path)
        ga = attrs(ds)
        e = Expected(bbox=bbox, bbox_source=bsrc, geometry_type=gtype, **t)
        e.title = text(ga, "title")
        e.description = text(ga, "summary") or text(ga, "comment")
        e.copied = {k: ga[k] for k in COPIED_ATTRS if k in ga}
        if cube:  # the Zarr view names dimensions as netCDF-C does, phony ones included
            e.dims, e.variables = datacube(ds, all_groups, left_out or {})
    return e


# ---------------------------------------------------------------- comparing an item

def parse_time(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist() if v.size != 1 else v.item()
    if isinstance(v, np.generic):
        return v.item()
    return v


def close(a, b, tol=1e-6):
    return (isinstance(a, (int, float)) and isinstance(b, (int, float))
            and math.isfinite(a) and math.isfinite(b) and abs(a - b) <= tol)


def positions(geometry):
    """Every [lon, lat] of a Point/Polygon/MultiPolygon, per polygon."""
    t, c = geometry.get("type"), geometry.get("coordinates")
    if t == "Point":
        return [[c]]
    if t == "Polygon":
        return [c[0]]
    if t == "MultiPolygon":
        return [p[0] for p in c]
    return []


def compare_item(item, e, item_id, store_name, depth, check_cube=True):
    """Differences between a STAC item and the expectations `e` (an `Expected`), as readable
    strings "field: expected X, got Y". `depth`: directories between the mount root and the
    item (for the root link); `store_name`: "<stem>.zarr"."""
    out = []

    def want(field, exp, got):
        out.append(f"{field}: expected {exp!r}, got {got!r}")

    props = item.get("properties", {})
    for k, v in (("type", "Feature"), ("stac_version", STAC_VERSION)):
        if item.get(k) != v:
            want(k, v, item.get(k))
    if item_id is not None and item.get("id") != item_id:
        want("id", item_id, item.get("id"))
    bbox = item.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(close(a, b) for a, b in zip(bbox, e.bbox))):
        want("bbox", e.bbox, bbox)
    geom = item.get("geometry") or {}
    if geom.get("type") != e.geometry_type:
        want("geometry.type", e.geometry_type, geom.get("type"))
    elif isinstance(bbox, list) and len(bbox) == 4:
        w, s, east, n = e.bbox
        polys = positions(geom)
        ranges = sorted((min(p[0] for p in r), max(p[0] for p in r), min(p[1] for p in r),
                         max(p[1] for p in r)) for r in polys)
        if e.geometry_type == "MultiPolygon":
            exp_ranges = sorted([(-180.0, east, s, n), (w, 180.0, s, n)])
        else:
            exp_ranges = [(w, east, s, n)]
        if len(ranges) != len(exp_ranges) or not all(
                close(a, b) for r, q in zip(ranges, exp_ranges) for a, b in zip(r, q)):
            want("geometry (lon/lat ranges of its polygons)", exp_ranges, ranges)
        if e.geometry_type != "Point":
            for r in polys:
                if r[0] != r[-1] or len(r) < 4:
                    want("geometry ring closed, >= 4 positions", True, r)
    for f, v in (("cloudify:bbox_source", e.bbox_source), ("cloudify:datetime_source", e.datetime_source)):
        if props.get(f) != v:
            want(f"properties.{f}", v, props.get(f))

    def same_time(field, exp, got):
        try:
            ok = got is not None and abs(parse_time(got) - exp) <= dt.timedelta(milliseconds=1)
        except (ValueError, TypeError):
            ok = False
        if not ok:
            want(field, exp.isoformat().replace("+00:00", "Z"), got)

    if e.datetime is not None:
        same_time("properties.datetime", e.datetime, props.get("datetime"))
        for f in ("start_datetime", "end_datetime"):
            if f in props:
                want(f"properties.{f}", "(absent)", props[f])
    else:
        if props.get("datetime", "missing") is not None:
            want("properties.datetime", None, props.get("datetime", "(absent)"))
        same_time("properties.start_datetime", e.start, props.get("start_datetime"))
        same_time("properties.end_datetime", e.end, props.get("end_datetime"))
    if props.get("cloudify:cf_time_extent") != e.cf_time_extent:
        want("properties.cloudify:cf_time_extent", e.cf_time_extent,
             props.get("cloudify:cf_time_extent", "(absent)"))
    if e.calendar is not None:
        if props.get("cf:calendar") != e.calendar:
            want("properties.cf:calendar", e.calendar, props.get("cf:calendar", "(absent)"))
    elif e.datetime_source == "file-mtime" and props.get("cf:calendar") not in (None, "none"):
        want("properties.cf:calendar", "(absent)", props.get("cf:calendar"))
    title = e.title if e.title is not None else store_name
    if props.get("title") != title:
        want("properties.title", title, props.get("title", "(absent)"))
    if props.get("description") != e.description:
        want("properties.description", e.description or "(absent)", props.get("description", "(absent)"))
    for k, v in e.copied.items():
        if props.get(k) != jsonable(v):
            want(f"properties.{k}", jsonable(v), props.get(k, "(absent)"))
    for k in props:
        if k not in COPIED_ATTRS and k.lower() in ("history", "summary", "comment", "featuretype"):
            want(f"properties.{k}", "(absent: not a copied attribute)", props[k])

    data = item.get("assets", {}).get("data")
    exp_data = {"href": f"./{store_name}", "type": "application/vnd+zarr", "roles": ["data"],
                "xarray:open_kwargs": {"engine": "zarr", "consolidated": True}}
    if data is None or any(data.get(k) != v for k, v in exp_data.items()):
        want("assets.data", exp_data, data)
    links = {(l.get("rel"), l.get("href")) for l in item.get("links", [])}
    for rel, href in (("root", "../" * depth + "catalog.json" if depth else "./catalog.json"),
                      ("parent", "./catalog.json")):
        if (rel, href) not in links:
            want(f"links[rel={rel}].href", href, [h for r, h in links if r == rel])
    if set(item.get("stac_extensions", [])) != {DATACUBE, XARRAY_ASSETS}:
        want("stac_extensions", sorted([DATACUBE, XARRAY_ASSETS]), item.get("stac_extensions"))
    if check_cube:
        out += compare_cube(props, e)
    return out


def key_differences(field, got, expected):
    """A message when the keys of `got` and `expected` differ, else nothing."""
    if set(got) == set(expected):
        return []
    return [f"{field} keys: missing {sorted(set(expected) - set(got))}, "
            f"unexpected {sorted(set(got) - set(expected))}"]


def compare_cube(props, e):
    dims = props.get("cube:dimensions", {})
    out = key_differences("cube:dimensions", dims, e.dims)
    for key, exp in e.dims.items():
        got = dims.get(key)
        if got is None:
            continue
        for f in ("type", "axis"):
            if f in exp and got.get(f) != exp[f]:
                out.append(f"cube:dimensions[{key}].{f}: expected {exp[f]!r}, got {got.get(f)!r}")
        if "extent" not in exp or exp.get("type") != got.get("type"):
            pass
        elif exp["type"] == "temporal":
            def same(g, x):  # a label text (a year Python has not) is compared as text
                if isinstance(x, str):
                    return g == x
                try:
                    return abs(parse_time(g) - x) <= dt.timedelta(milliseconds=1)
                except (TypeError, ValueError):
                    return False
            g = got.get("extent", [])
            options = [exp["extent"]] + ([exp["extent_with_bounds"]] if "extent_with_bounds" in exp else [])
            if not any(len(g) == 2 and all(same(a, b) for a, b in zip(g, o)) for o in options):
                text_of = lambda x: x if isinstance(x, str) else x.isoformat()
                out.append(f"cube:dimensions[{key}].extent: expected "
                           f"{[[text_of(x) for x in o] for o in options]} (one of), got {got.get('extent')!r}")
        elif exp["type"] == "index":
            if got.get("extent") != exp["extent"]:
                out.append(f"cube:dimensions[{key}].extent: expected {exp['extent']}, got {got.get('extent')!r}")
        elif not (len(got.get("extent") or []) == 2
                  and all(close(a, b) for a, b in zip(got["extent"], exp["extent"]))):
            out.append(f"cube:dimensions[{key}].extent: expected {exp['extent']}, got {got.get('extent')!r}")
        if exp.get("values") is not None and got.get("values") is not None:
            if not np.allclose(np.asarray(got["values"], "f8"), np.asarray(exp["values"], "f8"), equal_nan=True):
                out.append(f"cube:dimensions[{key}].values: expected {exp['values'][:10]}..., got {got['values'][:10]}...")
        elif exp.get("values") is not None and "extent" not in got:
            out.append(f"cube:dimensions[{key}]: expected values (<= 100), got {got!r}")
    variables = props.get("cube:variables", {})
    out += key_differences("cube:variables", variables, e.variables)
    for key, exp in e.variables.items():
        got = variables.get(key)
        if got is None:
            continue
        for f, v in exp.items():
            if got.get(f) != v:
                out.append(f"cube:variables[{key}].{f}: expected {v!r}, got {got.get(f, '(absent)')!r}")
    return out


if __name__ == "__main__":
    import sys
    for arg in sys.argv[1:]:
        e = expected(arg)
        print(arg)
        print("  bbox", e.bbox, e.bbox_source, e.geometry_type)
        print("  time", e.datetime, e.start, e.end, e.datetime_source, e.calendar)
        print("  title", e.title, "| description", e.description, "| copied", sorted(e.copied))
        print("  dims", {k: {f: v for f, v in d.items() if f != "values"} for k, d in list(e.dims.items())[:8]},
              f"({len(e.dims)})")
        print("  vars", dict(list(e.variables.items())[:4]), f"({len(e.variables)})")
