"""What a `--union-parent` store must read as: the merge of its variables' aggregates, each
the open_mfdataset of the variable's members (collection_expect.expected). Global attributes:
those equal in every aggregate are kept; the others, and those that differ between the members
of one variable, are named in `cloudify_dropped_attributes`. Shared by test_union_parent.py
(.venv) and zarr2_union.py (.venv-zarr2)."""
import numpy as np
import xarray as xr

from collection_expect import DROPPED, check_dtypes, differing_global_attributes, expected


def _equal(a, b):
    return np.array_equal(np.asarray(a), np.asarray(b))


def union_expected(variables, **open_kwargs):
    """(the merged dataset, the attribute names it must say were dropped) of
    {variable: [member paths]}."""
    parts = [expected(files, **open_kwargs) for _, files in sorted(variables.items())]
    dropped = set().union(*(differing_global_attributes(f) for f in variables.values()))
    kept = {}
    for k, v in parts[0].attrs.items():
        if all(k in p.attrs and _equal(p.attrs[k], v) for p in parts[1:]):
            kept[k] = v
    dropped |= {k for p in parts for k in p.attrs if k not in kept}
    merged = xr.merge(parts, compat="identical", join="exact", combine_attrs="override")
    merged.attrs = {k: v for k, v in kept.items() if k not in dropped}
    return merged, dropped


def compare_union(store, variables, expected_pair=None):
    """assert that xr.open_zarr(store) is the merge of `variables`' aggregates (decoded),
    and that each variable's raw values (decode_cf=False) are its aggregate's."""
    exp, dropped = expected_pair or union_expected(variables)
    act = xr.open_zarr(store, chunks=None).load()
    said = act.attrs.pop(DROPPED, None)
    assert sorted(said or []) == sorted(dropped), f"{DROPPED}: {said} != {sorted(dropped)}"
    check_dtypes(act, exp)
    xr.testing.assert_identical(act, exp)
    raw = xr.open_zarr(store, chunks=None, decode_cf=False)
    for var, files in variables.items():
        want = expected(files, decode_cf=False)[var].variable
        got = raw[var].variable.load()
        assert got.identical(want), f"{var}: raw values or attributes differ"
    return act
