"""Run inside .venv-zarr2 (zarr-python 2.18, no dask): every store made from an NcML file
must read as ncml_expect says. Usage:
    zarr2_ncml.py MOUNTPOINT SPECS.json
(SPECS.json: {kind: spec with "dir" (archive-relative), "store", "members", "groups",
"edits"}). Prints one line per store, `identical with zarr 2.x KIND` or `FAILED KIND: reason`;
exits 1 when any failed."""
import json
import sys
import traceback
from pathlib import Path

import zarr

from ncml_expect import check

assert zarr.__version__.startswith("2."), zarr.__version__

mnt = Path(sys.argv[1])
failed = 0
for kind, spec in json.loads(Path(sys.argv[2]).read_text()).items():
    try:
        check(mnt / spec["dir"] / spec["store"], spec, edits=spec.get("edits"))
        print("identical with zarr", zarr.__version__, kind, flush=True)
    except Exception as e:  # report every store, not only the first failure
        failed += 1
        print(f"FAILED {kind}: {type(e).__name__}: {str(e)[:1500]}", flush=True)
        traceback.print_exc(limit=2, file=sys.stderr)
sys.exit(1 if failed else 0)
