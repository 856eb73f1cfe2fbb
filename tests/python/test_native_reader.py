"""The native reader of NetCDF-4 metadata against its oracle, netcdf-c + libhdf5.

`cloudify inspect --json --reader native` must print exactly what `--reader libraries` prints
for every file the native reader takes; it may decline a file (then the libraries index it).
Files written here with netCDF4-python cover what the native reader is built to take, and the
test fails if it declines one of them; the fixtures and the third-party corpus are compared
wherever it takes them. Through a mount, xarray must read the generated files as it reads them
with the netcdf4 engine.
"""
import json
import resource
import subprocess

import netCDF4
import numpy as np
import pytest

import hostile_hdf5
from conftest import CORPUS, FIXTURES, ROOT, mounted
from identity import compare, group_paths

CLOUDIFY = ROOT / "target" / "debug" / "cloudify"


def inspect(path, reader):
    r = subprocess.run([str(CLOUDIFY), "inspect", "--json", "--reader", reader, str(path)],
                       capture_output=True, text=True, timeout=120)
    return (json.loads(r.stdout) if r.returncode == 0 else None), r.stderr.strip()


def numeric_attrs(obj):
    for t in ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"]:
        obj.setncattr(f"one_{t}", np.array(7, t))
        obj.setncattr(f"many_{t}", np.array([1, 2, 3], t))


def write_types(p):
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("t", None)
        ds.createDimension("y", 5)
        ds.title = "types"
        ds.nan = np.float64(np.nan)
        ds.setncattr_string("names", ["a", "héllo", ""])
        ds.setncattr_string("one_name", "single")
        for t in ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"]:
            v = ds.createVariable(f"v_{t}", t, ("t", "y"), zlib=True, chunksizes=(2, 5))
            v[:] = np.arange(15).reshape(3, 5).astype(t)
            v.units = "1"
        c = ds.createVariable("chars", "S1", ("y",))
        c[:] = np.array(list("abcde"), "S1")
        s = ds.createVariable("scalar", "f8", ())
        s[...] = 3.5
        s.note = "scalar"


def write_attrs(p):
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("x", 3)
        numeric_attrs(ds)  # 20 global attributes: dense attribute storage
        ds.history = "x" * 10000  # beyond 4 KiB: a "huge" object of the attribute heap
        ds.setncattr("big", np.arange(20000, dtype="f8"))
        v = ds.createVariable("v", "f4", ("x",), fill_value=-1.0)
        v[:] = [1, 2, 3]
        v.long_name = "value"
        v.missing_value = np.float32(-2)
        v.flags = np.array([1, 2], "i1")
        v.empty_text = ""
        for t in ["i2", "u4", "f4", "f8"]:  # zero-length attributes (null dataspaces)
            v.setncattr(f"empty_{t}", np.array([], t))
        ds.setncattr_string("no_strings", [])


def write_unlimited(p):
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("time", None)
        ds.createDimension("empty", None)
        ds.createDimension("x", 4)
        long = ds.createVariable("long", "f4", ("time", "x"), chunksizes=(1, 4))
        long[:] = np.ones((5, 4), "f4")
        short = ds.createVariable("short", "i2", ("time",))
        short[:] = np.arange(3, dtype="i2")
        ds.createVariable("never", "f8", ("empty", "x"))
        t = ds.createVariable("time", "f8", ("time",))
        t[:] = np.arange(5.0)
        t.units = "days since 2000-01-01"


def write_groups(p):
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("x", 3)
        x = ds.createVariable("x", "f8", ("x",))
        x[:] = [0.5, 1.5, 2.5]
        a = ds.createGroup("alpha")
        a.createDimension("y", 2)
        a.purpose = "child"
        v = a.createVariable("v", "i4", ("y", "x"), fill_value=-9)
        v[:] = np.arange(6).reshape(2, 3)
        b = a.createGroup("beta")
        w = b.createVariable("w", "f4", ("x",), contiguous=True)
        w[:] = [1, 2, 3]
        ds.createGroup("empty")


def write_layouts(p):
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("x", 6)
        ds.createDimension("y", 4)  # a dimension without a coordinate variable
        ds.createDimension("z", 2)
        c = ds.createVariable("contig", "f8", ("x",), contiguous=True)
        c[:] = np.arange(6.0)
        big = ds.createVariable("big", "i4", ("x", "y"), endian="big", chunksizes=(3, 2))
        big[:] = np.arange(24).reshape(6, 4)
        f = ds.createVariable("fletch", "f4", ("x",), fletcher32=True, zlib=True, chunksizes=(2,))
        f[:] = np.arange(6.0)
        sparse = ds.createVariable("sparse", "f4", ("x", "y"), chunksizes=(2, 2))
        sparse[0:2, 0:2] = 1.0
        nofill = ds.createVariable("nofill", "i2", ("x",), fill_value=False)
        nofill[:] = np.arange(6)
        nc = ds.createVariable("z", "f4", ("y",))  # named like a dimension it does not index
        nc[:] = np.arange(4.0)
        unwritten = ds.createVariable("unwritten", "f8", ("x",), contiguous=True)
        unwritten.note = "never written"


