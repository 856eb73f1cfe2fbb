#!/usr/bin/env python3
"""Generate the small NetCDF-4/HDF5 files in fixtures/ (deterministic: seeded data).

Each file covers one case of the Zarr view; see fixtures/README.md for the list.
Run: python scripts/make_fixtures.py [OUTDIR]   (needs netCDF4, h5py, numpy; the codec
fixtures also PyTables and hdf5plugin, the Blosc2 one python-blosc2;
`--codecs`, `--blosc2` or `--packed-ints` after OUTDIR writes only those)
"""
import os
import subprocess
import sys

import h5py
import hdf5plugin  # noqa: F401 (before netCDF4, whose own plugins h5py's HDF5 cannot load)
import netCDF4
import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures")
rng = np.random.default_rng(20261129)


def path(name):
    p = os.path.join(OUT, name)
    if os.path.exists(p):
        os.remove(p)
    return p


def cf_coords(ds, nlat, nlon):
    ds.createDimension("lat", nlat)
    ds.createDimension("lon", nlon)
    lat = ds.createVariable("lat", "f8", ("lat",))
    lat[:] = np.linspace(-89.5, 89.5, nlat)
    lat.units = "degrees_north"
    lat.standard_name = "latitude"
    lat.axis = "Y"
    lon = ds.createVariable("lon", "f8", ("lon",))
    lon[:] = np.linspace(0, 360, nlon, endpoint=False)
    lon.units = "degrees_east"
    lon.standard_name = "longitude"
    lon.axis = "X"


def tas_day():
    """deflate + shuffle float32 (time, lat, lon), unlimited time, partial edge chunks."""
    with netCDF4.Dataset(path("tas_day.nc"), "w") as ds:
        ds.title = "synthetic daily near-surface air temperature"
        ds.Conventions = "CF-1.8"
        ds.institution = "cloudify-mount fixtures"
        ds.createDimension("time", None)
        cf_coords(ds, 45, 90)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 1850-01-01 00:00:00"
        t.calendar = "standard"
        t.standard_name = "time"
        t[:] = np.arange(10) + 0.5
        v = ds.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, complevel=4,
                              shuffle=True, chunksizes=(4, 16, 32), fill_value=np.float32(1e20))
        v.standard_name = "air_temperature"
        v.long_name = "Near-Surface Air Temperature"
        v.units = "K"
        v.cell_methods = "time: mean"
        data = 270 + 30 * rng.random((10, 45, 90), dtype=np.float32)
        data[2, 3, 4] = 1e20  # a masked value
        v[:] = data


def packed():
    """int16 packed with scale_factor/add_offset/_FillValue (and missing values in the data)."""
    with netCDF4.Dataset(path("packed.nc"), "w") as ds:
        ds.createDimension("y", 30)
        ds.createDimension("x", 40)
        v = ds.createVariable("pr", "i2", ("y", "x"), zlib=True, complevel=2, chunksizes=(16, 16),
                              fill_value=np.int16(-32767))
        v.set_auto_maskandscale(False)
        v.scale_factor = np.float32(0.01)
        v.add_offset = np.float32(5.0)
        v.units = "mm/day"
        v.valid_range = np.array([-32000, 32000], dtype="i2")
        raw = rng.integers(-30000, 30000, (30, 40), dtype=np.int16)
        raw[0, :5] = -32767
        v[:] = raw
        u = ds.createVariable("qa", "u1", ("y", "x"), zlib=True, chunksizes=(30, 40))
        u.set_auto_maskandscale(False)
        u[:] = rng.integers(0, 255, (30, 40), dtype=np.uint8)
        d = ds.createVariable("dbl", "f8", ("y",))
        d.missing_value = np.nan
        d.big = np.uint64(2**63 + 5)
        d.ints = np.array([1, -2, 3], dtype="i8")
        d[:] = rng.random(30)


def packed_kinds():
    """CF packing of every kind xarray decodes differently (for --unpack): int16 with float32
    scale/offset and a missing_value pair, partly unwritten; int16 with float64 scale/offset,
    contiguous; big-endian int16; byte with _Unsigned = "true" (its _FillValue -1 is 255);
    ubyte with _Unsigned = "false"; int32 with float32 scale/offset (float64: too wide for
    float32); scale_factor alone (float32), add_offset alone (float64), float32 scale with a
    float64 offset (float64); float data with a float32 scale; an integer scale_factor (xarray
    gives its integer type); a packed coordinate; valid_range kept."""
    with netCDF4.Dataset(path("packed_kinds.nc"), "w") as ds:
        ds.createDimension("t", 6)
        ds.createDimension("y", 10)
        ds.createDimension("x", 12)

        def var(name, dtype, dims=("t", "y", "x"), fill=None, **kw):
            v = ds.createVariable(name, dtype, dims, fill_value=fill, **kw)
            v.set_auto_maskandscale(False)
            return v

        shape = (6, 10, 12)
        t = var("t", "i2", ("t",))
        t.scale_factor, t.add_offset, t.units = np.float32(0.5), np.float32(1.0), "days since 2000-01-01"
        t[:] = np.arange(6, dtype="i2") * 2
        a = var("f32_missing", "i2", fill=np.int16(-32767), zlib=True, chunksizes=(2, 5, 6))
        a.scale_factor, a.add_offset = np.float32(0.02), np.float32(-3.5)
        a.missing_value = np.array([-32000, 32000], dtype="i2")
        a.valid_range = np.array([-31000, 31000], dtype="i2")
        raw = rng.integers(-31000, 31000, shape, dtype=np.int16)
        raw[0, 0, :3] = -32000
        raw[1, 1, :2] = 32000
        raw[2, 2, :4] = -32767
        a[:4] = raw[:4]  # the last time steps never written: fill value
        b = var("f64_contiguous", "i2", fill=np.int16(-9999), contiguous=True)
        b.scale_factor, b.add_offset = np.float64(0.001), np.float64(273.15)
        raw = rng.integers(-20000, 20000, shape, dtype=np.int16)
        raw[0, 0, 0] = -9999
        b[:] = raw
        c = var("big_endian", ">i2", fill=np.int16(-1), endian="big", zlib=True, chunksizes=(3, 10, 12))
        c.scale_factor, c.add_offset = np.float32(0.1), np.float32(0.0)
        c[:] = rng.integers(0, 3000, shape, dtype=np.int16)
        d = var("byte_unsigned", "i1", fill=np.int8(-1), zlib=True, chunksizes=(6, 5, 12))
        d._Unsigned = "true"
        d.scale_factor, d.add_offset = np.float32(0.4), np.float32(-10.0)
        raw = rng.integers(-128, 127, shape, dtype=np.int8)
        raw[0, 0, :6] = -1
        d[:] = raw
        e = var("ubyte_signed", "u1", fill=np.uint8(200))
        e._Unsigned = "false"
        e.scale_factor, e.add_offset = np.float32(2.0), np.float32(100.0)
        e[:] = rng.integers(0, 255, shape, dtype=np.uint8)
        f = var("int32_f32", "i4", fill=np.int32(-2147483647), zlib=True)
        f.scale_factor, f.add_offset = np.float32(1e-4), np.float32(10.0)
        f[:] = rng.integers(-2_000_000_000, 2_000_000_000, shape, dtype=np.int32)
        g = var("scale_only", "i2")
        g.scale_factor = np.float32(0.25)
        g[:] = rng.integers(-1000, 1000, shape, dtype=np.int16)
        h = var("offset_only", "i2", fill=np.int16(0))
        h.add_offset = np.float32(0.5)
        h[:] = rng.integers(-1000, 1000, shape, dtype=np.int16)
        k = var("mixed_types", "i2")
        k.scale_factor, k.add_offset = np.float32(0.3), np.float64(7.0)
        k[:] = rng.integers(-1000, 1000, shape, dtype=np.int16)
        m = var("float_scaled", "f4", fill=np.float32(-999.0), zlib=True)
        m.scale_factor = np.float32(100.0)
        raw = rng.random(shape, dtype=np.float32)
        raw[0, 0, 0] = -999.0
        raw[0, 0, 1] = np.nan
        m[:] = raw
        n = var("int_scale", "i2")
        n.scale_factor = np.int16(3)
        n[:] = rng.integers(-1000, 1000, shape, dtype=np.int16)


def packed_ints():
    """Integer packing attributes (for --unpack), each kind xarray decodes differently, on
    its own generator: an integer scale_factor alone gives its own type (int8, int32, uint16,
    int64; the stored integers cast to it and multiplied, wrapping; with _Unsigned; int32 data
    narrowed to an int16 scale), integer scale and offset of one type, an integer offset
    alone, a float scale with an integer offset and the reverse give float64; integer
    attributes of every width beside them (valid_min, flag_values, a uint32)."""
    irng = np.random.default_rng(20261209)
    with netCDF4.Dataset(path("packed_ints.nc"), "w") as ds:
        ds.createDimension("y", 10)
        ds.createDimension("x", 12)
        shape = (10, 12)

        def var(name, dtype, values, **attrs):
            v = ds.createVariable(name, dtype, ("y", "x"), zlib=True, chunksizes=(5, 12))
            v.set_auto_maskandscale(False)
            for k, a in attrs.items():
                v.setncattr(k, a)
            v[:] = values
            return v

        i2 = irng.integers(-1000, 1000, shape, dtype=np.int16)
        var("scale_int8", "i2", i2, scale_factor=np.int8(3), valid_min=np.int8(-100))
        var("scale_int32", "i2", i2, scale_factor=np.int32(70000), units="1")
        var("scale_uint16", "i2", i2, scale_factor=np.uint16(7), flag_values=np.int16(5))
        var("scale_int64_on_ubyte", "u1", irng.integers(0, 255, shape, dtype=np.uint8),
            scale_factor=np.int64(3))
        var("scale_int8_unsigned", "i1", irng.integers(-128, 127, shape, dtype=np.int8),
            scale_factor=np.int8(2), _Unsigned="true")
        var("scale_int16_on_int32", "i4", irng.integers(-2**31, 2**31 - 1, shape, dtype=np.int32),
            scale_factor=np.int16(3))
        var("scale_offset_int32", "i2", i2, scale_factor=np.int32(2), add_offset=np.int32(-5))
        var("offset_uint8", "i2", i2, add_offset=np.uint8(200), count=np.uint32(4000000000))
        var("float_scale_int_offset", "i2", i2, scale_factor=np.float32(0.5),
            add_offset=np.int16(10))
        var("int_scale_float_offset", "i2", i2, scale_factor=np.int16(2),
            add_offset=np.float32(0.25))


