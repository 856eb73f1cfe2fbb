#!/usr/bin/env python3
"""Generate the szip fixtures in fixtures/ (seeded): HDF5's szip filter (id 4) as libaec writes
it through h5py, for the daemon's own decoder (issue 23, P5) to be checked against.

Run by make_fixtures.py (and alone: `make_szip_fixtures.py [OUTDIR]`); the other fixtures do
not depend on it. Every option combination the decoder handles: the NN preprocessor and
entropy coding alone (EC), 8/16/32 pixels per block, 8-, 16-, 32- and 64-bit pixels (the last
two coded as byte planes), both byte orders, scanlines that are not whole blocks (padded),
partial edge chunks, constant and zero chunks (zero blocks), low-entropy data (second
extension), random data (uncompressed blocks, and chunks libaec could not shrink: stored with
the filter skipped), 1-D and 3-D arrays, a partly written one, szip after shuffle and before
fletcher32; and 4 pixels per block, which the daemon leaves to libhdf5. nc4_szip.nc: the same
filter as netCDF-C writes it (read by the daemon's native HDF5 reader).
"""
import os
import sys
import warnings

import h5py
import netCDF4
import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures")
rng = np.random.default_rng(20261208)


def path(name):
    p = os.path.join(OUT, name)
    if os.path.exists(p):
        os.remove(p)
    return p


def smooth(shape, scale, offset=0.0):
    """A smooth field (what NN prediction is for) with a little noise."""
    grids = np.meshgrid(*[np.linspace(0, 3, n) for n in shape], indexing="ij")
    field = sum(np.sin(g * (i + 1)) for i, g in enumerate(grids))
    return offset + scale * field + rng.normal(0, scale / 50, shape)