def write_many_variables(p):
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("x", 2)
        for i in range(12):  # more than 8 links: dense link storage
            ds.createVariable(f"v{i:02d}", "f4", ("x",))[:] = [i, i + 1]


def write_classic(p):
    with netCDF4.Dataset(p, "w", format="NETCDF4_CLASSIC") as ds:
        ds.createDimension("x", 2)
        ds.title = "classic model"
        ds.createVariable("v", "f4", ("x",))[:] = [1, 2]


def write_strings(p):
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("n", 3)
        ds.createDimension("t", None)
        ds.createDimension("m", 2)
        names = ds.createVariable("names", str, ("n",))
        names[:] = np.array(["alpha", "bêta", ""], dtype=object)
        names.long_name = "names"
        grid = ds.createVariable("grid", str, ("n", "m"))
        grid[:] = np.array([["a", "bb"], ["ccc", "dddd"], ["é", "f"]], dtype=object)
        one = ds.createVariable("one", str, ())
        one[...] = "single"
        stamps = ds.createVariable("stamps", str, ("t",), chunksizes=(2,))
        stamps[:] = np.array(["2020-01-01", "2020-01-02", "2020-01-03"], dtype=object)


def write_strings_partial(p):
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("t", None)
        ds.createVariable("x", "f4", ("t",))[:] = np.arange(4.0)
        s = ds.createVariable("s", str, ("t",))  # 2 of 4 written: netcdf-c fills the rest
        s[0:2] = np.array(["a", "b"], dtype=object)


def xarray_dataset():
    import pandas as pd
    import xarray as xr
    rng = np.random.default_rng(0)
    return xr.Dataset(
        {"tas": (("time", "lat", "lon"), rng.random((6, 4, 5), dtype="f4"),
                 {"units": "K", "standard_name": "air_temperature"}),
         "pr": (("time", "lat", "lon"), np.arange(120.0).reshape(6, 4, 5)),
         "mask": (("lat", "lon"), np.ones((4, 5), "i1")),
         "label": (("lat",), np.array(["a", "bb", "ccc", "d"], dtype=object))},
        coords={"time": pd.date_range("2000-01-01", periods=6, freq="D"),
                "lat": np.linspace(-30, 30, 4), "lon": np.linspace(0, 80, 5)},
        attrs={"title": "xarray-written", "Conventions": "CF-1.8", "a1": 1, "a2": 2.5,
               "a3": [1, 2], "a4": "four", "history": "h", "source": "s", "institution": "i"})


def write_xarray_netcdf4(p):
    enc = {"tas": {"zlib": True, "complevel": 4, "chunksizes": (2, 4, 5)},
           "pr": {"zlib": True, "shuffle": True}}
    xarray_dataset().to_netcdf(p, engine="netcdf4", encoding=enc)


def write_xarray_h5netcdf(p):
    enc = {"tas": {"compression": "gzip", "chunksizes": (2, 4, 5)}}
    xarray_dataset().to_netcdf(p, engine="h5netcdf", encoding=enc)
    xarray_dataset().isel(time=slice(0, 2)).to_netcdf(p, engine="h5netcdf", group="sub/deeper",
                                                      mode="a")


def write_reserved_names(p):
    """netcdf-c's reserved attribute names, added behind its back: never listed."""
    import h5py
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("x", 2)
        ds.createVariable("v", "f4", ("x",))[:] = 1
        ds["v"].keep = 1
        ds.keep = 1
    with h5py.File(p, "a") as f:
        for name in ["_ARRAY_DIMENSIONS", "_Codecs", "_Format", "_IsNetcdf4",
                     "_SuperblockVersion", "_QuantizeBitGroomNumberOfSignificantDigits"]:
            f["v"].attrs[name] = np.int32(5)
            f.attrs[name] = np.int32(6)


def write_exact_prefix(p):
    """A variable named exactly like netcdf-c's non-coordinate prefix keeps its name."""
    import h5py
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("x", 3)
        ds.createVariable("x", "f4", ("x",))[:] = [1, 2, 3]
        ds.createVariable("y", "f4", ("x",))[:] = [4, 5, 6]
    with h5py.File(p, "a") as f:
        f.move("y", "_nc4_non_coord_")


def write_user_block(p):
    """A 1 KiB user block before the superblock shifts every address, contiguous ones too."""
    import h5py
    with h5py.File(p, "w", userblock_size=1024, track_order=True, libver=("v108", "v108")) as f:
        x = f.create_dataset("x", data=np.arange(3.0), track_order=True)
        x.make_scale("x")
        v = f.create_dataset("v", data=np.ones(3, "f4"), chunks=(2,), compression="gzip",
                             track_order=True)
        v.dims[0].attach_scale(x)
        v.attrs["units"] = "m"
        c = f.create_dataset("c", data=np.arange(3, dtype="i2"), track_order=True)
        c.dims[0].attach_scale(x)
    with open(p, "r+b") as fh:
        fh.write(b"USER BLOCK")


