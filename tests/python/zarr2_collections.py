"""Run inside .venv-zarr2 (zarr-python 2.18, no dask): every joined store of the archive's sets
read through the mount must equal its members' open_mfdataset (here xr.combine_nested on the
opened members, which is what open_mfdataset does). Usage:
    zarr2_collections.py MOUNTPOINT ARCHIVE SET...
(SET: a sub-directory of ARCHIVE; its stores are the groups of collection_expect.groups).
Prints one line per store, `identical with zarr 2.x SET/STEM` or `FAILED SET/STEM: reason`;
exits 1 when any failed."""
import sys
import traceback
from pathlib import Path

import zarr

from collection_expect import compare, groups

assert zarr.__version__.startswith("2."), zarr.__version__

mnt, archive = Path(sys.argv[1]), Path(sys.argv[2])
failed = 0
for case in sys.argv[3:]:
    found = groups(archive / case)
    assert found, f"{case}: no groups in {archive / case}"
    for stem, files in found.items():
        try:
            compare(mnt / case / f"{stem}.zarr", files)
            print("identical with zarr", zarr.__version__, f"{case}/{stem}", flush=True)
        except Exception as e:  # report every store, not only the first failure
            failed += 1
            print(f"FAILED {case}/{stem}: {type(e).__name__}: {str(e)[:1500]}", flush=True)
            traceback.print_exc(limit=2, file=sys.stderr)
sys.exit(1 if failed else 0)