def fletcher():
    """fletcher32 checksums on deflated chunks."""
    with netCDF4.Dataset(path("fletcher32.nc"), "w") as ds:
        ds.createDimension("n", 1000)
        v = ds.createVariable("v", "f8", ("n",), zlib=True, fletcher32=True, chunksizes=(300,))
        v[:] = rng.standard_normal(1000)
        w = ds.createVariable("w", "i4", ("n",), fletcher32=True, chunksizes=(256,))
        w[:] = np.arange(1000, dtype="i4") * 7


def sparse():
    """Unallocated chunks: with a _FillValue (no chunk file) and without (fill chunk)."""
    with netCDF4.Dataset(path("sparse.nc"), "w") as ds:
        ds.createDimension("t", 8)
        ds.createDimension("k", 12)
        a = ds.createVariable("with_fill", "f4", ("t", "k"), zlib=True, chunksizes=(2, 4),
                              fill_value=np.float32(-999.0))
        a[0:2, 0:4] = 1.5
        a[6:8, 8:12] = rng.random((2, 4), dtype=np.float32)
        b = ds.createVariable("default_fill", "i4", ("t", "k"), zlib=True, shuffle=True,
                              chunksizes=(3, 5))
        b[0:3, 0:5] = 42
        c = ds.createVariable("never_written", "f8", ("t",), chunksizes=(3,))
        c.note = "no data was ever written"
        e = ds.createVariable("nan_fill", "f4", ("t",), chunksizes=(4,), fill_value=np.float32(np.nan))
        e[0:4] = 3.0


def contiguous_and_big_endian():
    """A contiguous variable large enough to be split, big-endian variables, a scalar."""
    with netCDF4.Dataset(path("contiguous.nc"), "w") as ds:
        ds.createDimension("time", 7)
        ds.createDimension("y", 50)
        ds.createDimension("x", 60)
        v = ds.createVariable("field", "f4", ("time", "y", "x"), contiguous=True)
        v[:] = rng.standard_normal((7, 50, 60)).astype("f4")
        b = ds.createVariable("be_chunked", ">i2", ("y", "x"), zlib=True, endian="big", chunksizes=(20, 25))
        b[:] = rng.integers(-1000, 1000, (50, 60), dtype=np.int16)
        c = ds.createVariable("be_contig", ">f8", ("time",), endian="big", contiguous=True)
        c[:] = np.arange(7) * 1.25
        s = ds.createVariable("scalar", "f8", ())
        s.units = "1"
        s.assignValue(3.75)
        u = ds.createVariable("u8", "u8", ("time",))
        u[:] = np.array([0, 1, 2**40, 2**63, 2**64 - 1, 5, 6], dtype="u8")


def groups():
    """Nested NetCDF-4 groups with their own dimensions and attributes."""
    with netCDF4.Dataset(path("groups.nc"), "w") as ds:
        ds.product = "nested groups fixture"
        ds.createDimension("scan", 6)
        top = ds.createVariable("scan_time", "f8", ("scan",))
        top[:] = np.arange(6) * 1.5
        g1 = ds.createGroup("instrument")
        g1.name_attr = "radiometer"
        g1.createDimension("channel", 4)
        ch = g1.createVariable("channel", "i4", ("channel",))
        ch[:] = [19, 22, 37, 91]
        tb = g1.createVariable("tb", "f4", ("scan", "channel"), zlib=True, chunksizes=(4, 3))
        tb[:] = 200 + 100 * rng.random((6, 4), dtype=np.float32)
        g2 = g1.createGroup("calibration")
        g2.createDimension("coef", 3)
        k = g2.createVariable("k", "f8", ("channel", "coef"))
        k[:] = rng.random((4, 3))
        k.comment = "deepest group"


def calendars():
    """CF time with non-standard calendars."""
    with netCDF4.Dataset(path("calendar_noleap.nc"), "w") as ds:
        ds.createDimension("time", 5)
        t = ds.createVariable("time", "i4", ("time",))
        t.units = "days since 2000-02-27"
        t.calendar = "noleap"
        t[:] = np.arange(5)
        t2 = ds.createVariable("time_360", "f8", ("time",))
        t2.units = "hours since 1999-12-30 00:00"
        t2.calendar = "360_day"
        t2[:] = np.arange(5) * 36.0
        v = ds.createVariable("x", "f4", ("time",))
        v.coordinates = "time_360"
        v[:] = np.arange(5, dtype="f4")


def plain_hdf5():
    """Plain HDF5 (h5py): user block, compact dataset, skipped-filter chunk, no extension."""
    p = path("plain_hdf5")
    with h5py.File(p, "w", userblock_size=512) as f:
        f.attrs["origin"] = "h5py"
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        space = h5py.h5s.create_simple((3, 4))
        h5py.h5d.create(f.id, b"compact", h5py.h5t.STD_I32LE, space, dcpl=dcpl).write(
            h5py.h5s.ALL, h5py.h5s.ALL, np.arange(12, dtype="<i4").reshape(3, 4))
        d = f.create_dataset("masked", shape=(4, 6), chunks=(2, 6), dtype="<f4",
                             compression="gzip", compression_opts=3, shuffle=True)
        d[:] = rng.random((4, 6), dtype=np.float32)
        # rewrite chunk (2, 0) with deflate skipped (filter mask bit 1): shuffled bytes only
        raw = (np.arange(12, dtype="<f4") * 0.5).reshape(2, 6)
        shuffled = np.frombuffer(raw.tobytes(), dtype="u1").reshape(-1, 4).T.copy().tobytes()
        d.id.write_direct_chunk((2, 0), shuffled, filter_mask=0b10)


def netcdf3(name, fmt, extra):
    """NetCDF-3 with record variables (gathered several records a chunk) and fixed ones."""
    with netCDF4.Dataset(path(name), "w", format=fmt) as ds:
        ds.history = f"{fmt} fixture"
        ds.createDimension("time", None)
        ds.createDimension("x", 100)
        ds.createDimension("strlen", 8)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "hours since 2001-01-01"
        t[:] = np.arange(120) * 6.0
        temp = ds.createVariable("temp", "f4", ("time", "x"), fill_value=np.float32(-1e30))
        temp.units = "degC"
        data = rng.standard_normal((120, 100)).astype("f4")
        data[5, 7] = -1e30
        temp[:] = data
        flag = ds.createVariable("flag", "i1", ("time",))
        flag[:] = (np.arange(120) % 7).astype("i1")
        label = ds.createVariable("label", "S1", ("time", "strlen"))
        label[:] = netCDF4.stringtochar(np.array([f"rec{i:05d}" for i in range(120)], dtype="S8"))
        lat = ds.createVariable("lat", "f8", ("x",))
        lat[:] = np.linspace(-80, 80, 100)
        sc = ds.createVariable("scalar", "i4", ())
        sc.assignValue(-7)
        extra(ds)


def cdf1_extra(ds):
    ds.createDimension("y", 3)
    m = ds.createVariable("matrix", "i2", ("y", "x"))
    m.scale_factor = 0.5
    m[:] = rng.integers(-100, 100, (3, 100), dtype=np.int16)


def cdf2_extra(ds):
    pass


def cdf5_extra(ds):
    for t in ("u1", "u2", "u4", "i8", "u8"):
        v = ds.createVariable(f"rec_{t}", t, ("time",))
        info = np.iinfo(t)
        v[:] = np.linspace(info.min, info.max, 120, dtype="f8").astype(t)
        w = ds.createVariable(f"fixed_{t}", t, ("x",))
        w[:] = (np.arange(100) * 3).astype(t)


def single_record_variable():
    """CDF-2 whose only record variable is a short: records are not padded to 4 bytes."""
    with netCDF4.Dataset(path("netcdf3_single_record.nc"), "w", format="NETCDF3_64BIT_OFFSET") as ds:
        ds.createDimension("time", None)
        v = ds.createVariable("s", "i2", ("time",))
        v[:] = np.arange(13, dtype="i2") * 3
        c = ds.createVariable("c", "f4", ())
        c.assignValue(2.5)


def strings_and_enums():
    """NetCDF-4 vlen strings (2-D, scalar, attribute arrays), char arrays, an enum."""
    with netCDF4.Dataset(path("strings_enum.nc"), "w") as ds:
        ds.keywords = ["climate", "strings", "h\u00e9"]
        ds.createDimension("n", 3)
        ds.createDimension("m", 2)
        ds.createDimension("strlen", 5)
        s = ds.createVariable("names", str, ("n", "m"))
        s[:] = np.array([["a", "bb"], ["", "h\u00e9llo"], ["x y", "z"]], dtype=object)
        s.long_name = "vlen strings"
        one = ds.createVariable("title_var", str, ())
        one[0] = "a scalar string"
        c = ds.createVariable("codes", "S1", ("n", "strlen"))
        c[:] = netCDF4.stringtochar(np.array(["abc", "de", "fghij"], dtype="S5"))
        et = ds.createEnumType(np.uint8, "cloud_t", {"clear": 0, "cloudy": 1, "missing": 255})
        e = ds.createVariable("cloud", et, ("n",), fill_value=255)
        e[:] = np.array([0, 1, 0], dtype=np.uint8)
        e2 = ds.createVariable("cloud_sparse", et, ("n", "m"), fill_value=255, chunksizes=(1, 2))
        e2[0, :] = np.array([1, 1], dtype=np.uint8)


def hdf5_scales(name, make_data):
    """Plain HDF5 (h5py): dimension scales attached by reference, a group with a space."""
    with h5py.File(path(name), "w") as f:
        g = f.create_group("Data Fields")
        x = g.create_dataset("x", data=np.arange(10, dtype="f8"))
        x.make_scale("x")
        y = g.create_dataset("y", data=np.arange(6, dtype="f8") * 10)
        y.make_scale("y")
        for d in make_data(g):
            d.dims[0].attach_scale(y)
            d.dims[1].attach_scale(x)