def write_dense_untracked(p):
    """Many attributes on a group that does not track their creation order (h5py): their
    order is the libraries' own; the native reader must decline or agree."""
    import h5py
    with h5py.File(p, "w", libver="latest") as f:
        f.create_dataset("v", data=np.float64(1.0))
        for i in range(200):
            f.attrs[f"attr{i}"] = i


GENERATED = {
    "classic.nc": write_classic,
    "reserved_names.nc": write_reserved_names,
    "exact_prefix.nc": write_exact_prefix,
    "user_block.h5": write_user_block,
    "dense_untracked.h5": write_dense_untracked,
    "xarray_netcdf4.nc": write_xarray_netcdf4,
    "xarray_h5netcdf.nc": write_xarray_h5netcdf,
    "strings.nc": write_strings,
    "strings_partial.nc": write_strings_partial,
    "types.nc": write_types,
    "attrs.nc": write_attrs,
    "unlimited.nc": write_unlimited,
    "groups.nc": write_groups,
    "layouts.nc": write_layouts,
    "many_variables.nc": write_many_variables,
}
# the native reader must take every generated file but these (held to equality where taken)
MUST_TAKE = set(GENERATED) - {"strings_partial.nc", "dense_untracked.h5"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    d = tmp_path_factory.mktemp("native")
    for name, write in GENERATED.items():
        write(d / name)
    return d


def hdf5_files():
    files = [p for p in sorted(FIXTURES.iterdir()) if p.is_file() and p.suffix in (".nc", ".h5")]
    files += [p for p in sorted(CORPUS.iterdir()) if p.suffix not in (".md", "")
              and p.name != "SHA256SUMS"]
    return files


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_files_equal_the_libraries(generated, name):
    native, why = inspect(generated / name, "native")
    libraries, err = inspect(generated / name, "libraries")
    assert libraries is not None, err
    if name in MUST_TAKE:
        assert native is not None, f"native reader declined {name}: {why}"
    if native is not None:
        assert native == libraries


@pytest.mark.parametrize("path", hdf5_files(), ids=lambda p: p.name)
def test_fixtures_and_corpus_equal_the_libraries(path):
    native, _ = inspect(path, "native")
    if native is None:
        return  # declined: the libraries index it, as the identity tests check
    libraries, err = inspect(path, "libraries")
    assert libraries is not None, err
    assert native == libraries


def test_native_reader_declines_with_a_reason(generated, tmp_path):
    bad = tmp_path / "truncated.nc"
    bad.write_bytes((generated / "groups.nc").read_bytes()[:600])
    native, why = inspect(bad, "native")
    assert native is None and "native reader" in why


def test_generated_files_read_through_a_mount(generated):
    """The daemon indexes them with the native reader, and xarray reads them as from the file."""
    with mounted(generated) as mnt:
        for name in sorted(MUST_TAKE):
            src = generated / name
            for group in group_paths(src):
                compare(src, mnt / (src.stem + ".zarr"), group, [], True)
        log = (mnt.parent / (mnt.name + ".log")).read_text()
    for name in sorted(MUST_TAKE):
        lines = [l for l in log.splitlines() if " indexed" in l and f"/{name} " in l]
        assert lines and all("native=true" in l for l in lines), (name, lines)


@pytest.mark.parametrize("build", [hostile_hdf5.repeated_continuations,
                                   hostile_hdf5.self_continuing,
                                   hostile_hdf5.nested_vlen,
                                   hostile_hdf5.shared_btree_leaf,
                                   hostile_hdf5.empty_named_groups,
                                   hostile_hdf5.global_heap_copies], ids=lambda f: f.__name__)
def test_hostile_structures_are_declined_in_bounded_memory(tmp_path, build):
    """Small files whose structures repeat each other: declined with a reason, without the
    gigabytes (or the stack overflow) of following every pointer."""
    LIMIT = 512 << 20
    path = tmp_path / "hostile.h5"
    build(path)
    # under an address-space limit: an allocation beyond it aborts the process (exit -6)
    limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
    r = subprocess.run([str(CLOUDIFY), "inspect", "--reader", "native", str(path)],
                       capture_output=True, text=True, timeout=120, preexec_fn=limit)
    assert r.returncode == 1 and "native reader" in r.stderr, (r.returncode, r.stderr)
    assert "panicked" not in r.stderr


def test_a_damaged_checksum_is_refused_like_libhdf5(generated, tmp_path):
    """One byte of an attribute changed: libhdf5 refuses the object header (checksum), and so
    must the native reader, rather than serve the damaged value."""
    data = bytearray((generated / "groups.nc").read_bytes())
    at = data.find(b"child")  # the value of the group attribute `purpose`
    assert at > 0
    data[at] ^= 0x01
    bad = tmp_path / "damaged.nc"
    bad.write_bytes(bytes(data))
    native, why = inspect(bad, "native")
    libraries, err = inspect(bad, "libraries")
    assert native is None and "checksum mismatch" in why, why
    assert libraries is None, "libhdf5 read a header whose checksum does not match"
