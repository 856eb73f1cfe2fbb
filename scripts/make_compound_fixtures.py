#!/usr/bin/env python3
"""Generate the compound-type fixtures in fixtures/ (seeded): HDF5 compound datasets as h5py,
netCDF4-python, PyTables and NASA's ocean-colour L3b files write them (issue 18).

Run by make_fixtures.py (and alone: `make_compound_fixtures.py [OUTDIR]`); the other fixtures
do not depend on it.
"""
import os
import sys

import h5py
import netCDF4
import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures")
rng = np.random.default_rng(20261207)


def path(name):
    p = os.path.join(OUT, name)
    if os.path.exists(p):
        os.remove(p)
    return p


def compound_h5py():
    """h5py: mixed int/float members, big-endian members, a (3,) f4 array member, a fixed-width
    S8 string member, an array of fixed-width strings ((2,) S4); chunked + shuffle + deflate (partial edge chunk, one chunk never written:
    the compound fill value), contiguous 2-D, compact, an aligned type (padding between
    members), a scalar, and a variable-length string member (read when indexing)."""
    rec = np.dtype([("id", "<i4"), ("temp", ">f8"), ("vec", "<f4", (3,)), ("tag", "S8"),
                    ("flag", "u1"), ("codes", "S4", (2,))])
    with h5py.File(path("compound_h5py.h5"), "w") as f:
        n = 50
        x = np.zeros(n, rec)
        x["id"] = np.arange(n) * 3 - 20
        x["temp"] = rng.normal(280, 10, n)
        x["vec"] = rng.random((n, 3)).astype("f4")
        x["tag"] = [f"st{i:03d}".encode() if i % 7 else b"longtag8" for i in range(n)]
        x["flag"] = np.arange(n) % 3
        x["codes"] = [(f"a{i}".encode(), f"b{i * 7}".encode()) for i in range(n)]
        fill = np.array((-1, np.nan, (9, 9, 9), b"fill", 255, (b"none", b"")), rec)
        d = f.create_dataset("records", shape=(64,), dtype=rec, chunks=(16,), compression="gzip",
                             shuffle=True, fillvalue=fill)
        d[:n] = x  # the last chunk (48..63) is partly written, 50..63 read as the fill value
        d.attrs["title"] = "station records"
        grid_t = np.dtype([("u", "<f4"), ("v", "<f4"), ("q", ">i2")])
        g = np.zeros((6, 7), grid_t)
        g["u"] = rng.normal(0, 5, (6, 7))
        g["v"] = rng.normal(0, 5, (6, 7))
        g["q"] = rng.integers(-300, 300, (6, 7))
        f.create_dataset("grid", data=g)  # contiguous
        small = np.array([(1, 2.5), (2, -3.5)], dtype=[("k", "<i2"), ("w", "<f8")])
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        space = h5py.h5s.create_simple((2,))
        tid = h5py.h5t.py_create(small.dtype)
        h5py.h5d.create(f.id, b"compact", tid, space, dcpl=dcpl).write(
            h5py.h5s.ALL, h5py.h5s.ALL, small)
        aligned = np.dtype([("a", "u1"), ("b", "<f8"), ("c", "<i2")], align=True)
        al = np.zeros(5, aligned)
        al["a"], al["b"], al["c"] = np.arange(5), np.arange(5) / 4, -np.arange(5)
        f.create_dataset("aligned", data=al, chunks=(2,))
        f.create_dataset("scalar", data=np.array((7, 0.5), dtype=[("i", "<i4"), ("f", "<f4")]))
        labelled_t = np.dtype([("n", "<i2"), ("label", h5py.string_dtype()), ("w", "<f4")])
        lab = np.zeros(6, labelled_t)
        lab["n"], lab["w"] = np.arange(6), np.arange(6) / 8
        lab["label"] = ["alpha", "", "gamma ray", "d\u00e9j\u00e0", "e", "zeta"]
        f.create_dataset("labelled", data=lab, chunks=(4,))


def compound_nc4():
    """netCDF4-python: compound variables with dimensions (netCDF-C reads them: the netCDF-C
    path), 2-D chunked + deflated along an unlimited dimension, 1-D contiguous, an array
    member, attributes on the variable; beside an ordinary variable."""
    with netCDF4.Dataset(path("compound_nc4.nc"), "w") as ds:
        ds.createDimension("time", None)
        ds.createDimension("station", 5)
        obs_t = np.dtype([("temperature", "f4"), ("pressure", "f8"), ("count", "i2"),
                          ("wind", "f4", (2,))])
        ct = ds.createCompoundType(obs_t, "obs_t")
        v = ds.createVariable("obs", ct, ("time", "station"), zlib=True, chunksizes=(4, 5))
        o = np.zeros((10, 5), obs_t)
        o["temperature"] = rng.normal(280, 5, (10, 5))
        o["pressure"] = rng.normal(1000, 20, (10, 5))
        o["count"] = rng.integers(0, 100, (10, 5))
        o["wind"] = rng.normal(0, 3, (10, 5, 2))
        v[:] = o
        v.long_name = "station observations"
        pt = ds.createCompoundType(np.dtype([("lat", "f8"), ("lon", "f8")]), "point_t")
        s = ds.createVariable("location", pt, ("station",), contiguous=True)
        loc = np.zeros(5, pt.dtype)
        loc["lat"], loc["lon"] = np.linspace(-40, 40, 5), np.linspace(0, 200, 5)
        s[:] = loc
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "hours since 2000-01-01"
        t[:] = np.arange(10)