def hdf5_library_filters():
    """szip and scaleoffset have no Zarr codec: szip decoded in the daemon, scaleoffset by libhdf5."""
    hdf5_scales("hdf5_library_filters.h5", lambda g: [
        g.create_dataset("scaleoffset", data=rng.integers(0, 1000, (6, 10)).astype("i4"),
                         chunks=(3, 4), scaleoffset=0),
        g.create_dataset("szip", data=rng.standard_normal((6, 10)).astype("f4"),
                         chunks=(4, 4), compression="szip", compression_opts=("nn", 8)),
    ])


def hdf5_lzf():
    """LZF (h5py's own filter; netCDF-C cannot read it: the tests compare with h5netcdf)."""
    def data(g):
        d = g.create_dataset("lzf field", data=rng.random((6, 10)).astype("f4"), chunks=(4, 5),
                             compression="lzf", shuffle=True)
        d.attrs["units"] = "1"
        return [d]
    hdf5_scales("hdf5_lzf.h5", data)


def unsupported_types():
    """Compound and vlen-numeric variables: left out with a reason, the rest still served."""
    with netCDF4.Dataset(path("unsupported_types.nc"), "w") as ds:
        ds.createDimension("n", 3)
        ct = ds.createCompoundType(np.dtype([("a", "i4"), ("b", "f8")]), "pair_t")
        v = ds.createVariable("pairs", ct, ("n",))
        v[:] = np.array([(1, 1.5), (2, 2.5), (3, 3.5)], dtype=[("a", "i4"), ("b", "f8")])
        vt = ds.createVLType(np.int32, "ragged_t")
        r = ds.createVariable("ragged", vt, ("n",))
        for i, row in enumerate(([1, 2], [3], [4, 5, 6])):
            r[i] = np.array(row, "i4")
        x = ds.createVariable("x", "f4", ("n",))
        x[:] = [1, 2, 3]


def hdf5_file_format_versions():
    """Chunk indexes beyond NetCDF-4's defaults: version-2 object headers with a v1 B-tree
    (libver 1.8, with continuation blocks from many attributes), and the 1.10 format's own
    chunk indexes (fixed/extensible arrays: read through libhdf5)."""
    for name, libver in (("hdf5_libver18.h5", ("v108", "v108")), ("hdf5_libver110.h5", ("v110", "v110"))):
        with h5py.File(path(name), "w", libver=libver) as f:
            a = f.create_dataset("fixed", data=rng.random((20, 30)).astype("f4"), chunks=(7, 8),
                                 compression="gzip", shuffle=True)
            b = f.create_dataset("growing", shape=(5, 6), maxshape=(None, 6), chunks=(2, 6),
                                 dtype="i4", compression="gzip")
            b[:] = np.arange(30, dtype="i4").reshape(5, 6)
            for i in range(40):
                a.attrs[f"attribute_{i:02d}"] = f"value {i} " * 8


# --- HDF5 filters that are Zarr codecs, float16, N-bit types (issue 18). Own generator, so
# that the data of the files above do not depend on these.
crng = np.random.default_rng(20261207)


def compressible(shape, dtype="f4", scale=20):
    """Values with few distinct bytes: every codec compresses them (Blosc refuses data it
    cannot shrink, and the HDF5 filter then stores the chunk unfiltered)."""
    return (np.round(crng.random(shape) * scale) / 4).astype(dtype)


def nc4_codecs():
    """netCDF4-python's compression= codecs (netCDF-C's filters): zstd, bzip2, Blosc with each
    sub-codec and shuffle; chunks partly unwritten without a _FillValue (fill chunks encoded
    with the codec)."""
    with netCDF4.Dataset(path("nc4_codecs.nc"), "w") as ds:
        ds.title = "compression= codecs of netCDF4-python"
        ds.createDimension("time", None)
        ds.createDimension("y", 12)
        ds.createDimension("x", 20)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01"
        t[:] = np.arange(3.0)
        cases = [("zstd", {"shuffle": True}), ("bzip2", {}),
                 ("blosc_lz4", {"blosc_shuffle": 1}), ("blosc_lz", {"blosc_shuffle": 2}),
                 ("blosc_lz4hc", {"blosc_shuffle": 1}), ("blosc_zlib", {"blosc_shuffle": 0}),
                 ("blosc_zstd", {"blosc_shuffle": 2})]
        for comp, kw in cases:
            v = ds.createVariable(comp, "f4", ("time", "y", "x"), compression=comp, complevel=5,
                                  chunksizes=(2, 6, 16), **kw)
            v.units = "K"
            v[:] = compressible((3, 12, 20))
        i = ds.createVariable("counts_blosc", "i2", ("y", "x"), compression="blosc_lz4",
                              chunksizes=(6, 20))
        i[:] = compressible((12, 20), "i2", 400)
        for comp in ("zstd", "bzip2", "blosc_zstd"):
            # no _FillValue attribute: unwritten chunks hold netCDF's default fill, which Zarr's
            # fill_value cannot stand for: served as fill chunks encoded with the codec
            v = ds.createVariable(f"sparse_{comp}", "f4", ("y", "x"), compression=comp,
                                  chunksizes=(6, 10))
            v[:6, :10] = compressible((6, 10))


def hdf5_plugin_codecs():
    """h5py + hdf5plugin: zstd (32015), LZ4 (32004, HDF5's own block framing: decoded in the
    daemon), Blosc (32001, LZ4 with bit shuffle, zstd), bzip2 (307), with dimension scales."""
    def data(g):
        return [
            g.create_dataset("zstd", data=compressible((6, 10)), chunks=(6, 10),
                             **hdf5plugin.Zstd(clevel=7)),
            g.create_dataset("lz4", data=compressible((6, 10), "f8"), chunks=(3, 10),
                             **hdf5plugin.LZ4(nbytes=64)),
            g.create_dataset("blosc_lz4_bit", data=compressible((6, 10), "f8"), chunks=(6, 10),
                             **hdf5plugin.Blosc(cname="lz4", clevel=5,
                                                shuffle=hdf5plugin.Blosc.BITSHUFFLE)),
            g.create_dataset("blosc_zstd", data=compressible((6, 10), "i4", 80), chunks=(6, 10),
                             **hdf5plugin.Blosc(cname="zstd", clevel=3,
                                                shuffle=hdf5plugin.Blosc.SHUFFLE)),
            g.create_dataset("bzip2", data=compressible((6, 10)), chunks=(4, 10),
                             **hdf5plugin.BZip2(blocksize=9)),
        ]
    hdf5_scales("hdf5_plugin_codecs.h5", data)


def tables_codecs():
    """PyTables: Blosc with each sub-codec (byte and bit shuffle inside the chunk), bzip2 after
    HDF5's shuffle filter, and a chunk Blosc could not shrink (stored unfiltered: filter mask)."""
    import tables
    with tables.open_file(path("tables_codecs.h5"), "w", title="PyTables codecs") as f:
        for lib, shuffle, bitshuffle in (("blosc:blosclz", True, False), ("blosc:lz4", True, False),
                                         ("blosc:lz4hc", False, True), ("blosc:zlib", True, False),
                                         ("blosc:zstd", False, True), ("bzip2", True, False)):
            filters = tables.Filters(complevel=5, complib=lib, shuffle=shuffle,
                                     bitshuffle=bitshuffle)
            f.create_carray("/", lib.replace(":", "_"), obj=compressible((20, 30)),
                            chunkshape=(8, 16), filters=filters)
        mixed = compressible((16, 40))
        mixed[8:, 20:] = crng.random((8, 20)).astype("f4")  # random bits: Blosc gives up
        f.create_carray("/", "blosc_incompressible_chunk", obj=mixed, chunkshape=(8, 20),
                        filters=tables.Filters(complevel=9, complib="blosc:lz4", shuffle=False))


def hdf5_float16():
    """float16 (netCDF-C has no such type): chunked with shuffle + deflate, contiguous
    big-endian, and partly written without a fill value attribute (fill chunks)."""
    def data(g):
        a = g.create_dataset("half", data=(crng.random((6, 10)) * 100).astype("<f2"),
                             chunks=(4, 5), compression="gzip", shuffle=True)
        a.attrs["units"] = "m"
        b = g.create_dataset("half_be", data=crng.standard_normal((6, 10)).astype(">f2"))
        c = g.create_dataset("half_sparse", shape=(6, 10), dtype="<f2", chunks=(3, 5),
                             compression="gzip")
        c[:3, :5] = np.float16(1.5)
        return [a, b, c]
    hdf5_scales("hdf5_float16.h5", data)


