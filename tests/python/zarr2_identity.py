"""Run inside .venv-zarr2 (zarr-python 2.18): identity of every file of an archive with its
mounted store. Usage: zarr2_identity.py MOUNTPOINT FILE... ; prints one line per file."""
import sys
from pathlib import Path

import zarr

from identity import compare, group_paths

assert zarr.__version__.startswith("2."), zarr.__version__
ENGINE = {"hdf5_lzf.h5": "h5netcdf"}
LEFT_OUT = {"unsupported_types.nc": ["pairs", "ragged"]}

mnt = Path(sys.argv[1])
for arg in sys.argv[2:]:
    src = Path(arg)
    stem = src.name.rsplit(".", 1)[0] if "." in src.name[1:] else src.name
    for decode_cf in (True, False):
        for group in group_paths(src):
            compare(src, mnt / f"{stem}.zarr", group, LEFT_OUT.get(src.name, ()), decode_cf,
                    engine=ENGINE.get(src.name, "netcdf4"))
    print("identical with zarr", zarr.__version__, src.name)