def compound_tables():
    """PyTables: tables (compound HDF5 datasets) with Blosc (as PyTables writes by default
    for compressed tables) and zlib, an array column, a string column, big-endian columns."""
    import tables

    class Row(tables.IsDescription):
        station = tables.StringCol(8, pos=0)
        time = tables.Int64Col(pos=1)
        temperature = tables.Float32Col(pos=2)
        pressure = tables.Float64Col(pos=3)
        profile = tables.Float32Col(shape=(3,), pos=4)

    class BigEndian(tables.IsDescription):
        a = tables.Int32Col(pos=0)
        b = tables.Float64Col(pos=1)

    with tables.open_file(path("compound_tables.h5"), "w", title="PyTables tables") as f:
        for name, filters in (("blosc", tables.Filters(complevel=5, complib="blosc:lz4")),
                              ("zlib", tables.Filters(complevel=4, complib="zlib", shuffle=True))):
            t = f.create_table("/", name, Row, title=f"{name} table", filters=filters,
                               chunkshape=(32,))
            r = t.row
            for i in range(100):
                r["station"] = f"S{i % 11:02d}".encode()
                r["time"] = 1_000_000 + 60 * i
                r["temperature"] = 270 + (i % 17) * 0.5
                r["pressure"] = 1000 + np.sin(i / 5) * 10
                r["profile"] = [i, i / 2, -i]
                r.append()
            t.flush()
        be = f.create_table("/", "big_endian", BigEndian, byteorder="big")
        be.append([(i, i * 0.25) for i in range(7)])


def compound_l3b():
    """An ocean-colour L3b-like file as NASA writes it (netCDF-4): group
    `level-3_binned_data` with the compound `BinList` (bin_num, nobs, nscenes, weights,
    time_rec), `BinIndex` (start_num, begin, extent, max) and per-product compound datasets of
    `{sum, sum_squared}` (chlor_a, Rrs_443), chunked + deflated along binListDim."""
    with netCDF4.Dataset(path("compound_l3b.nc"), "w") as ds:
        ds.title = "L3b-like binned ocean colour (synthetic)"
        ds.createGroup("processing_control").software_name = "l2bin (synthetic)"
        g = ds.createGroup("level-3_binned_data")
        nbins, nrows = 300, 20
        g.createDimension("binListDim", None)
        g.createDimension("binIndexDim", nrows)
        g.createDimension("binDataDim", None)
        bl_t = np.dtype([("bin_num", "u4"), ("nobs", "i2"), ("nscenes", "i2"), ("weights", "f4"),
                         ("time_rec", "f4")])
        bi_t = np.dtype([("start_num", "u4"), ("begin", "u4"), ("extent", "u4"), ("max", "u4")])
        bd_t = np.dtype([("sum", "f4"), ("sum_squared", "f4")])
        blt = g.createCompoundType(bl_t, "binListType")
        bit = g.createCompoundType(bi_t, "binIndexType")
        bdt = g.createCompoundType(bd_t, "binDataType")
        bl = np.zeros(nbins, bl_t)
        bl["bin_num"] = np.sort(rng.choice(50_000, nbins, replace=False)) + 1
        bl["nobs"] = rng.integers(1, 40, nbins)
        bl["nscenes"] = rng.integers(1, 3, nbins)
        bl["weights"] = np.sqrt(bl["nobs"]).astype("f4")
        bl["time_rec"] = rng.random(nbins).astype("f4") * 86400
        v = g.createVariable("BinList", blt, ("binListDim",), zlib=True, chunksizes=(64,))
        v[:] = bl
        bi = np.zeros(nrows, bi_t)
        bi["start_num"] = np.arange(nrows) * 2500 + 1
        bi["begin"] = bi["start_num"]
        bi["extent"] = rng.integers(0, 30, nrows)
        bi["max"] = 2500
        g.createVariable("BinIndex", bit, ("binIndexDim",))[:] = bi
        for product, scale in (("chlor_a", 0.3), ("Rrs_443", 0.01)):
            d = np.zeros(nbins, bd_t)
            vals = rng.lognormal(np.log(scale), 0.5, nbins).astype("f4")
            d["sum"] = vals * bl["weights"]
            d["sum_squared"] = vals * vals * bl["weights"]
            p = g.createVariable(product, bdt, ("binDataDim",), zlib=True, chunksizes=(64,))
            p[:] = d


def main():
    os.makedirs(OUT, exist_ok=True)
    compound_h5py()
    compound_nc4()
    compound_tables()
    compound_l3b()


if __name__ == "__main__":
    main()
