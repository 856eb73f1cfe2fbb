"""The third-party corpus through a real mount: identity with xarray's netcdf4 engine, per group.

Every variable left out is listed here, so that a regression (or a fix) is visible.
"""
import pytest

from conftest import CORPUS
from identity import compare, group_paths, opened_once

# file -> {group: [variables left out]}
LEFT_OUT = {
    "harmony-opendap-subsetter__M2T1NXSLV_temporal.nc4": {},
    "harmony-opendap-subsetter__f16_ssmis_20200102v7.nc": {},
    "l2ss-py__GPM_test_file.HDF5": {},
    "l2ss-py__MLS-Aura_L2GP-CO_2021d043.he5": {},
    "l2ss-py__S5P_OFFL_L2__CH4_subset.nc4": {},
    "netcdf-c__ref_szip.h5": {},  # szip, decoded in the daemon (codec/szip.rs)
    "wrf-python__ci_test_file.nc": {},
    "l2ss-py__ascat_20150702_metopa_ovw.l2.nc": {},  # NetCDF-3 classic
    "xarray-data__eraint_uvz.nc": {},  # NetCDF-3 64-bit offset
}


def store(mnt, name):
    return mnt / (name.rsplit(".", 1)[0] + ".zarr")


@pytest.mark.parametrize("name", sorted(LEFT_OUT))
@pytest.mark.parametrize("decode_cf", [True, False])
def test_corpus_identical(corpus_mount, name, decode_cf):
    src = CORPUS / name
    left_out = LEFT_OUT[name]
    groups = group_paths(src)
    opened = opened_once(src, store(corpus_mount, name), decode_cf) if len(groups) > 1 else (None, None)
    for group in groups:
        missing = left_out.get(group, [])
        compared = compare(src, store(corpus_mount, name), group, missing, decode_cf,
                           open_source=opened[0], open_store=opened[1])
        assert not set(missing) & set(compared)


@pytest.mark.parametrize("name", sorted(LEFT_OUT))
def test_corpus_identical_in_decoded_mode(corpus_decoded_mount, name):
    """--chunks decoded."""
    src = CORPUS / name
    groups = group_paths(src)
    at = store(corpus_decoded_mount, name)
    opened = opened_once(src, at) if len(groups) > 1 else (None, None)
    for group in groups:
        compare(src, at, group, LEFT_OUT[name].get(group, []), open_source=opened[0],
                open_store=opened[1])


def test_left_out_variables_are_exactly_these(corpus_mount):
    """The Zarr tree lacks exactly the listed variables (and nothing else) in every group."""
    import netCDF4
    for name, groups in LEFT_OUT.items():
        with netCDF4.Dataset(CORPUS / name) as ds:
            def walk(g, path):
                zdir = store(corpus_mount, name).joinpath(*[p for p in path.split("/") if p])
                shown = {p.name for p in zdir.iterdir() if p.is_dir()} - set(g.groups)
                assert set(g.variables) - shown == set(groups.get(path, [])), (name, path)
                for sub_name, sub in g.groups.items():
                    walk(sub, path.rstrip("/") + "/" + sub_name)
            walk(ds, "/")
