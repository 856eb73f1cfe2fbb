"""Run inside .venv-zarr2 (zarr-python 2.18): identity of every file of an archive with its
mounted store. Usage: zarr2_identity.py MOUNTPOINT ARCHIVE FILE... (FILE relative to ARCHIVE,
e.g. stac/cal_julian.nc); prints one line per file."""
import sys
from pathlib import Path

import zarr

from identity import compare, group_paths

assert zarr.__version__.startswith("2."), zarr.__version__
# netCDF-C has no LZ4 filter (hdf5_plugin_codecs.h5) and no float16 (netCDF4-python crashes on
# it), and reports 32-bit integers in 8 bytes as int where h5py reads int64: compared with
# xarray's h5py-based engine (hdf5plugin gives h5py the filters)
ENGINE = {"hdf5_lzf.h5": "h5netcdf", "hdf5_plugin_codecs.h5": "h5netcdf",
          "hdf5_float16.h5": "h5netcdf", "hdf5_nbit_wide.h5": "h5netcdf",
          "hdf5_blosc2.h5": "h5netcdf", "compound_blosc2.h5": "h5netcdf"}
LEFT_OUT = {}  # file -> variables left out
NO_DECODE_TIMES = {"stac/cal_none.nc"}  # calendar "none": xarray cannot decode it

mnt, archive = Path(sys.argv[1]), Path(sys.argv[2])
for rel in sys.argv[3:]:
    src = archive / rel
    stem = src.name.rsplit(".", 1)[0] if "." in src.name[1:] else src.name
    store = mnt / Path(rel).parent / f"{stem}.zarr"
    for decode_cf in (True, False):
        for group in group_paths(src):
            compare(src, store, group, LEFT_OUT.get(rel, ()), decode_cf,
                    engine=ENGINE.get(rel, "netcdf4"),
                    decode_times=False if rel in NO_DECODE_TIMES else None)
    print("identical with zarr", zarr.__version__, rel)