def hdf5_nbit():
    """N-bit types (fewer bits than their bytes, or at an offset: the stored bytes are not the
    values) with and without the N-Bit filter (5), contiguous and chunked, and scale-offset
    (6) floats: read through libhdf5, which converts them to full-width values; and (own file)
    an N-bit type wider than the netCDF type netCDF-C reports."""
    def nbit(f, name, base, precision, values, offset=0, chunks=(4, 5), filtered=True):
        t = base.copy()
        t.set_precision(precision)
        if offset:
            t.set_offset(offset)
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        if chunks:
            dcpl.set_chunk(chunks)
        if filtered:
            dcpl.set_filter(h5py.h5z.FILTER_NBIT, 0)
        space = h5py.h5s.create_simple(values.shape)
        h5py.h5d.create(f.id, name.encode(), t, space, dcpl=dcpl).write(
            h5py.h5s.ALL, h5py.h5s.ALL, values)
    with h5py.File(path("hdf5_nbit.h5"), "w") as f:
        nbit(f, "int12", h5py.h5t.STD_I16LE, 12, crng.integers(-2000, 2000, (6, 10)).astype("i2"))
        nbit(f, "uint12", h5py.h5t.STD_U16BE, 12, crng.integers(0, 4000, (6, 10)).astype(">u2"))
        nbit(f, "int20_at_4", h5py.h5t.STD_I32LE, 20,
             crng.integers(-500000, 500000, (6, 10)).astype("i4"), offset=4)
        nbit(f, "int20_unfiltered", h5py.h5t.STD_I32LE, 20,
             crng.integers(-500000, 500000, (6, 10)).astype("i4"), filtered=False)
        nbit(f, "int12_contiguous", h5py.h5t.STD_I16LE, 12,
             crng.integers(-2000, 2000, (6, 10)).astype("i2"), chunks=None, filtered=False)
        nbit(f, "float_nbit", h5py.h5t.IEEE_F32LE, 32, crng.random((6, 10)).astype("f4"))
        f.create_dataset("scaleoffset_float", data=crng.random((6, 10)).astype("f4"), chunks=(4, 5),
                         scaleoffset=3)
    # 32 bits in 8 bytes (netCDF-C reports int, h5py int64): HDF5 2 writes such a type only
    # when told to relax its integrity checks, which h5py does not offer: through its libhdf5
    import ctypes
    import glob
    libs = os.path.join(os.path.dirname(h5py.__file__), os.pardir, "h5py.libs", "libhdf5-*")
    relax = ctypes.CDLL(glob.glob(libs)[0]).H5Pset_relax_file_integrity_checks
    relax.argtypes = [ctypes.c_int64, ctypes.c_uint64]
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    relax(fapl.id, 1)  # H5F_RFIC_UNUSUAL_NUM_UNUSED_NUMERIC_BITS
    fid = h5py.h5f.create(path("hdf5_nbit_wide.h5").encode(), h5py.h5f.ACC_TRUNC, fapl=fapl)
    with h5py.File(fid) as f:
        values = crng.integers(-2**31, 2**31, (6, 10))
        nbit(f, "int32_in_8_bytes", h5py.h5t.STD_I64LE, 32, values)
        nbit(f, "int32_in_8_bytes_unfiltered", h5py.h5t.STD_I64LE, 32, values, filtered=False)


def codec_fixtures():
    nc4_codecs()
    hdf5_plugin_codecs()
    tables_codecs()
    hdf5_float16()
    hdf5_nbit()


# --- Blosc2 (HDF5 filter 32026, issue 18): PyTables, hdf5plugin, and b2nd frames written by
# python-blosc2 with small blocks (padded where the chunk is no multiple of the block). Own
# generator and file, so that the data of the files above do not depend on it.
brng = np.random.default_rng(20261208)


def blosc2_frames(data, chunks, blocks, codec, filt, splitmode=None):
    """Each HDF5 chunk of `data` as the Blosc2 filter stores it (one b2nd frame holding the
    whole chunk, edge chunks padded to the chunk shape), made by python-blosc2 itself."""
    import blosc2
    kw = {"codec": codec, "filters": [filt], "typesize": data.dtype.itemsize, "clevel": 5}
    if splitmode is not None:
        kw["splitmode"] = splitmode
    grid = [range(0, n, c) for n, c in zip(data.shape, chunks)]
    for start in np.array(np.meshgrid(*grid, indexing="ij")).reshape(len(chunks), -1).T:
        block = np.zeros(chunks, data.dtype)
        part = data[tuple(slice(s, s + c) for s, c in zip(start, chunks))]
        block[tuple(slice(0, n) for n in part.shape)] = part
        arr = blosc2.asarray(block, chunks=chunks, blocks=blocks, cparams=blosc2.CParams(**kw))
        yield tuple(int(s) for s in start), arr.to_cframe()


def hdf5_blosc2():
    """Blosc2 as PyTables writes it (every codec with byte, bit or no shuffle; 1-D chunks: a
    frame without b2nd metalayer, a bit shuffle of a count of elements that is no multiple of
    8; 3-D bytes; a chunk Blosc2 cannot shrink; chunks of zeros, NaN and one value), as
    hdf5plugin writes it (every codec and filter; after fletcher32: a plain frame; after
    HDF5's shuffle; clevel 0; partly written), and b2nd frames with blocks smaller than the
    chunk from python-blosc2 (every codec and filter, split and unsplit streams); dimension
    scales for every dimension (netCDF-C has no Blosc2 filter: compared with h5netcdf)."""
    import blosc2
    import tables
    name = path("hdf5_blosc2.h5")
    grid = (np.round(brng.random((20, 30)) * 20) / 4).astype("f4")
    shuffles = {"noshuffle": (False, False), "shuffle": (True, False), "bitshuffle": (False, True)}
    with tables.open_file(name, "w", title="Blosc2 as PyTables writes it") as f:
        for codec in ("blosclz", "lz4", "lz4hc", "zlib", "zstd"):
            for label, (shuffle, bitshuffle) in shuffles.items():
                filters = tables.Filters(complevel=5, complib=f"blosc2:{codec}", shuffle=shuffle,
                                         bitshuffle=bitshuffle)
                f.create_carray("/", f"tables_{codec}_{label}", obj=grid, chunkshape=(8, 16),
                                filters=filters)
        f.create_carray("/", "tables_1d", obj=brng.integers(-50, 50, 1001).astype("i2"),
                        chunkshape=(333,), filters=tables.Filters(5, "blosc2:zstd", bitshuffle=True))
        f.create_carray("/", "tables_3d", obj=brng.integers(0, 9, (7, 9, 11)).astype("u1"),
                        chunkshape=(3, 5, 7), filters=tables.Filters(5, "blosc2:lz4"))
        f.create_carray("/", "tables_noise", obj=brng.random((32, 40)), chunkshape=(16, 20),
                        filters=tables.Filters(9, "blosc2:lz4", shuffle=False))
        special = np.zeros((64, 72), "f4")
        special[32:, :36] = 7.5
        special[:32, 36:] = np.nan
        special[32:, 36:] = grid[:16, :18].repeat(2, 0).repeat(2, 1)
        f.create_carray("/", "tables_specials", obj=special, chunkshape=(32, 36),
                        filters=tables.Filters(5, "blosc2:zstd"))
    big = (np.round(brng.random((20, 30)) * 50) / 4).astype("f8")
    with h5py.File(name, "a") as f:
        for codec in ("blosclz", "lz4", "lz4hc", "zlib", "zstd"):
            for filt in (0, 1, 2):
                f.create_dataset(f"plugin_{codec}_{filt}", data=big, chunks=(8, 16),
                                 **hdf5plugin.Blosc2(cname=codec, clevel=5, filters=filt))
        f.create_dataset("plugin_fletcher32", data=big, chunks=(8, 16), fletcher32=True,
                         **hdf5plugin.Blosc2(cname="zstd", clevel=5, filters=1))
        f.create_dataset("plugin_after_shuffle", data=big, chunks=(8, 16), shuffle=True,
                         **hdf5plugin.Blosc2(cname="lz4", clevel=5, filters=0))
        f.create_dataset("plugin_clevel0", data=big, chunks=(8, 16),
                         **hdf5plugin.Blosc2(cname="lz4", clevel=0, filters=1))
        partial = f.create_dataset("plugin_partial", shape=(20, 30), chunks=(8, 16), dtype="i8",
                                   **hdf5plugin.Blosc2(cname="lz4", clevel=5, filters=2))
        partial[:8, :16] = 5
        ints = brng.integers(0, 60000, (20, 30)).astype(">u2")
        cases = [(f"b2nd_{c.name.lower()}_{flt.name.lower()}", big, c, flt, None)
                 for c in (blosc2.Codec.BLOSCLZ, blosc2.Codec.LZ4, blosc2.Codec.LZ4HC,
                           blosc2.Codec.ZLIB, blosc2.Codec.ZSTD)
                 for flt in (blosc2.Filter.NOFILTER, blosc2.Filter.SHUFFLE, blosc2.Filter.BITSHUFFLE)]
        cases += [("b2nd_always_split", big, blosc2.Codec.ZSTD, blosc2.Filter.SHUFFLE,
                   blosc2.SplitMode.ALWAYS_SPLIT),
                  ("b2nd_never_split", big, blosc2.Codec.LZ4, blosc2.Filter.SHUFFLE,
                   blosc2.SplitMode.NEVER_SPLIT),
                  ("b2nd_u2_be", ints, blosc2.Codec.ZSTD, blosc2.Filter.BITSHUFFLE, None)]
        for label, data, codec, filt, split in cases:
            ts = data.dtype.itemsize
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_chunk((8, 16))
            dcpl.set_filter(32026, h5py.h5z.FLAG_OPTIONAL, (1, 0, ts, 8 * 16 * ts, 5, 1, 1, 2, 8, 16))
            ds = f.create_dataset(label, shape=data.shape, dtype=data.dtype, dcpl=dcpl)
            for start, frame in blosc2_frames(data, (8, 16), (3, 7), codec, filt, split):
                ds.id.write_direct_chunk(start, frame)
        scales = {}
        for obj in list(f.values()):
            for i, n in enumerate(obj.shape):
                if f"dim{n}" not in scales:
                    scales[f"dim{n}"] = s = f.create_dataset(f"dim{n}", data=np.arange(n, dtype="i4"))
                    s.make_scale(f"dim{n}")
                obj.dims[i].attach_scale(scales[f"dim{n}"])


def compound_blosc2():
    """PyTables tables compressed with Blosc2 (the records of 21 bytes are Blosc2's type
    size; byte shuffle and bit shuffle), served as their members (own file: netCDF-C lists
    no table, and its phony dimensions would be numbered after another file's scales)."""
    import tables
    trng = np.random.default_rng(20261210)
    rows = np.zeros(250, [("id", "<i4"), ("value", "<f8"), ("name", "S8"), ("flag", "u1")])
    rows["id"] = np.arange(250)
    rows["value"] = np.round(trng.random(250) * 40) / 8
    rows["name"] = [f"row{i}".encode() for i in range(250)]
    rows["flag"] = trng.integers(0, 3, 250)
    with tables.open_file(path("compound_blosc2.h5"), "w", title="Blosc2 tables") as f:
        f.create_table("/", "lz4_shuffle", obj=rows, chunkshape=(64,),
                       filters=tables.Filters(5, "blosc2:lz4", shuffle=True))
        f.create_table("/", "zstd_bitshuffle", obj=rows[::-1].copy(), chunkshape=(100,),
                       filters=tables.Filters(5, "blosc2:zstd", bitshuffle=True))


