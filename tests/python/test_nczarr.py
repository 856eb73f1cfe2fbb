"""netCDF-C as a client of the mount: NCZarr (`ncdump "file://<store>#mode=zarr,file"`), the way
CDO and Fortran models read Zarr.

For every fixture and corpus file, xarray's own `to_zarr` output of the file is the gate: where
Debian's ncdump reads that copy, it must read the mounted store too (in both chunk modes), and
the values it prints must be those it prints for the source file. The ncdump here (netCDF-C
4.9, no NCZarr codec plugins) decodes no compressor and no filter, and silently prints the
stored bytes instead, so values are compared where the store's array is uncompressed: every
array in decoded mode, the uncompressed ones in raw mode, except big-endian ones (this
ncdump's NCZarr reads them as little-endian, whoever wrote them).
"""
import json
import math
import re
import shutil
import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
import warnings

import netCDF4
import numpy as np
import pytest
import xarray as xr
import zarr

from conftest import CORPUS, FIXTURES, mounted
from test_stac import CORPUS_FILES, FIXTURE_FILES, stem_of

NCDUMP = shutil.which("ncdump")


def nczarr(store):
    return f"file://{store}#mode=zarr,file"


def ncdump(target, *args):
    return subprocess.run(["ncdump", *args, str(target)], capture_output=True, text=True,
                          timeout=600)


def data_section(text):
    """{variable path ("group/sub/name"): [value tokens]} of every `data:` section of ncdump's
    output, groups included."""
    out, groups, in_data, current, buf = {}, [], False, None, []
    for line in text.splitlines():
        stripped = line.strip()
        if current is None:
            m = re.match(r"group: (.+) \{$", stripped)
            if m:
                groups.append(m.group(1).replace("\\", ""))
                in_data = False
                continue
            if stripped.startswith("} // group "):
                groups.pop()
                in_data = False
                continue
            if stripped == "data:":
                in_data = True
                continue
            m = re.match(r"(\S+) =(.*)$", stripped) if in_data else None
            if not m:
                continue
            current, buf = "/".join(groups + [m.group(1).replace("\\", "")]), [m.group(2)]
        else:
            buf.append(stripped)
        if buf[-1].endswith(";"):
            body = " ".join(buf)[:-1]
            # (braces: ncdump nests the rows of a variable with several unlimited dimensions)
            out[current] = re.findall(r'"(?:[^"\\]|\\.)*"|[^\s,{}]+', body)
            current = None
    return out


def same_values(ours, theirs):
    """Token by token; `_` (a fill value, shown so where ncdump knows the variable's
    _FillValue, which NCZarr 4.9 does not take from the Zarr fill_value) matches anything."""
    return len(ours) == len(theirs) and all(
        a == b or "_" in (a, b) for a, b in zip(ours, theirs))


@pytest.fixture(scope="module")
def ncdump_has_nczarr(tmp_path_factory):
    if NCDUMP is None:
        pytest.skip("ncdump not installed (Debian netcdf-bin)")
    probe = tmp_path_factory.mktemp("probe") / "x.zarr"
    xr.Dataset({"x": ("t", [1.0, 2.0, 3.0])}).to_zarr(probe, zarr_format=2, consolidated=True)
    r = ncdump(nczarr(probe))
    if r.returncode != 0:
        pytest.skip(f"this ncdump does not read NCZarr: {r.stderr.strip()[:200]}")


@pytest.fixture(scope="module")
def decoded_mounts():
    mounts = {}
    with mounted(FIXTURES, "--chunks", "decoded", "--contiguous-chunk-size", "20000") as fx:
        mounts["fixtures"] = fx
        if CORPUS.is_dir():
            with mounted(CORPUS, "--chunks", "decoded") as co:
                mounts["corpus"] = co
                yield mounts
        else:
            yield mounts


def isolated(fn, *args):
    """`fn(*args)` in a fresh child process: netCDF4-python crashes on some valid files
    (float16 values), and that must cost one test, not the whole run. (False, reason) when the
    child dies or raises."""
    ctx = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            return True, pool.submit(fn, *args).result(timeout=600)
    except BrokenProcessPool:
        return False, "netCDF4-python crashed reading the file"
    except Exception as e:  # noqa: BLE001 - the child's failure is the reason
        return False, f"{type(e).__name__}: {str(e)[:120]}"


