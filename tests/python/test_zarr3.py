"""Zarr v3 mounts (`--zarr-format 3`): every fixture and corpus file read with xarray and
zarr-python 3 as a v3 store (`open_zarr(zarr_format=3)`) equals `open_dataset(engine=
"netcdf4")` of the file, raw and decoded, sharded (the default) and unsharded
(`--shard-size 0`); shards are the inner chunks' bytes followed by their index."""
import json
import struct

import pytest

from conftest import CORPUS, FIXTURES, MODES, mounted
from identity import compare, group_paths, opened_once
from test_corpus import LEFT_OUT as CORPUS_LEFT_OUT
from test_corpus import store as corpus_store
from test_fixtures import ENGINE, H5PY_ONLY, LEFT_OUT, NAMES, NO_DECODE_TIMES, store_name

# (shard size, chunk mode) of each mount; a small contiguous chunk target splits and pads
# contiguous variables, and a small shard size makes shards of several chunks with a partial
# last shard along the leading dimension
LAYOUTS = {
    "unsharded-raw": ("0", "raw"),
    "sharded-raw": (str(256 << 20), "raw"),
    "small-shards-raw": ("40000", "raw"),
    "unsharded-decoded": ("0", "decoded"),
    "sharded-decoded": (str(256 << 20), "decoded"),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def v3_mount(request):
    shard, mode = LAYOUTS[request.param]
    with mounted(FIXTURES, "--contiguous-chunk-size", "20000", "--zarr-format", "3",
                 "--shard-size", shard, *MODES[mode]) as mnt:
        yield request.param, mnt


# `_Unsigned` variables whose `_FillValue` is beyond the signed range: a v3 store gives it as
# the same bits read signed, which xarray's decoding needs (seen with decode_cf=False)
FILL_BITS = {"packed_kinds.nc": ("ubyte_signed", "byte_unsigned")}


@pytest.mark.parametrize("name", sorted(set(NAMES) - H5PY_ONLY))
def test_fixture_identical_v3(v3_mount, name):
    _, mnt = v3_mount
    src = NAMES[name]
    for decode_cf in (True, False):
        for group in group_paths(src):
            missing = LEFT_OUT.get(name, {}).get(group, [])
            compared = compare(src, mnt / store_name(name), group, missing, decode_cf,
                               engine=ENGINE.get(name, "netcdf4"),
                               decode_times=False if name in NO_DECODE_TIMES else None,
                               zarr_format=3, fill_bits=FILL_BITS.get(name, ()))
            assert not set(missing) & set(compared)


def _walk_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_sizes_are_exact_and_listings_complete(v3_mount):
    """Every file's st_size is the bytes it reads; every chunk key zarr reads is listed."""
    _, mnt = v3_mount
    for store in ("tas_day.zarr", "groups.zarr", "sparse.zarr", "strings_enum.zarr"):
        files = _walk_files(mnt / store)
        assert files, store
        for f in files:
            assert len(f.read_bytes()) == f.stat().st_size, f


def _shard_index(data, count):
    """(offset, nbytes) of each inner chunk of a shard, its CRC-32C checked."""
    import google_crc32c
    index = data[-(16 * count + 4):]
    body, crc = index[:-4], struct.unpack("<I", index[-4:])[0]
    assert google_crc32c.value(body) == crc
    return [struct.unpack_from("<QQ", body, 16 * i) for i in range(count)]


def _inner_keys(shard_coords, per_shard, chunk_grid):
    """The v2 keys of a shard's inner chunks in shard order (None outside the grid)."""
    import itertools
    out = []
    for local in itertools.product(*(range(p) for p in per_shard)):
        coords = [s * p + l for s, p, l in zip(shard_coords, per_shard, local)]
        ok = all(c < g for c, g in zip(coords, chunk_grid))
        out.append(".".join(map(str, coords)) if ok else None)
    return out


def _assert_all_fill(v2_array, key, fill):
    """Every value of chunk `key` of the v2 array is the v3 fill value."""
    import numpy as np
    import zarr
    block = zarr.open_array(v2_array, mode="r", zarr_format=2).blocks[
        tuple(int(c) for c in key.split("."))]
    want = float("nan") if fill == "NaN" else fill
    assert np.array_equal(block, np.full_like(block, want), equal_nan=block.dtype.kind == "f"), key


@pytest.mark.parametrize("store", ["tas_day.zarr", "sparse.zarr", "contiguous.zarr",
                                   "netcdf3_classic.zarr", "nc4_codecs.zarr"])
def test_shards_are_the_chunks_bytes_then_their_index(fixtures_mount, store, tmp_path):
    """A shard is its inner chunks' bytes, the same as the v2 mount's chunk files (the source's
    stored chunks), concatenated in shard order, then the index; missing chunks are 2^64-1."""
    import math
    with mounted(FIXTURES, "--contiguous-chunk-size", "20000", "--zarr-format", "3",
                 "--shard-size", "40000") as mnt:
        meta = json.loads((mnt / store / "zarr.json").read_text())["consolidated_metadata"]
        v2 = json.loads((fixtures_mount / store / ".zmetadata").read_text())["metadata"]
        sharded = 0
        for path, node in meta["metadata"].items():
            if node["node_type"] != "array":
                continue
            codec = node["codecs"][0]
            if codec["name"] != "sharding_indexed" or not node["shape"]:
                continue
            inner = codec["configuration"]["chunk_shape"]
            shard = node["chunk_grid"]["configuration"]["chunk_shape"]
            per = [s // i for s, i in zip(shard, inner)]
            grid = [math.ceil(n / i) for n, i in zip(node["shape"], inner)]
            assert inner == v2[f"{path}/.zarray"]["chunks"]
            for f in (mnt / store / path / "c").rglob("*"):
                if not f.is_file():
                    continue
                coords = [int(c) for c in f.relative_to(mnt / store / path / "c").parts]
                data = f.read_bytes()
                keys = _inner_keys(coords, per, grid)
                entries = _shard_index(data, len(keys))
                at = 0
                for key, (offset, nbytes) in zip(keys, entries):
                    v2_file = fixtures_mount / store / path / key if key else None
                    if (offset, nbytes) == (2**64 - 1, 2**64 - 1) and v2_file and v2_file.exists():
                        # a chunk v2 generates as the fill (its fill_value cannot say it):
                        # v3's fill_value does, so no chunk
                        _assert_all_fill(fixtures_mount / store / path, key, node["fill_value"])
                        continue
                    if v2_file is None or not v2_file.exists():
                        assert (offset, nbytes) == (2**64 - 1, 2**64 - 1), (f, key)
                        continue
                    assert offset == at
                    assert data[offset:offset + nbytes] == v2_file.read_bytes(), (f, key)
                    at += nbytes
                assert at + 16 * len(keys) + 4 == len(data)
                sharded += per != [1] * len(per)
        assert sharded, "no shard of several chunks"


def test_rsync_copy_of_a_v3_mount_reads_identically(tmp_path):
    """rsync -a of a sharded v3 mount is a v3 store xarray reads as the file; a second sync
    moves nothing."""
    import subprocess
    with mounted(FIXTURES, "--zarr-format", "3", "--shard-size", "40000") as mnt:
        dest = tmp_path / "copy"
        subprocess.run(["rsync", "-a", f"{mnt}/", f"{dest}/"], check=True)
        for name in ["tas_day.nc", "groups.nc", "sparse.nc", "strings_enum.nc", "contiguous.nc"]:
            src = FIXTURES / name
            for group in group_paths(src):
                compare(src, dest / store_name(name), group, zarr_format=3)
        out = subprocess.run(["rsync", "-a", "--stats", f"{mnt}/", f"{dest}/"],
                             check=True, capture_output=True, text=True).stdout
        moved = [l for l in out.splitlines() if l.startswith("Number of regular files transferred")]
        assert moved and moved[0].split(":")[1].strip() == "0", out


@pytest.fixture(scope="module", params=["sharded-raw", "sharded-decoded", "unsharded-raw"])
def corpus_v3_mount(request):
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    shard, mode = LAYOUTS[request.param]
    with mounted(CORPUS, "--zarr-format", "3", "--shard-size", shard, *MODES[mode]) as mnt:
        yield request.param, mnt


@pytest.mark.parametrize("name", sorted(CORPUS_LEFT_OUT))
def test_corpus_identical_v3(corpus_v3_mount, name):
    """Every corpus file as a v3 store (decode_cf on), in every layout."""
    layout, mnt = corpus_v3_mount
    src = CORPUS / name
    groups = group_paths(src)
    opened = (opened_once(src, corpus_store(mnt, name), zarr_format=3) if len(groups) > 1
              else (None, None))
    for group in groups:
        missing = CORPUS_LEFT_OUT[name].get(group, [])
        compared = compare(src, corpus_store(mnt, name), group, missing, zarr_format=3,
                           open_source=opened[0], open_store=opened[1])
        assert not set(missing) & set(compared)


@pytest.mark.parametrize("layout", ["sharded-raw", "small-shards-raw", "sharded-decoded"])
def test_collections_in_v3_are_open_mfdataset(tmp_path, layout):
    """Files joined along time (scripts/make_collections.py, every joined case) read from a
    v3 mount as their open_mfdataset: pass-through and joined (generated) chunks in shards."""
    import sys
    from collection_expect import compare as compare_set, expected
    from conftest import ROOT
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_collections as mc
    shard, mode = LAYOUTS[layout]
    for case in mc.JOINED:
        made = mc.CASES[case](tmp_path / case)
        with mounted(tmp_path / case, "--zarr-format", "3", "--shard-size", shard,
                     *MODES[mode]) as mnt:
            for stem, files in made.items():
                compare_set(mnt / f"{stem}.zarr", files, expected_ds=expected(files),
                            zarr_format=3)


def test_stac_item_of_a_v3_store_says_its_version(tmp_path):
    """The item's data asset: the v3 media type, zarr:zarr_format 3, and open kwargs with
    which xarray reads the store as the file; `cloudify stac --zarr-format 3` writes the same
    asset offline."""
    import subprocess
    import xarray as xr
    from conftest import CLOUDIFY
    with mounted(FIXTURES, "--zarr-format", "3") as mnt:
        item = json.loads((mnt / "tas_day.stac.json").read_text())
        data = item["assets"]["data"]
        assert data["type"] == "application/vnd+zarr; version=3"
        assert data["zarr:zarr_format"] == 3
        kwargs = data["xarray:open_kwargs"]
        assert kwargs["zarr_format"] == 3
        ds = xr.open_dataset(mnt / data["href"], **kwargs)
        xr.testing.assert_identical(ds.load(), xr.open_dataset(FIXTURES / "tas_day.nc").load())
    out = subprocess.run([str(CLOUDIFY), "stac", "--zarr-format", "3", str(FIXTURES / "tas_day.nc")],
                         check=True, capture_output=True, text=True).stdout
    assert json.loads(out)["assets"]["data"] == data
    with mounted(FIXTURES) as mnt:
        v2 = json.loads((mnt / "tas_day.stac.json").read_text())["assets"]["data"]
        assert v2["type"] == "application/vnd+zarr" and "zarr:zarr_format" not in v2


def test_mount_options_and_bad_values(tmp_path):
    """-o zarr_format=3,shard_size=0 as fstab gives them: an unsharded v3 store; a format
    other than 2 or 3, and --shard-size without v3, are refused with a clear error."""
    import subprocess
    from conftest import BIN
    with mounted(FIXTURES, "-o", "zarr_format=3,shard_size=0") as mnt:
        doc = json.loads((mnt / "tas_day.zarr" / "tas" / "zarr.json").read_text())
        assert doc["zarr_format"] == 3 and doc["codecs"][0]["name"] == "bytes"
        assert (mnt / "tas_day.zarr" / "tas" / "c" / "0" / "0" / "0").is_file()
        assert not (mnt / "tas_day.zarr" / ".zmetadata").exists()
    r = subprocess.run([str(BIN), str(FIXTURES), str(tmp_path), "--zarr-format", "4"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "zarr-format" in r.stderr
    # shards are a v3 thing: asked for on a v2 mount, refused rather than ignored
    r = subprocess.run([str(BIN), str(FIXTURES), str(tmp_path), "--shard-size", "1000"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "--shard-size needs --zarr-format 3" in r.stderr


def test_a_source_modified_while_mounted_is_read_anew_in_v3(tmp_path):
    """inotify invalidation reaches the nested key directories and shards of a v3 store:
    a source rewritten in place (60 s attribute timeout) is read anew, shard included."""
    import shutil
    import netCDF4
    import numpy as np
    import xarray as xr
    from conftest import WATCH, poll
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(FIXTURES / "tas_day.nc", archive / "tas_day.nc")
    with mounted(archive, "--attr-timeout", "60", "--zarr-format", "3") as mnt:
        shard = mnt / "tas_day.zarr" / "tas" / "c" / "0" / "0" / "0"
        old = shard.read_bytes()  # in the kernel's page cache now
        before = xr.open_zarr(mnt / "tas_day.zarr", zarr_format=3).load()
        with netCDF4.Dataset(archive / "tas_day.nc", "r+") as ds:
            ds["tas"][:] = ds["tas"][:] + 1.5
        assert poll(lambda: shard.read_bytes() != old, WATCH)
        after = xr.open_zarr(mnt / "tas_day.zarr", zarr_format=3).load()
        expected = xr.open_dataset(archive / "tas_day.nc", engine="netcdf4").load()
        xr.testing.assert_identical(after, expected)
        assert not np.array_equal(after.tas.values, before.tas.values)


def test_a_collection_member_modified_while_mounted_is_read_anew_in_v3(tmp_path):
    """A member of a joined v3 store replaced by a new version: the shards read the new values (the
    join made again), equal to the members' new open_mfdataset."""
    import sys
    import netCDF4
    from collection_expect import compare as compare_set, expected
    from conftest import ROOT, WATCH, poll
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_collections as mc
    case = mc.JOINED[0]
    made = mc.CASES[case](tmp_path / case)
    stem, files = next(iter(made.items()))
    with mounted(tmp_path / case, "--attr-timeout", "60", "--zarr-format", "3") as mnt:
        store = mnt / f"{stem}.zarr"
        compare_set(store, files, expected_ds=expected(files), zarr_format=3)
        shards = sorted(p for p in store.rglob("*") if "c" in p.relative_to(store).parts
                        and p.is_file())
        before = {p: p.read_bytes() for p in shards}
        # a new version of the last member, renamed over it (xarray keeps the old one open)
        import os
        import shutil
        new = tmp_path / "new.nc"
        shutil.copy(files[-1], new)
        with netCDF4.Dataset(new, "r+") as ds:
            # a variable along time (one without it must be equal in every member)
            name = next(v for v in ds.variables if ds[v].dimensions[:1] == ("time",) and
                        ds[v].dtype.kind == "f" and ds[v].ndim >= 2)
            ds[name][:] = ds[name][:] + 1.5
        os.replace(new, files[-1])
        assert poll(lambda: any(p.read_bytes() != b for p, b in before.items() if p.exists()),
                    WATCH)
        compare_set(store, files, expected_ds=expected(files), zarr_format=3)