# --- STAC fixtures (fixtures/stac/): extents, calendars, grids. Own generator, so that the
# data of the files above do not depend on these.
srng = np.random.default_rng(20261130)


def oversized_chunks():
    """Chunks larger than the array (two unlimited dimensions, 5 x 7 written): served cropped
    to the array, as netCDF-C's NCZarr requires (a prefix of an uncompressed 1-D chunk; any
    other decoded and cropped)."""
    with netCDF4.Dataset(path("oversized_chunks.nc"), "w") as ds:
        ds.createDimension("t", None)
        ds.createDimension("s", None)
        v = ds.createVariable("deflated", "f4", ("t", "s"), zlib=True, shuffle=True,
                              chunksizes=(8, 16), fill_value=-1.0)
        v[0:5, 0:7] = rng.standard_normal((5, 7)).astype("f4")
        u = ds.createVariable("plain", "i2", ("t", "s"), chunksizes=(8, 16))
        u[0:5, 0:7] = np.arange(35, dtype="i2").reshape(5, 7)
        w = ds.createVariable("deflated_1d", "i4", ("t",), zlib=True, chunksizes=(512,))
        w[0:5] = np.arange(5, dtype="i4") * 10
        t = ds.createVariable("t", "f8", ("t",), chunksizes=(1024,))
        t.units = "days since 2000-01-01"
        t[0:5] = np.arange(5.0)


def variable(ds, name, dtype, dims, values, **attrs):
    """A variable with its attributes (set in the order given) and its values."""
    v = ds.createVariable(name, dtype, dims)
    v.setncatts(attrs)
    v[:] = values
    return v


def stac_path(name):
    os.makedirs(os.path.join(OUT, "stac"), exist_ok=True)
    return path(os.path.join("stac", name))


def time_file(name, calendar, units, values, bounds=None, tname="time", dim="time", attrs=None,
              fill=None, extra=None):
    """A small file whose only extent is a CF time coordinate `tname(dim)`."""
    with netCDF4.Dataset(stac_path(name), "w") as ds:
        ds.title = f"calendar {calendar}"
        ds.Conventions = "CF-1.8"
        ds.createDimension(dim, len(values))
        t = ds.createVariable(tname, "f8", (dim,), fill_value=fill)
        t.units = units
        if calendar is not None:
            t.calendar = calendar
        for k, v in (attrs or {}).items():
            t.setncattr(k, v)
        t[:] = np.ma.masked_invalid(np.array(values, dtype="f8"))
        if bounds is not None:
            ds.createDimension("nv", 2)
            t.bounds = f"{tname}_bnds"
            b = ds.createVariable(f"{tname}_bnds", "f8", (dim, "nv"))
            b[:] = np.array(bounds, dtype="f8")
        v = ds.createVariable("v", "f4", (dim,))
        v.long_name = "a value per time step"
        v.units = "1"
        v[:] = srng.random(len(values), dtype=np.float32)
        if extra:
            extra(ds)


def stac_calendars():
    """One file per CF calendar: labels that are not real dates (clamped in STAC), the Julian
    part of the standard calendar, bounds, units other than days, a time zone offset."""
    def units_alone(ds):
        # no standard_name, no axis, not a coordinate variable, no calendar attribute: a time
        # by its units alone (CF 4.4); it holds the end, 25 days after 1582-10-01 = 1582-11-05
        ds.createDimension("x", 1)
        d = ds.createVariable("obs_time", "f8", ("x",))
        d.units = "days since 1582-10-01"
        d[:] = [25.0]
    # across the Gregorian reform: day 3 is 1582-10-04 (Julian), day 4 is 1582-10-15
    v = [0.0, 3.0, 4.0, 10.0, 20.0]
    time_file("cal_standard.nc", "standard", "days since 1582-10-01", v,
              bounds=[[x - 0.5, x + 0.5] for x in v], attrs={"standard_name": "time", "axis": "T"},
              extra=units_alone)

    def plev(ds):
        ds.createDimension("plev", 3)
        p = ds.createVariable("plev", "f8", ("plev",))
        p.units = "Pa"
        p.positive = "down"
        p[:] = [100000.0, 85000.0, 50000.0]
        ta = ds.createVariable("ta", "f4", ("time", "plev"))
        ta.standard_name = "air_temperature"
        ta.units = "K"
        ta[:] = 250 + 30 * srng.random((4, 3), dtype=np.float32)
    # time zone offset; the last value is a fill value (skipped)
    time_file("cal_gregorian.nc", "gregorian", "hours since 1850-01-01 12:00:00 +05:30",
              [0.0, 1.5, 30.25, np.nan], fill=-9999.0, attrs={"standard_name": "time"}, extra=plev)

    def member(ds):
        ds.createDimension("member", 3)
        m = ds.createVariable("member", "i4", ("member",))
        m.standard_name = "realization"
        m[:] = [1, 2, 3]
        pr = ds.createVariable("pr", "f4", ("member", "time"))
        pr.units = "kg m-2 s-1"
        pr[:] = srng.random((3, 2), dtype=np.float32)
    # 1500 is no leap year in proleptic Gregorian: day 2 is 1500-03-01 (Julian: 1500-02-29)
    time_file("cal_proleptic_gregorian.nc", "proleptic_gregorian", "days since 1500-02-27",
              [0.0, 2.0], bounds=[[-0.5, 0.5], [1.5, 2.5]], attrs={"standard_name": "time"},
              extra=member)
    # Julian 1900-02-29 exists, Gregorian not: the end is clamped to 1900-02-28T18:00
    time_file("cal_julian.nc", "julian", "days since 1900-02-27 06:00", [0.0, 1.0, 2.5],
              tname="t", dim="record", attrs={"standard_name": "time"})
    time_file("cal_noleap.nc", "noleap", "milliseconds since 2000-02-27T00:00:00",
              [0.0, 172800001.0], attrs={"standard_name": "time"})
    time_file("cal_365_day.nc", "365_day", "sec since 2004-02-28 12:00:00", [0.0, 108000.0],
              bounds=[[-3600.0, 0.0], [108000.0, 111600.0]], attrs={"standard_name": "time"})
    # found by axis T alone (not a coordinate variable, no standard_name); ends on 2001-02-29
    time_file("cal_all_leap.nc", "all_leap", "hours since 2001-02-27 00:00", [0.0, 24.0, 48.0, 60.0],
              tname="tt", dim="n", attrs={"axis": "T"})
    # a single time step (-> datetime), on 2003-02-29 (clamped to 2003-02-28T01:30)
    time_file("cal_366_day.nc", "366_day", "min since 2003-02-28 00:00", [1530.0],
              attrs={"standard_name": "time"})
    # Feb 30 (and the bounds' 2000-02-30T12:00, clamped to 2000-02-29T12:00)
    time_file("cal_360_day.nc", "360_day", "days since 2000-02-28", [0.0, 1.0, 2.0],
              bounds=[[-0.5, 0.5], [0.5, 1.5], [1.5, 2.5]], attrs={"standard_name": "time"})
    # the units cftime accepts only in these calendars; offsets written +hhmm and -hh
    time_file("cal_360_day_months.nc", "360_day", "months since 2000-01-01 00:00:00 +0130",
              [0.0, 1.5], attrs={"standard_name": "time"})
    time_file("cal_noleap_common_years.nc", "noleap", "common_years since 2000-01-01 00:00 -03",
              [0.0, 1.5], attrs={"standard_name": "time"})
    # no calendar: the file's mtime is the datetime
    time_file("cal_none.nc", "none", "days since 2000-01-01", [0.0, 1.0],
              attrs={"standard_name": "time"})


def stac_curvilinear():
    """2-D lat/lon auxiliary coordinates (a `coordinates` attribute); lat packed int16 with a
    fill value and one value above 90 (both skipped), lon float32 with a NaN (skipped)."""
    with netCDF4.Dataset(stac_path("curvilinear.nc"), "w") as ds:
        ds.title = "curvilinear grid"
        ds.summary = "2-D latitude and longitude"
        ds.comment = "not the description: summary wins"
        ds.institution = "cloudify-mount fixtures"
        ds.source = "make_fixtures.py"
        ds.frequency = "day"
        ds.Conventions = "CF-1.8"
        ds.references = "docs/STAC.md"
        ds.history = "not copied into the item"
        ny, nx = 5, 6
        ds.createDimension("time", 2)
        ds.createDimension("y", ny)
        ds.createDimension("x", nx)
        j, i = np.mgrid[0:ny, 0:nx]
        lat_val = 40 + 1.5 * j + 0.3 * i
        lat_val[ny - 1, nx - 1] = 91.0  # not a latitude: ignored
        raw = np.round((lat_val - 60.0) / 0.002).astype("i2")
        raw[0, 0] = -32767  # fill
        lat = ds.createVariable("lat", "i2", ("y", "x"), fill_value=np.int16(-32767))
        lat.set_auto_maskandscale(False)
        lat.standard_name = "latitude"
        lat.units = "degrees_north"
        lat.scale_factor = 0.002
        lat.add_offset = 60.0
        lat[:] = raw
        lon = ds.createVariable("lon", "f4", ("y", "x"))
        lon.units = "degrees_east"  # found by units alone
        lon_val = (-20 + 2.0 * i + 0.4 * j).astype("f4")
        lon_val[2, 3] = np.nan
        lon_val[4, 0] = -9999.9  # an undeclared fill value: outside [-360, 720], ignored
        lon[:] = lon_val
        t = ds.createVariable("time", "f8", ("time",))
        t.standard_name = "time"
        t.units = "days since 2020-01-01"
        t[:] = [0.0, 1.0]
        tas = ds.createVariable("tas", "f4", ("time", "y", "x"), zlib=True)
        tas.coordinates = "lat lon"
        tas.standard_name = "air_temperature"
        tas.long_name = "Near-Surface Air Temperature"
        tas.units = "K"
        tas[:] = 280 + 10 * srng.random((2, ny, nx), dtype=np.float32)


