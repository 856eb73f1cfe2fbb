"""What a store made from an NcML aggregation file must read as. Shared by test_ncml.py (.venv,
zarr 3, dask) and zarr2_ncml.py (.venv-zarr2, zarr 2.18). A spec is what
scripts/make_collections.py's ncml_<kind>() returns (paths may be strings): a joinExisting
reads as its members' open_mfdataset; a union as the merge of each nested aggregation's
open_mfdataset; `edits` (make_collections.NCML_EDITS) applied to the expectation."""
from pathlib import Path

import xarray as xr

from collection_expect import (DROPPED, by_time, check_dtypes, check_time_encoding,
                               differing_global_attributes, expected, first_time)


def expectation(spec):
    groups = [[Path(f) for f in g] for g in spec["groups"]]
    if len(groups) == 1:
        return expected(groups[0])
    # a union: every nested aggregation joined (a lone file opened), merged (their shared
    # variables the same)
    parts = [expected(g) if len(g) > 1 else xr.open_dataset(g[0]).load() for g in groups]
    return xr.merge(parts, compat="override", join="exact", combine_attrs="override")


def has_time(path):
    try:
        first_time(path)
        return True
    except ValueError:
        return False


def check(store, spec, exp=None, edits=None):
    """assert that xr.open_zarr(store) reads as the spec's expectation (values, dtypes,
    attributes), `cloudify_dropped_attributes` naming exactly the global attributes that
    differ between members (less those the edits set or remove), time in the first member's
    units and calendar; returns the store's dataset."""
    members = [Path(f) for f in spec["members"]]
    exp = expectation(spec) if exp is None else exp
    edits = edits or {"set": {}, "removed_attributes": [], "removed_variables": []}
    act = xr.open_zarr(store, chunks=None).load()
    exp = exp.copy()
    exp.attrs = dict(exp.attrs)
    differing = differing_global_attributes(members)
    touched = set(edits["set"]) | set(edits["removed_attributes"])
    dropped = act.attrs.pop(DROPPED, [])
    assert sorted(dropped) == sorted(differing - touched), (dropped, differing)
    for n in differing | set(edits["removed_attributes"]):
        exp.attrs.pop(n, None)
    exp.attrs.update(edits["set"])
    exp = exp.drop_vars(edits["removed_variables"])
    check_dtypes(act, exp)
    xr.testing.assert_identical(act, exp)
    check_time_encoding(act, by_time([m for m in members if has_time(m)])[0])
    return act
