"""Every fixture through a real mount: identity with xarray's netcdf4 engine, per group."""
import json
import os
import re
import subprocess

import pytest

from conftest import CLOUDIFY, FIXTURES
from identity import compare, group_paths

# every fixture, by its path relative to fixtures/ (the STAC fixtures are in a sub-directory)
NAMES = {str(p.relative_to(FIXTURES)): p for p in sorted(FIXTURES.rglob("*"))
         if p.is_file() and p.suffix != ".md"}
# netCDF-C has no LZF filter: that file is compared with xarray's h5py-based engine;
# netCDF-C has no LZ4 filter (hdf5_plugin_codecs.h5) and no float16 (netCDF4-python crashes on
# it), and reports 32-bit integers in 8 bytes as int where h5py reads int64: compared with
# xarray's h5py-based engine (hdf5plugin gives h5py the filters); netCDF-C has no Blosc2
# filter either (hdf5_blosc2.h5, compound_blosc2.h5: netCDF4 cannot even open the latter)
ENGINE = {"hdf5_lzf.h5": "h5netcdf", "hdf5_plugin_codecs.h5": "h5netcdf",
          "hdf5_float16.h5": "h5netcdf", "hdf5_nbit_wide.h5": "h5netcdf",
          "hdf5_blosc2.h5": "h5netcdf", "compound_blosc2.h5": "h5netcdf"}
# netCDF-C cannot open these (dangling links): compared with h5py in test_hdf5_fallback.py
# compound_h5py.h5: netCDF4-python 1.7.5 segfaults opening it (a compound with a vlen
# string member; netCDF-C lists none of its compounds anyway): its arrays are compared with
# h5py in test_compound.py
# hdf5_plain_types.h5: netCDF-C lists none of its opaque, bitfield and reference datasets
# (test_plain_types.py compares it with h5py)
# hdf5_null_vlen.h5: netCDF-C refuses a null-dataspace vlen (test_plain_types.py: h5py)
# compound_string_pads.h5: netCDF4-python 1.7 misreads fixed-width string members (an S6 member
# as S1 at wrong offsets) and corrupts its memory doing so (later opens in the same process
# crash): compared with h5py in test_compound.py
H5PY_ONLY = {"hdf5_dangling_links.h5", "hdf5_dangling_strings.h5", "compound_h5py.h5",
             "hdf5_plain_types.h5", "hdf5_null_vlen.h5", "compound_string_pads.h5"}
# file -> {group: variables left out (with a logged reason)}
LEFT_OUT = {}
# xarray cannot decode times in the calendar "none": compared with decode_times=False
NO_DECODE_TIMES = {"stac/cal_none.nc"}


def store_name(file_name):
    """The store's path in the mount: "stac/cal_julian.nc" -> "stac/cal_julian.zarr"."""
    d, _, name = file_name.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
    return (d + "/" if d else "") + stem + ".zarr"


@pytest.mark.parametrize("name", sorted(set(NAMES) - H5PY_ONLY))
@pytest.mark.parametrize("decode_cf", [True, False])
@pytest.mark.parametrize("mode", ["raw", "decoded"])
def test_fixture_identical(request, mode, name, decode_cf):
    mnt = request.getfixturevalue("fixtures_mount" if mode == "raw" else "fixtures_decoded_mount")
    src = NAMES[name]
    store = mnt / store_name(name)
    for group in group_paths(src):
        missing = LEFT_OUT.get(name, {}).get(group, [])
        compared = compare(src, store, group, missing, decode_cf, engine=ENGINE.get(name, "netcdf4"),
                           decode_times=False if name in NO_DECODE_TIMES else None)
        assert not set(missing) & set(compared)


def test_all_fixtures_listed(fixtures_mount):
    """Each directory shows its stores, their STAC items, its sub-directories and its STAC catalog."""
    for sub in ("", "stac"):
        shown = sorted(p.name for p in (fixtures_mount / sub).iterdir())
        stores = [store_name(n).rsplit("/", 1)[-1] for n in NAMES if os.path.dirname(n) == sub]
        dirs = sorted({n.split("/")[0] for n in NAMES if "/" in n}) if sub == "" else []
        assert shown == sorted(stores + [s[: -len(".zarr")] + ".stac.json" for s in stores]
                               + dirs + ["catalog.json"])