def stac_named_latlon():
    """No CF latitude/longitude (HDF-EOS/GPM style): 2-D `Latitude` (units "degrees") and
    `Longitude` (no units) in a group, found by their names; `lat` in metres is not one."""
    with netCDF4.Dataset(stac_path("named_latlon.nc"), "w") as ds:
        ds.createDimension("nscan", 4)
        ds.createDimension("nray", 3)
        g = ds.createGroup("Geolocation")
        j, i = np.mgrid[0:4, 0:3]
        la = g.createVariable("Latitude", "f4", ("nscan", "nray"), fill_value=np.float32(-9999.9))
        la.units = "degrees"
        lat_val = (-30 + 2.0 * j + 0.5 * i).astype("f4")
        lat_val[3, 2] = -9999.9
        la[:] = lat_val
        lo = g.createVariable("Longitude", "f4", ("nscan", "nray"))
        lo[:] = (170 + 3.0 * j + 1.0 * i).astype("f4")  # 170..181: crosses +180
        h = ds.createVariable("lat", "f4", ("nscan",))
        h.units = "m"
        h[:] = [1000.0, 2000.0, 3000.0, 4000.0]
        p = ds.createVariable("precip", "f4", ("nscan", "nray"))
        p[:] = srng.random((4, 3), dtype=np.float32)


def stac_rotated(name, pole_lat, pole_lon, npgl, rlat, rlon):
    """Rotated pole: only rlat/rlon (grid_latitude/grid_longitude) and the grid mapping."""
    with netCDF4.Dataset(stac_path(name), "w") as ds:
        ds.title = "rotated pole grid"
        ds.Conventions = "CF-1.8"
        ds.createDimension("rlat", len(rlat))
        ds.createDimension("rlon", len(rlon))
        variable(ds, "rlat", "f8", ("rlat",), rlat, standard_name="grid_latitude", units="degrees",
                 axis="Y")
        variable(ds, "rlon", "f8", ("rlon",), rlon, standard_name="grid_longitude", units="degrees",
                 axis="X")
        gm = ds.createVariable("rotated_pole", "i4", ())
        gm.grid_mapping_name = "rotated_latitude_longitude"
        gm.grid_north_pole_latitude = pole_lat
        gm.grid_north_pole_longitude = pole_lon
        if npgl is not None:
            gm.north_pole_grid_longitude = npgl
        gm.crs_wkt = f"rotated pole ({pole_lat}, {pole_lon}, {npgl or 0.0})"
        tas = ds.createVariable("tas", "f4", ("rlat", "rlon"))
        tas.grid_mapping = "rotated_pole"
        tas.units = "K"
        tas[:] = 280 + 10 * srng.random((len(rlat), len(rlon)), dtype=np.float32)


def stac_antimeridian():
    """0..360 longitudes 150..210 (crossing the antimeridian), lat/lon cell bounds."""
    with netCDF4.Dataset(stac_path("antimeridian.nc"), "w") as ds:
        ds.title = "Pacific box across the antimeridian"
        lon_c = np.arange(150.0, 211.0, 10.0)
        lat_c = np.arange(-10.0, 11.0, 5.0)
        ds.createDimension("lat", len(lat_c))
        ds.createDimension("lon", len(lon_c))
        ds.createDimension("bnds", 2)
        variable(ds, "lat", "f8", ("lat",), lat_c, standard_name="latitude", units="degrees_north",
                 bounds="lat_bnds")
        variable(ds, "lon", "f8", ("lon",), lon_c, standard_name="longitude", units="degrees_east",
                 bounds="lon_bnds")
        lb = ds.createVariable("lat_bnds", "f8", ("lat", "bnds"))
        lb[:] = np.stack([lat_c - 2.5, lat_c + 2.5], axis=1)
        ob = ds.createVariable("lon_bnds", "f8", ("lon", "bnds"))
        ob[:] = np.stack([lon_c - 5, lon_c + 5], axis=1)
        sst = ds.createVariable("sst", "f4", ("lat", "lon"))
        sst.units = "K"
        sst[:] = 300 + srng.random((len(lat_c), len(lon_c)), dtype=np.float32)


def stac_global():
    """Global 1-degree longitudes 0..359: the bbox is [-180, -90, 179, 90]."""
    with netCDF4.Dataset(stac_path("global_0_359.nc"), "w") as ds:
        ds.comment = "global grid, longitudes 0..359"
        ds.createDimension("lat", 19)
        ds.createDimension("lon", 360)
        variable(ds, "lat", "f4", ("lat",), np.arange(-90.0, 91.0, 10.0), standard_name="latitude",
                 units="degrees_north")
        variable(ds, "lon", "f4", ("lon",), np.arange(360.0), standard_name="longitude",
                 units="degrees_east")
        m = ds.createVariable("mask", "i1", ("lat", "lon"), zlib=True)
        m[:] = (srng.random((19, 360)) > 0.7).astype("i1")


def stac_no_coordinates():
    """No latitude, longitude or time: the global fallback and the file's mtime."""
    with netCDF4.Dataset(stac_path("no_coords.nc"), "w") as ds:
        ds.comment = "no coordinates at all"
        ds.createDimension("y", 4)
        ds.createDimension("x", 5)
        f = ds.createVariable("field", "f4", ("y", "x"))
        f[:] = srng.standard_normal((4, 5)).astype("f4")


def stac_station():
    """One station (a single position: a Point) and one time step (a datetime)."""
    with netCDF4.Dataset(stac_path("station.nc"), "w") as ds:
        ds.title = "a weather station"
        ds.featureType = "timeSeries"
        ds.createDimension("station", 1)
        ds.createDimension("time", 1)
        variable(ds, "lat", "f8", ("station",), [52.52], standard_name="latitude",
                 units="degrees_north")
        variable(ds, "lon", "f8", ("station",), [13.405], standard_name="longitude",
                 units="degrees_east")
        # no calendar attribute: standard
        variable(ds, "time", "f8", ("time",), [12.25], standard_name="time",
                 units="hours since 2024-06-01 00:00:00")
        temp = ds.createVariable("temp", "f4", ("time", "station"))
        temp.coordinates = "lat lon"
        temp.units = "degC"
        temp[:] = [[21.5]]


def stac_climatologies():
    """CF 7.4 climatologies: the time's `climatology` bounds give the period; one in year 0
    (`days since 0000-01-01`, noleap; STAC datetimes before year 1 are clamped), one over
    1991-2020 (standard)."""
    def monthly(ds):
        ds.createDimension("lat", 2)
        ds.createDimension("lon", 3)
        variable(ds, "lat", "f8", ("lat",), [-45.0, 45.0], standard_name="latitude",
                 units="degrees_north")
        variable(ds, "lon", "f8", ("lon",), [0.0, 120.0, 240.0], standard_name="longitude",
                 units="degrees_east")
        tas = ds.createVariable("tas", "f4", ("time", "lat", "lon"))
        tas.standard_name = "air_temperature"
        tas.units = "K"
        tas.cell_methods = "time: mean within years time: mean over years"
        tas[:] = 250 + 40 * srng.random((12, 2, 3), dtype=np.float32)
    edges = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]).astype("f8")
    mid = (edges[:-1] + edges[1:]) / 2
    for name, calendar, units, bounds in [
            ("climatology_year0.nc", "noleap", "days since 0000-01-01",
             np.stack([edges[:-1], edges[1:]], axis=1)),
            # 1991-01-01 .. 2021-01-01 (days since 1991-01-01, standard: 8 leap days between)
            ("climatology_1991_2020.nc", "standard", "days since 1991-01-01",
             np.stack([edges[:-1], edges[1:] + 29 * 365 + 8], axis=1))]:
        with netCDF4.Dataset(stac_path(name), "w") as ds:
            ds.title = f"monthly climatology ({name[len('climatology_'):-3]})"
            ds.Conventions = "CF-1.8"
            ds.createDimension("time", 12)
            ds.createDimension("nv", 2)
            variable(ds, "time", "f8", ("time",), mid, standard_name="time", units=units,
                     calendar=calendar, climatology="climatology_bnds")
            variable(ds, "climatology_bnds", "f8", ("time", "nv"), bounds)
            monthly(ds)


def stac_forecast_reference_time():
    """A forecast: the valid times on the time axis, the analysis it started from
    (`forecast_reference_time`, scalar, 90 days before) is no part of the item's extent."""
    with netCDF4.Dataset(stac_path("forecast_reference_time.nc"), "w") as ds:
        ds.title = "a forecast issued 90 days before its first valid time"
        ds.Conventions = "CF-1.8"
        ds.createDimension("time", 4)
        variable(ds, "time", "f8", ("time",), [0.0, 6.0, 12.0, 18.0], standard_name="time",
                 units="hours since 2024-03-01 00:00:00", calendar="proleptic_gregorian")
        variable(ds, "forecast_reference_time", "f8", (), -2160.0,
                 standard_name="forecast_reference_time",
                 units="hours since 2024-03-01 00:00:00", calendar="proleptic_gregorian")
        variable(ds, "forecast_period", "f8", ("time",), [2160.0, 2166.0, 2172.0, 2178.0],
                 standard_name="forecast_period", units="hours")
        pr = ds.createVariable("pr", "f4", ("time",))
        pr.units = "kg m-2 s-1"
        pr.coordinates = "forecast_reference_time forecast_period"
        pr[:] = srng.random(4, dtype=np.float32)


def stac_fixtures():
    stac_calendars()
    stac_curvilinear()
    stac_named_latlon()
    # EURO-CORDEX's pole; north_pole_grid_longitude absent (0)
    stac_rotated("rotated_pole.nc", 39.25, -162.0, None,
                 np.arange(-5.0, 5.1, 2.0), np.arange(-8.0, 8.1, 4.0))
    # another pole, a non-zero north_pole_grid_longitude, rotated longitudes beyond 180
    stac_rotated("rotated_pole_shifted.nc", 55.0, -120.0, 20.0,
                 np.arange(-10.0, 10.1, 5.0), np.arange(160.0, 200.1, 10.0))
    stac_antimeridian()
    stac_global()
    stac_no_coordinates()
    stac_station()
    stac_climatologies()
    stac_forecast_reference_time()


