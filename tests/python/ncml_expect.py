"""What a store made from an NcML aggregation file must read as. Shared by test_ncml.py (.venv,
zarr 3, dask) and zarr2_ncml.py (.venv-zarr2, zarr 2.18). A spec is what
scripts/make_collections.py's ncml_<kind>() returns (paths may be strings): a joinExisting
reads as its members' open_mfdataset; a union as the merge of each nested aggregation's
open_mfdataset; `edits` (make_collections.NCML_EDITS) applied to the expectation."""
from pathlib import Path

import xarray as xr

from collection_expect import (DROPPED, check_dtypes, check_time_encoding, compare,
                               differing_global_attributes, expected, by_time)


def expectation(spec):
    groups = [[Path(f) for f in g] for g in spec["groups"]]
    if len(groups) == 1:
        return expected(groups[0])
    # a union: every nested aggregation joined, merged (their time coordinates the same)
    return xr.merge([expected(g) for g in groups], compat="override", join="exact",
                    combine_attrs="override")


def check(store, spec, exp=None, edits=None):
    """assert that xr.open_zarr(store) reads as the spec's expectation; returns it."""
    members = [Path(f) for f in spec["members"]]
    exp = expectation(spec) if exp is None else exp
    if not edits:
        return compare(store, members, expected_ds=exp)
    # the NcML file sets and removes global attributes and removes variables: those set or
    # removed are not listed as dropped either
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
    check_time_encoding(act, by_time(members)[0])
    return act