def group_paths(src):
    """Every group of a netCDF file, the root ("") first."""
    def walk(g, path):
        yield path
        for name, sub in g.groups.items():
            yield from walk(sub, f"{path}/{name}")
    with netCDF4.Dataset(src) as nc:
        return list(walk(nc, ""))


def plain(v):
    """An attribute value as JSON can hold it."""
    v = v.tolist() if hasattr(v, "tolist") else v
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


def groups_copy(src, dest):
    """Every group of `src` in one Zarr v2 store, as xarray writes a group (attributes,
    `_ARRAY_DIMENSIONS`, values as stored, default compressor), written with zarr-python
    directly: xarray's `to_zarr(group=…)` takes minutes for the 1,318 groups of a Sentinel-5P
    file. None, or the reason when it cannot be written."""
    try:
        root = zarr.open_group(str(dest), mode="w", zarr_format=2)
        with netCDF4.Dataset(src) as nc:
            def walk(g, z):
                nc.set_auto_maskandscale(False)
                z.attrs.update({k: plain(g.getncattr(k)) for k in g.ncattrs()})
                for name, var in g.variables.items():
                    data = np.asarray(var[...])
                    if data.dtype.kind not in "biuf":
                        continue  # strings, compounds, vlens: xarray would not write them alike
                    a = z.create_array(name, shape=data.shape, dtype=data.dtype,
                                       chunks=data.shape or None)
                    a[...] = data
                    attrs = {k: plain(var.getncattr(k)) for k in var.ncattrs()}
                    a.attrs.update({**attrs, "_ARRAY_DIMENSIONS": list(var.dimensions)})
                for name, sub in g.groups.items():
                    walk(sub, z.create_group(name))
            walk(nc, root)
        zarr.consolidate_metadata(str(dest))
    except Exception as e:  # noqa: BLE001 - any failure means there is no copy to compare with
        return f"{type(e).__name__}: {str(e)[:120]}"
    return None


XARRAY_COPY = """
import sys, warnings
import xarray as xr
src, dest = sys.argv[1], sys.argv[2]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    with xr.open_dataset(src, engine="netcdf4", decode_cf=False) as ds:
        for v in ds.variables.values():
            v.encoding = {}
        ds.to_zarr(dest, zarr_format=2, consolidated=True)
"""


def xarray_copy(src, dest):
    """xarray's own Zarr v2 store of `src`, as `open_dataset(...).to_zarr(...)` writes it
    (the root group; values as stored, xarray's default chunks and compressor); None, or the
    reason when xarray cannot write one. In a child process: netCDF4-python crashes on some
    valid files (float16 values), and that must cost this test, not the whole run."""
    r = subprocess.run([sys.executable, "-c", XARRAY_COPY, str(src), str(dest)],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or [f"killed by signal {-r.returncode}"])[-1]
        return f"rc {r.returncode}: {last[:120]}"
    return None