def hdf5_dangling_links():
    """h5py file netCDF-C cannot open (nc_open: "HDF error"): a soft link and an external link
    that lead nowhere beside ordinary datasets, a soft link to one of them, a dimension scale,
    a group, a vlen string dataset; served through the pure-HDF5 view, the dangling links left
    out."""
    with h5py.File(path("hdf5_dangling_links.h5"), "w") as f:
        f.attrs["title"] = "dangling links"
        f.attrs["version"] = np.float64(1.5)
        t = f.create_dataset("temperature", data=np.arange(24, dtype="<f4").reshape(4, 6) / 4,
                             chunks=(2, 3), compression="gzip", shuffle=True)
        t.attrs["units"] = "K"
        t.attrs["valid_range"] = np.array([0, 10], dtype="i2")
        f["y"] = np.arange(4.0)
        f["y"].make_scale("y")
        f["y"].attrs["units"] = "m"
        t.dims[0].attach_scale(f["y"])
        f.create_dataset("counts", data=np.array([3, 1, 4, 1, 5, 9], dtype=">i2"))
        f.create_dataset("labels", data=["alpha", "beta", "gamma"], dtype=h5py.string_dtype())
        f.create_dataset("flag", data=np.int8(7))
        g = f.create_group("sub")
        g.attrs["note"] = "nested"
        g.create_dataset("x", data=np.linspace(0, 1, 5), chunks=(2,))
        g["gone_too"] = h5py.SoftLink("/sub/nothing")
        f["gone"] = h5py.SoftLink("/nowhere")
        f["elsewhere"] = h5py.ExternalLink("no_such_file.h5", "/data")
        f["alias"] = h5py.SoftLink("/temperature")


def fixed_strings(group, name, values, size, pad, cset=None):
    """A fixed-length string dataset of `size` bytes with the given padding (h5py itself
    writes only null-padded ones): the bytes are written as they are."""
    from h5py import h5d, h5s, h5t
    t = h5t.C_S1.copy()
    t.set_size(size)
    t.set_strpad(pad)
    if cset is not None:
        t.set_cset(cset)
    data = np.array(values, dtype=f"S{size}")
    space = h5s.create_simple(data.shape) if data.shape else h5s.create(h5s.SCALAR)
    d = h5d.create(group.id, name.encode(), t, space)
    mem = h5t.C_S1.copy()
    mem.set_size(size)
    mem.set_strpad(h5t.STR_NULLPAD)  # no conversion but the padding rule: bytes kept
    if cset is not None:
        mem.set_cset(cset)
    d.write(h5s.ALL, h5s.ALL, data, mtype=mem)


def hdf5_dangling_strings():
    """h5py file netCDF-C cannot open (a dangling soft link) holding strings of every kind
    h5py reads: variable-length (UTF-8 and ASCII) and fixed-length (null-padded,
    null-terminated, space-padded; ASCII and UTF-8 character sets) datasets, scalar, 1-D, 2-D,
    chunked and deflated, zero-length, null dataspaces, empty strings, non-ASCII UTF-8 and a
    byte that is not UTF-8, a fixed-length string coordinate (dimension scale), one in a
    sub-group, and string attributes of every kind; served through the pure-HDF5 view."""
    from h5py import h5t
    vlen, ascii_vlen = h5py.string_dtype(), h5py.string_dtype("ascii")
    with h5py.File(path("hdf5_dangling_strings.h5"), "w") as f:
        f["gone"] = h5py.SoftLink("/nowhere")
        f.attrs["title"] = "strings of every kind"
        f.create_dataset("vlen_scalar", data="Grüße, 世界", dtype=vlen)
        f.create_dataset("vlen_1d", data=["alpha", "", "βeta", "日本語"], dtype=vlen)
        f.create_dataset("vlen_2d", data=np.array([["a", "bb", ""], ["ccc", "δ", "e"]], dtype=object),
                         dtype=vlen)
        f.create_dataset("vlen_ascii", data=[b"x", b"yy", b""], dtype=ascii_vlen)
        f.create_dataset("vlen_chunked", data=[f"s{i}" * (i % 4) for i in range(30)], dtype=vlen,
                         chunks=(8,), compression="gzip")
        f.create_dataset("vlen_zero_length", shape=(0,), dtype=vlen)
        f.create_dataset("vlen_null", data=h5py.Empty(vlen))
        f.create_dataset("fixed_scalar", data=np.bytes_(b"hello"))
        f.create_dataset("fixed_1d", data=np.array([b"abc", b"de", b"", b"a\x00b"], dtype="S5"))
        f.create_dataset("fixed_2d", data=np.array([[b"ab", b"c"], [b"", b"ddd"]], dtype="S3"))
        f.create_dataset("fixed_chunked", data=np.array([b"%d" % (i * 37) for i in range(40)], dtype="S4"),
                         chunks=(16,), compression="gzip", shuffle=True)
        f.create_dataset("fixed_zero_length", shape=(0, 3), dtype="S4")
        f.create_dataset("fixed_null", data=h5py.Empty("S6"))
        f.create_dataset("fixed_latin1", data=np.array([b"caf\xe9", b"ok"], dtype="S4"))
        fixed_strings(f, "fixed_utf8", ["Grüße".encode(), "日本".encode(), b""], 8, h5t.STR_NULLPAD,
                      h5t.CSET_UTF8)
        fixed_strings(f, "fixed_space_padded", [b"ab    ", b"a b   ", b"abcdef"], 6, h5t.STR_SPACEPAD)
        fixed_strings(f, "fixed_null_terminated", [b"ab\x00cd\x00", b"abcdef", b"\x00\x00\x00\x00\x00\x00"],
                      6, h5t.STR_NULLTERM)
        fixed_strings(f, "fixed_one_byte", [b"x", b"y"], 1, h5t.STR_NULLPAD)
        # a fixed-length string coordinate: station names, a dimension scale of `temperature`
        f.create_dataset("station", data=np.array([b"Mawson", b"Casey", b"Davis"], dtype="S8"))
        f["station"].make_scale("station")
        t = f.create_dataset("temperature", data=np.array([-12.5, -3.0, -7.25], dtype="f4"))
        t.attrs["units"] = "degC"
        t.dims[0].attach_scale(f["station"])
        g = f.create_group("sub")
        g.create_dataset("names", data=["één", "two"], dtype=vlen)
        g.create_dataset("codes", data=np.array([b"A1", b"B22"], dtype="S3"))
        a = f.attrs
        a["vlen"] = "héllo"
        a["vlen_list"] = np.array(["a", "bé", ""], dtype=object)
        a.create("vlen_2d", np.array([["a", "b"], ["c", "d"]], dtype=object), dtype=vlen)
        a.create("vlen_ascii", b"ascii", dtype=ascii_vlen)
        a.create("vlen_empty", "", dtype=vlen)
        a.create("vlen_null", h5py.Empty(vlen))
        a["fixed"] = np.bytes_(b"fixed text")
        a["fixed_list"] = np.array([b"ab", b"c"], dtype="S2")
        a.create("fixed_utf8", "Grüße".encode(), dtype=h5py.string_dtype("utf-8", 7))
        a.create("fixed_inner_nul", np.bytes_(b"ab\x00cd"))
        a.create("fixed_latin1", np.bytes_(b"caf\xe9"))
        a.create("fixed_long", np.bytes_(b"x" * 5000))
        a.create("fixed_null", h5py.Empty("S4"))
        a.create("fixed_zero_length", np.array([], dtype="S3"))
        a.create("fixed_one_byte_list", np.array([b"p", b"q"], dtype="S1"))
        t.attrs.create("long_name", np.bytes_(b"air temperature"))
        t.attrs["comment"] = "vlen on a variable"


