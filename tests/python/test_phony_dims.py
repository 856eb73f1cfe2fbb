"""Dimension names through a mount equal netCDF4-python's for every fixture and corpus HDF5
file it opens (issue 18): scales' names, and netCDF-C's `phony_dim_N` for datasets without
scales, numbered as netCDF-C numbers them (every scale first, then children groups before
their parent, a group's dimension of the same length reused) also where the pure-HDF5 view
serves the file. A vlen variable is compared through its count array (the variable's own
dimensions), a compound through its member arrays."""
import warnings

import netCDF4
import numpy as np
import pytest
import zarr

from conftest import CORPUS, FIXTURES, mounted

SUFFIXES = (".nc", ".h5", ".nc4", ".he5", ".HDF5")


def hdf5_files(root):
    return sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.read_bytes()[:4] == b"\x89HDF")


def netcdf_dims(path):
    """{(group path, variable): dimensions} as netCDF4-python lists them, or None."""
    out = {}

    def walk(g, at):
        for name, v in g.variables.items():
            out[(at, name)] = list(v.dimensions)
        for name, child in g.groups.items():
            walk(child, f"{at.rstrip('/')}/{name}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nc = netCDF4.Dataset(path)
        except OSError:
            return None
        with nc:
            walk(nc, "/")
    return out


def served_dims(store):
    """{(group path, variable): [dimensions of each array standing for it]}."""
    out = {}
    root = zarr.open_group(str(store), mode="r")

    def walk(g, at):
        for name, a in g.arrays():
            attrs = dict(a.attrs)
            dims = list(attrs.get("_ARRAY_DIMENSIONS", []))
            if "_cloudify_vlen_count" in attrs:  # the values; the count has the variable's dims
                continue
            if "sample_dimension" in attrs:
                name = name.rsplit(".count", 1)[0]
            if "cloudify_compound_of" in attrs:  # a member's own axes (array members) follow
                name = attrs["cloudify_compound_of"]
            out.setdefault((at, name), []).append(dims)
        for name, child in g.groups():
            walk(child, f"{at.rstrip('/')}/{name}")
    walk(root, "/")
    return out


def compare(mnt, archive, files):
    checked = 0
    for path in files:
        want = netcdf_dims(path)
        if want is None:
            continue
        store = mnt / path.relative_to(archive).with_suffix(".zarr")
        got = served_dims(store)
        for key, dims in want.items():
            for served in got.get(key, []):
                # a compound's array member adds its own axes after the variable's
                assert served[:len(dims)] == dims, (path.name, key, served, dims)
                checked += 1
    return checked


def test_fixtures_name_dimensions_as_netcdf4(fixtures_mount):
    assert compare(fixtures_mount, FIXTURES, hdf5_files(FIXTURES)) > 100


def test_corpus_names_dimensions_as_netcdf4():
    with mounted(CORPUS) as mnt:
        assert compare(mnt, CORPUS, hdf5_files(CORPUS)) > 100


def test_pure_hdf5_view_numbers_phony_dims_as_netcdf_c(tmp_path):
    """netCDF-C's rule spelled out on a file the pure-HDF5 view serves (a bitfield dataset, which
    netCDF-C passes over): scales first, a child group before its parent, a dimension reused by
    length and unlimitedness only, the bitfield's axis numbered after everything else."""
    import h5py
    archive = tmp_path / "archive"
    archive.mkdir()
    with h5py.File(archive / "phony.h5", "w") as f:
        f.create_dataset("a", data=np.zeros((2, 3), "f4"))      # root: after sub's
        sub = f.create_group("sub")
        sub.create_dataset("b", data=np.zeros(3, "i2"))
        sub.create_dataset("c", data=np.zeros((3, 3), "i2"))    # two axes of one length
        f.create_dataset("d", (3,), maxshape=(None,), dtype="f8")  # unlimited: its own
        x = f.create_dataset("x", data=np.arange(2.0))
        x.make_scale("x")                                       # a scale: dimension 0
        space = h5py.h5s.create_simple((7,))
        h5py.h5d.create(f.id, b"bits", h5py.h5t.STD_B8LE, space)  # netCDF-C passes over it
    want = netcdf_dims(archive / "phony.h5")
    assert want[("/", "a")] == ["x", "phony_dim_3"]  # x (2) reused, 3 after sub's 1 and 2
    assert want[("/sub", "c")] == ["phony_dim_1", "phony_dim_2"]
    with mounted(archive, "--index-dir", "none") as mnt:
        got = served_dims(mnt / "phony.zarr")
        assert compare(mnt, archive, [archive / "phony.h5"]) == len(want)
        assert got[("/", "bits")] == [["phony_dim_5"]]
        assert got[("/", "d")] == [["phony_dim_4"]]