def sparse(shape):
    """Mostly zeros, a few values in runs: zero blocks of every length."""
    data = np.zeros(shape)
    flat = data.reshape(-1)
    for start in rng.integers(0, flat.size - 20, max(1, flat.size // 700)):
        flat[start:start + rng.integers(1, 20)] = rng.integers(1, 5000)
    return data


def hdf5_szip():
    """One dataset per case, phony dimensions (netCDF-C reads them)."""
    cases = [
        # name, data, chunks, (coding, pixels per block)
        ("u1_nn8", smooth((37, 50), 40, 128).clip(0, 255).astype("u1"), (16, 20), ("nn", 8)),
        ("u1_ec32_1d", rng.integers(0, 7, 1000).astype("u1"), (300,), ("ec", 32)),
        ("i2_ec16", rng.integers(-30000, 30000, (30, 41)).astype("i2"), (8, 41), ("ec", 16)),
        ("i2_nn8_3d", smooth((4, 10, 33), 900).astype("i2"), (2, 5, 33), ("nn", 8)),
        ("u2_be_nn32", smooth((64, 64), 9000, 30000).astype(">u2"), (32, 64), ("nn", 32)),
        ("u2_narrow_nn8", smooth((50, 5), 300, 1000).astype("u2"), (50, 5), ("nn", 8)),
        ("i4_nn16", smooth((20, 100), 1e6).astype("i4"), (10, 50), ("nn", 16)),
        ("i4_be_ec8", smooth((12, 40), 5e4).astype(">i4"), (5, 40), ("ec", 8)),
        ("f4_ec8", rng.standard_normal((6, 200)).astype("f4"), (3, 100), ("ec", 8)),
        ("f4_nn32", smooth((16, 96), 12.5, 280).astype("f4"), (8, 96), ("nn", 32)),
        ("f8_nn32", smooth((10, 300), 3.0).astype("f8"), (5, 300), ("nn", 32)),
        ("f8_be_nn8", smooth((9, 13), 2.0).astype(">f8"), (4, 13), ("nn", 8)),
        ("i8_ec32", rng.integers(-2**40, 2**40, (8, 40)).astype("i8"), (4, 40), ("ec", 32)),
        ("i8_be_nn16", smooth((6, 70), 1e9).astype(">i8"), (3, 35), ("nn", 16)),
        ("zeros_f4_nn16", np.zeros((20, 64), "f4"), (10, 64), ("nn", 16)),
        ("constant_i2_nn8", np.full((24, 40), 1234, "i2"), (12, 40), ("nn", 8)),
        ("constant_u1_ec8", np.full((3000,), 7, "u1"), (3000,), ("ec", 8)),
        # 128-block scanlines: zero runs to the end of a 64-block segment, and shorter ones
        ("sparse_u2_ec8", sparse((6, 2000)).astype("u2"), (3, 2000), ("ec", 8)),
        ("sparse_i4_nn8", sparse((4, 1500)).astype("i4"), (4, 1500), ("nn", 8)),
        ("low_entropy_u2_nn16", (20000 + rng.integers(0, 2, (40, 48))).astype("u2"), (20, 48),
         ("nn", 16)),
        ("random_f8_ec8", rng.random((16, 32)), (8, 32), ("ec", 8)),
        ("random_u1_nn8", rng.integers(0, 256, (40, 40)).astype("u1"), (20, 40), ("nn", 8)),
    ]
    with h5py.File(path("hdf5_szip.h5"), "w") as f:
        for name, data, chunks, opts in cases:
            f.create_dataset(name, data=data, chunks=chunks, compression="szip",
                             compression_opts=opts)
        # 4 pixels per block (HDF5 allows any even number up to 32; libaec writes it): not
        # decoded in Rust, left to libhdf5
        f.create_dataset("ppb4_library_u2_nn4", data=smooth((20, 20), 50, 500).astype("u2"),
                         chunks=(10, 20), compression="szip", compression_opts=("nn", 4))
        d = f.create_dataset("partly_written_i4_nn8", shape=(20, 30), dtype="i4", chunks=(10, 15),
                             compression="szip", compression_opts=("nn", 8), fillvalue=-1)
        d[:10, :15] = smooth((10, 15), 100).astype("i4")
        d[10:, 15:] = 5
        # byte planes of slowly varying floats compress; noisy ones would not (filter skipped)
        f.create_dataset("shuffle_fletcher_f4_nn8", data=np.linspace(0, 3, 360, dtype="f4").reshape(12, 30),
                         chunks=(6, 30), compression="szip", compression_opts=("nn", 8),
                         shuffle=True, fletcher32=True)
        f.create_dataset("shuffle_i2_ec8", data=(np.arange(600) % 7).astype("i2").reshape(20, 30),
                         chunks=(10, 30), compression="szip", compression_opts=("ec", 8), shuffle=True)


def nc4_szip():
    """netCDF4-python's `compression="szip"` (netCDF-C over libaec): the native reader's path.
    An unlimited time axis, partial edge chunks, a big-endian variable, a _FillValue with a
    partly written variable."""
    with netCDF4.Dataset(path("nc4_szip.nc"), "w") as ds:
        ds.createDimension("time", None)
        ds.createDimension("lat", 25)
        ds.createDimension("lon", 40)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01"
        t[:] = np.arange(7)
        tas = ds.createVariable("tas", "f4", ("time", "lat", "lon"), compression="szip",
                                szip_coding="nn", szip_pixels_per_block=8, chunksizes=(2, 10, 40))
        tas.units = "K"
        tas[:] = smooth((7, 25, 40), 10.0, 280.0).astype("f4")
        with warnings.catch_warnings():  # "endian-ness of dtype and endian kwarg do not match"
            warnings.simplefilter("ignore")
            pr = ds.createVariable("pr", "f8", ("time", "lat", "lon"), compression="szip",
                                   szip_coding="ec", szip_pixels_per_block=32,
                                   chunksizes=(3, 25, 20), endian="big")
        pr[:] = np.abs(smooth((7, 25, 40), 1e-5))
        mask = ds.createVariable("mask", "i2", ("lat", "lon"), compression="szip", szip_coding="nn",
                                 szip_pixels_per_block=16, chunksizes=(10, 40), fill_value=-999)
        mask[:20] = (smooth((20, 40), 3.0) > 0).astype("i2")


def main():
    os.makedirs(OUT, exist_ok=True)
    hdf5_szip()
    nc4_szip()


if __name__ == "__main__":
    main()