def hdf5_plain_types():
    """What h5py reads and netCDF-C does not list (issue 18): vlen sequences of numbers
    (chunked + gzip with empty sequences, 2-D float, big-endian int16, a scalar, enum base),
    opaque bytes with a tag, bitfields (little- and big-endian), object references (to a
    group, a dataset, a dataset in a sub-group, a null reference), a region reference (left
    out), a compound with a vlen-of-int member beside an int and a vlen string member, and a
    chunked compound with an opaque and a big-endian bitfield member, a compound with an object
    reference member (to a dataset, a group, null) and a region reference member (left out).
    Deterministic values
    (no generator)."""
    with h5py.File(path("hdf5_plain_types.h5"), "w") as f:
        sub = f.create_group("sub")
        target = sub.create_dataset("target", data=np.arange(4, dtype="i2"))
        rows = [[1, 2, 3], [], [4], [5, 6, 7, 8, 9], [], [10, -11]]
        v = f.create_dataset("ragged_i4", (6,), dtype=h5py.vlen_dtype("i4"), chunks=(4,),
                             compression="gzip")
        for i, row in enumerate(rows):
            v[i] = np.array(row, "i4")
        v.attrs["long_name"] = "ragged rows"
        g = f.create_dataset("ragged_f8_2d", (2, 3), dtype=h5py.vlen_dtype("f8"))
        for i in range(2):
            for j in range(3):
                g[i, j] = np.arange(i + j, dtype="f8") / 3
        b = f.create_dataset("ragged_be_i2", (3,), dtype=h5py.vlen_dtype(np.dtype(">i2")))
        for i in range(3):
            b[i] = np.array([-i, 300 * i][: i + 1], ">i2")
        s = f.create_dataset("ragged_scalar_u1", (), dtype=h5py.vlen_dtype("u1"))
        s[()] = np.array([7, 8, 9], "u1")
        e = f.create_dataset("ragged_enum", (2,),
                             dtype=h5py.vlen_dtype(h5py.enum_dtype({"a": 1, "b": 2}, basetype="i1")))
        e[0], e[1] = np.array([1, 2, 2], "i1"), np.array([2], "i1")
        o = f.create_dataset("opaque", data=np.array([b"\x00\x01\xff\x00\x7f\x00", b"abc\x00\x00\x00",
                                                      b"\x00" * 6], dtype="V6"))
        o.attrs["units"] = "1"
        # bitfields: through the low-level API (h5py has no high-level bitfield dtype)
        for name, ftype, data in (("bits8", h5py.h5t.STD_B8LE, np.array([0, 1, 0x80, 0xff], "u1")),
                                  ("bits32_be", h5py.h5t.STD_B32BE,
                                   np.array([1, 0xdeadbeef, 0], ">u4"))):
            space = h5py.h5s.create_simple(data.shape)
            d = h5py.h5d.create(f.id, name.encode(), ftype, space)
            d.write(h5py.h5s.ALL, h5py.h5s.ALL, data, mtype=ftype)
        r = f.create_dataset("refs", (4,), dtype=h5py.ref_dtype)
        r[0], r[1], r[2] = f.ref, f["opaque"].ref, target.ref
        r2 = f.create_dataset("refs_2d", (1, 2), dtype=h5py.ref_dtype)
        r2[0, 0], r2[0, 1] = sub.ref, f["ragged_i4"].ref
        # region references: a 1-D and a 2-D hyperslab, two blocks, points, the whole
        # dataset, no element, a null reference
        grid = sub.create_dataset("grid", data=np.arange(20, dtype="i4").reshape(4, 5))
        rr = f.create_dataset("region_refs", (7,), dtype=h5py.regionref_dtype)
        rr[0] = target.regionref[1:3]
        rr[1] = grid.regionref[0:2, 1:3]

        def region(ds, select):
            space = ds.id.get_space()
            select(space)
            return h5py.h5r.create(f.id, ds.name.encode(), h5py.h5r.DATASET_REGION, space)

        def two_blocks(sp):
            sp.select_hyperslab((0, 0), (1, 2))
            sp.select_hyperslab((3, 3), (1, 2), op=h5py.h5s.SELECT_OR)
        rr[2] = region(grid, two_blocks)
        rr[3] = region(grid, lambda sp: sp.select_elements(np.array([[0, 1], [2, 3], [3, 4]])))
        rr[4] = region(target, lambda sp: sp.select_all())
        rr[5] = region(target, lambda sp: sp.select_none())
        ct = np.dtype([("id", "i4"), ("seq", h5py.vlen_dtype("i2")), ("label", h5py.string_dtype())])
        c = f.create_dataset("obs", (3,), dtype=ct)
        for i in range(3):
            c[i] = (10 + i, np.arange(i * 2, dtype="i2") - 1, f"obs {i}")
        # a compound with an opaque (tagged) and a big-endian bitfield member, chunked
        opaque = h5py.h5t.create(h5py.h5t.OPAQUE, 4)
        rec = h5py.h5t.create(h5py.h5t.COMPOUND, 8)
        rec.insert(b"a", 0, h5py.h5t.STD_I16LE)
        rec.insert(b"o", 2, opaque)
        rec.insert(b"b", 6, h5py.h5t.STD_B16BE)
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((3,))
        d = h5py.h5d.create(f.id, b"records", rec, h5py.h5s.create_simple((5,)), dcpl=dcpl)
        raw = np.zeros(5, dtype=[("a", "<i2"), ("o", "V4"), ("b", ">u2")])
        raw["a"] = [1, -2, 3, -4, 5]
        raw["o"] = [bytes([i, 0, 255 - i, 7]) for i in range(5)]
        raw["b"] = [0x8001, 2, 0xffff, 0, 0x1234]
        d.write(h5py.h5s.ALL, h5py.h5s.ALL, raw, mtype=rec)
        # a compound with an object-reference member and a region-reference member
        lt = np.dtype([("id", "i4"), ("target", h5py.ref_dtype), ("where", h5py.regionref_dtype)])
        links = f.create_dataset("links", (3,), dtype=lt)
        for i, obj in enumerate((f["opaque"], sub, None)):
            links[i] = (i, obj.ref if obj is not None else h5py.Reference(), target.regionref[i:])


def hdf5_null_vlen():
    """A vlen dataset with a null dataspace (h5py reads `Empty`; netCDF-C refuses the file)
    beside a vlen of one sequence and plain numbers."""
    with h5py.File(path("hdf5_null_vlen.h5"), "w") as f:
        f.create_dataset("ragged_null", data=h5py.Empty(h5py.vlen_dtype("i4")))
        one = f.create_dataset("ragged_one", (1,), dtype=h5py.vlen_dtype("f4"))
        one[0] = np.array([1.5, 2.5], "f4")
        f.create_dataset("x", data=np.arange(3, dtype="i2"))


def compound_string_pads():
    """Fixed-length string members of compounds with an embedded NUL (issue 18): null-
    terminated (h5py reads them cut at the first NUL), null-padded and space-padded (read
    whole), a member array of null-terminated strings; a null-terminated member beside a vlen
    string member (members read when indexing). Committed nowhere (h5py's anonymous types)."""
    with h5py.File(path("compound_string_pads.h5"), "w") as f:
        def string(size, pad):
            t = h5py.h5t.C_S1.copy()
            t.set_size(size)
            t.set_strpad(pad)
            return t
        term, nullpad, space = (string(6, p) for p in (h5py.h5t.STR_NULLTERM, h5py.h5t.STR_NULLPAD,
                                                         h5py.h5t.STR_SPACEPAD))
        codes = h5py.h5t.array_create(string(4, h5py.h5t.STR_NULLTERM), (2,))
        rec = h5py.h5t.create(h5py.h5t.COMPOUND, 30)
        for name, offset, t in ((b"id", 0, h5py.h5t.STD_I32LE), (b"term", 4, term),
                                (b"nullpad", 10, nullpad), (b"space", 16, space), (b"codes", 22, codes)):
            rec.insert(name, offset, t)
        raw = np.zeros(3, dtype=[("id", "<i4"), ("term", "S6"), ("nullpad", "S6"), ("space", "S6"),
                                 ("codes", "S4", (2,))])
        raw["id"] = [1, 2, 3]
        for m in ("term", "nullpad", "space"):
            raw[m] = [b"ab\x00cd", b"abcdef", b"x  \x00y"]
        raw["codes"] = [[b"a\x00bc", b"wxyz"], [b"", b"q\x00\x00r"], [b"zz", b"\x00abc"]]
        d = h5py.h5d.create(f.id, b"records", rec, h5py.h5s.create_simple((3,)))
        d.write(h5py.h5s.ALL, h5py.h5s.ALL, raw, mtype=rec)
        # the same members beside a vlen member: read when indexing (partial compound reads)
        label = h5py.h5t.py_create(h5py.string_dtype(), logical=True)
        withseq = h5py.h5t.create(h5py.h5t.COMPOUND, 6 + label.get_size())
        withseq.insert(b"term", 0, term)
        withseq.insert(b"label", 6, label)
        h5py.h5d.create(f.id, b"tracks", withseq, h5py.h5s.create_simple((3,)))
        ds = f["tracks"]  # written through h5py: libhdf5 stores the strings cut at the NUL
        for i in range(3):
            ds[i] = (raw["term"][i], f"track {i}")


def vlen_name_clash():
    """vlen variables whose ragged pair names are taken (issue 18): `a.count` created before
    vlen `a`, `b.count` after vlen `b`, a dimension `c.values` before vlen `c` (netCDF-C lists
    them in creation order)."""
    with netCDF4.Dataset(path("vlen_name_clash.nc"), "w") as ds:
        ds.createDimension("n", 3)
        ds.createDimension("c.values", 2)
        seq = ds.createVLType(np.int32, "seq_t")
        rows = [np.array(r, "i4") for r in ([1, 2], [], [3, 4, 5])]
        ds.createVariable("a.count", "f4", ("n",))[:] = [0.5, 1.5, 2.5]
        for name in ("a", "b"):
            v = ds.createVariable(name, seq, ("n",))
            for i, row in enumerate(rows):
                v[i] = row
        ds.createVariable("b.count", "i2", ("n",))[:] = [7, 8, 9]
        ds.createVariable("w", "f8", ("c.values",))[:] = [1.0, 2.0]
        c = ds.createVariable("c", seq, ("n",))
        for i, row in enumerate(reversed(rows)):
            c[i] = row


def main():
    os.makedirs(OUT, exist_ok=True)
    if sys.argv[2:3] == ["--codecs"]:  # only the codec fixtures (the others stay byte-identical)
        codec_fixtures()
        return
    if sys.argv[2:3] == ["--blosc2"]:  # only the Blosc2 fixtures
        hdf5_blosc2()
        compound_blosc2()
        return
    if sys.argv[2:3] == ["--packed-ints"]:  # only the integer packing fixture
        packed_ints()
        return
    if sys.argv[2:3] == ["--plain-types"]:  # only issue 18's long-tail fixtures
        hdf5_plain_types()
        hdf5_null_vlen()
        vlen_name_clash()
        compound_string_pads()
        return
    for make in (tas_day, packed, fletcher, sparse, contiguous_and_big_endian, groups, calendars,
                 plain_hdf5, single_record_variable, strings_and_enums, hdf5_library_filters, hdf5_lzf,
                 unsupported_types, hdf5_file_format_versions):
        make()
    netcdf3("netcdf3_classic.nc", "NETCDF3_CLASSIC", cdf1_extra)
    netcdf3("netcdf3_64bit_offset.nc", "NETCDF3_64BIT_OFFSET", cdf2_extra)
    netcdf3("netcdf3_64bit_data.nc", "NETCDF3_64BIT_DATA", cdf5_extra)
    stac_fixtures()
    oversized_chunks()
    codec_fixtures()
    hdf5_blosc2()
    compound_blosc2()
    hdf5_dangling_links()
    hdf5_dangling_strings()
    packed_kinds()
    packed_ints()
    hdf5_plain_types()
    hdf5_null_vlen()
    vlen_name_clash()
    compound_string_pads()
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "make_compound_fixtures.py"),
                    OUT], check=True)
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "make_szip_fixtures.py"),
                    OUT], check=True)
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "make_cdl_fixtures.py"),
                    os.path.join(OUT, "netcdf3")], check=True)
    print("fixtures written to", os.path.abspath(OUT))


if __name__ == "__main__":
    main()
