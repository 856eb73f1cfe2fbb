"""Run inside .venv-zarr2 (zarr-python 2.18, no dask): a --union-parent store read through the
mount must be the merge of its variables' aggregates. Usage:
    zarr2_union.py STORE VAR=FILE[,FILE...] ...
Prints `identical with zarr 2.x STORE`; exits 1 with the reason otherwise."""
import sys

import zarr

from union_expect import compare_union

assert zarr.__version__.startswith("2."), zarr.__version__
store = sys.argv[1]
variables = {}
for arg in sys.argv[2:]:
    var, files = arg.split("=", 1)
    variables[var] = files.split(",")
compare_union(store, variables)
print("identical with zarr", zarr.__version__, store, flush=True)