def test_decoded_mode_serves_uncompressed_chunks(fixtures_decoded_mount):
    import json
    meta = json.loads((fixtures_decoded_mount / "tas_day.zarr" / ".zmetadata").read_text())["metadata"]
    tas = meta["tas/.zarray"]
    assert tas["compressor"] is None and tas["filters"] is None
    # source chunks (4, 16, 32) are stacked along time up to the target size, never beyond
    # the array's 10 steps (netCDF-C's NCZarr refuses a chunk larger than its array)
    assert tas["chunks"] == [10, 16, 32]
    chunk = fixtures_decoded_mount / "tas_day.zarr" / "tas" / "0.0.0"
    assert chunk.stat().st_size == 10 * 16 * 32 * 4 == len(chunk.read_bytes())


# what `cloudify inspect` says of the codec, float16 and N-bit fixtures (and nothing left out)
INSPECT = {
    "nc4_codecs.nc": ["codecs zstd(5)", "codecs bz2(5)", "codecs blosc(lz4, 5, shuffle)",
                      "codecs blosc(blosclz, 5, bitshuffle)", "codecs blosc(zlib, 5, noshuffle)",
                      "codecs blosc(lz4hc, 5, shuffle)", "codecs blosc(zstd, 5, bitshuffle)"],
    "hdf5_plugin_codecs.h5": ["codecs zstd(7)", "codecs blosc(lz4, 5, bitshuffle)",
                              "codecs blosc(zstd, 3, shuffle)", "codecs bz2(9)",
                              "decoded in the daemon (HDF5 filters lz4)"],
    "tables_codecs.h5": ["codecs shuffle(4) + bz2(5)", "codecs blosc(blosclz, 5, shuffle)",
                         "codecs blosc(lz4hc, 5, bitshuffle)"],
    "hdf5_blosc2.h5": ["tables_zstd_bitshuffle   <f4", "b2nd_u2_be               >u2",
                       "decoded in the daemon (HDF5 filters blosc2)",
                       "decoded in the daemon (HDF5 filters blosc2 + fletcher32)"],
    "hdf5_float16.h5": ["half                     <f2", "half_be                  >f2"],
    "hdf5_nbit.h5": ["int12                    <i2", "uint12                   >u2",
                     "N-bit type, read through libhdf5 as full-width values"],
    "hdf5_nbit_wide.h5": ["int32_in_8_bytes         <i8", "N-bit type, read through libhdf5"],
}


@pytest.mark.parametrize("name", sorted(INSPECT))
def test_inspect_names_the_codecs(name):
    import subprocess

    from conftest import ROOT
    out = subprocess.run([str(ROOT / "target" / "debug" / "cloudify"), "inspect", str(FIXTURES / name)],
                         capture_output=True, text=True, check=True).stdout
    assert "LEFT OUT" not in out
    for words in INSPECT[name]:
        assert words in out, (words, out)


INSPECT_ARRAY = re.compile(r"^  (\S.*?)\s+\S+ \[[^\]]*\] dims \[.*?\] chunks \[([^\]]*)\]"
                           r"(?: \(stored \[([^\]]*)\]\))? codecs ")


def inspect_chunks(path):
    """{(group, name): (chunks, stored chunks or None)} of `cloudify inspect` (the mount's
    options: contiguous chunks of 20000 bytes)."""
    out = subprocess.run([str(CLOUDIFY), "inspect", "--contiguous-chunk-size", "20000", str(path)],
                         capture_output=True, text=True, check=True).stdout
    found, group = {}, "/"
    ints = lambda s: [int(x) for x in s.split(",")] if s else []  # noqa: E731
    for line in out.splitlines():
        if line.startswith("group "):
            group = line.split()[1]
        elif m := INSPECT_ARRAY.match(line):
            found[(group, m.group(1))] = (ints(m.group(2)), ints(m.group(3)) if m.group(3) else None)
    return found


@pytest.mark.parametrize("name", sorted(n for n in NAMES if n.endswith((".nc", ".h5"))))
def test_inspect_shows_the_served_chunks(fixtures_mount, name):
    """`cloudify inspect` shows the chunk shape the mount serves (a stored chunk larger than
    its array is cropped), and the stored one beside it where they differ."""
    meta = json.loads((fixtures_mount / store_name(name) / ".zmetadata").read_text())["metadata"]
    shown = inspect_chunks(NAMES[name])
    assert shown
    for (group, array), (chunks, stored) in shown.items():
        key = "/".join([p for p in group.split("/") if p] + [array]) + "/.zarray"
        if key not in meta:
            continue  # a name the store spells otherwise
        assert meta[key]["chunks"] == chunks, (name, key)
        assert stored is None or (stored != chunks and all(s >= c for s, c in zip(stored, chunks)))
    if name == "oversized_chunks.nc":
        assert {a: s for (_, a), (_, s) in shown.items()} == {
            "deflated": [8, 16], "plain": [8, 16], "deflated_1d": [512], "t": [1024]}