def check_store(request, tmp_path, which, rel):
    archive = FIXTURES if which == "fixtures" else CORPUS
    raw = request.getfixturevalue(f"{which}_mount")
    decoded = request.getfixturevalue("decoded_mounts")[which]
    store = stem_of(rel) + ".zarr"
    copy = tmp_path / "copy.zarr"
    why = xarray_copy(archive / rel, copy)
    if why:
        pytest.skip(f"xarray's to_zarr fails on this file: {why}")
    gate = ncdump(nczarr(copy))
    if gate.returncode != 0:
        pytest.skip(f"ncdump cannot read xarray's own to_zarr copy either "
                    f"(rc {gate.returncode}: {gate.stderr.strip()[:120]})")
    ours = ncdump(nczarr(raw / store))
    groups = [""]
    if ours.returncode != 0:
        ok, groups = isolated(group_paths, archive / rel)
        if not ok:
            pytest.skip(f"the groups of the source cannot be listed: {groups}")
    if len(groups) > 1:
        # xarray's to_zarr copies one group: ncdump must then read a copy of them all
        whole = tmp_path / "groups.zarr"
        ok, why = isolated(groups_copy, archive / rel, whole)
        why = why if ok else why or "failed"
        gate = ncdump(nczarr(whole)) if not why else None
        if why or gate.returncode != 0:
            pytest.skip(f"ncdump cannot read a plain Zarr copy of all {len(groups)} groups either "
                        f"({why or f'rc {gate.returncode}: {gate.stderr.strip()[:120]}'})")
    source = ncdump(archive / rel)
    expected = data_section(source.stdout) if source.returncode == 0 else None
    compared = 0
    for mnt in (raw, decoded):
        r = ncdump(nczarr(mnt / store))
        assert r.returncode == 0, f"{mnt / store}: rc {r.returncode}: {r.stderr.strip()[:300]}"
        if expected is None:
            continue  # netCDF-C cannot read the source itself (e.g. an LZF-filtered HDF5 file)
        meta = json.loads((mnt / store / ".zmetadata").read_text())["metadata"]
        ours = data_section(r.stdout)
        for name, values in ours.items():
            zarray = meta.get(f"{name}/.zarray")
            plain = zarray is not None and not zarray["compressor"] and not zarray["filters"]
            # netCDF-C 4.9's NCZarr reads a big-endian Zarr dtype as little-endian (a `>u2`
            # array [1, 2, 3] written by zarr-python prints as 256, 512, 768): read, not compared
            if plain and zarray["dtype"].startswith(">"):
                continue
            if plain and name in expected:
                assert same_values(values, expected[name]), (
                    f"{mnt / store}: {name}: {values[:8]} … against the source's "
                    f"{expected[name][:8]} …")
                compared += 1
        if expected is not None:
            compared += compare_compound_members(meta, ours, expected, mnt / store)
    if expected is not None:
        assert compared > 0, "no variable compared"


def compound_members(meta):
    """{compound variable path: [(member array path, values per element)]} of a store, members
    in their order (a compound variable `v` is served as arrays `v.m`)."""
    out = {}
    for key, attrs in meta.items():
        if not key.endswith("/.zattrs") or "cloudify_compound_of" not in attrs:
            continue
        path = key[: -len("/.zattrs")]
        parent_dir, _, name = path.rpartition("/")
        parent = f"{parent_dir}/{attrs['cloudify_compound_of']}".lstrip("/")
        shape = meta[f"{path}/.zarray"]["shape"]
        extra = [n for d, n in zip(attrs["_ARRAY_DIMENSIONS"], shape) if d.startswith(f"{name}_dim")]
        out.setdefault(parent, []).append((path, int(np.prod(extra, dtype=int))))
    return out


def compare_compound_members(meta, ours, expected, store):
    """NCZarr's values of each member array `v.m` against the source's compound `v` as ncdump
    prints it (each record's fields in turn); returns the number of arrays compared."""
    compared = 0
    for parent, members in compound_members(meta).items():
        if parent not in expected:
            continue  # netCDF-C does not list this compound in the source
        per = sum(n for _, n in members)
        records = [expected[parent][i:i + per] for i in range(0, len(expected[parent]), per)]
        offset = 0
        for path, n in members:
            want = [t for r in records for t in r[offset:offset + n]]
            offset += n
            zarray = meta[f"{path}/.zarray"]
            if path not in ours or zarray["dtype"].startswith(">"):
                continue
            assert same_values(ours[path], want), (
                f"{store}: {path}: {ours[path][:8]} … against the source's {want[:8]} …")
            compared += 1
    return compared


@pytest.mark.parametrize("rel", FIXTURE_FILES)
def test_ncdump_reads_fixture(request, tmp_path, ncdump_has_nczarr, rel):
    check_store(request, tmp_path, "fixtures", rel)


@pytest.mark.parametrize("rel", CORPUS_FILES)
def test_ncdump_reads_corpus(request, tmp_path, ncdump_has_nczarr, rel):
    check_store(request, tmp_path, "corpus", rel)
