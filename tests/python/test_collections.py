"""Issue 17, first capability: automatic grouping by file name. In one archive directory, data
files named `<stem>_<start>[-<end>].<ext>` (start/end of 4-14 digits), same stem and extension,
at least two, form the store `<stem>.zarr` (and the item `<stem>.stac.json`, listed in the
directory's catalog.json) beside the members' own stores, joined along the time dimension in
the order of the time values. xarray is the test: the store must read exactly as the members'
open_mfdataset(combine="nested", concat_dim="time", data_vars="minimal", coords="minimal",
compat="override", join="exact") - raw and decoded chunk modes, zarr 3 and zarr-python 2.18 -
and as the original file where the members were cut out of one file (NCO's ncks). Sets the
members of which overlap, are unsorted or mix calendars are refused (EIO, a log line naming the
files). The sets come from scripts/make_collections.py; collection_expect.py says what "the
same" means (attributes that differ between members are dropped and listed in
`cloudify_dropped_attributes`)."""
import errno
import json
import re
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from collection_expect import (DROPPED, check_dtypes, compare, differing_global_attributes,
                               expected, groups)
from conftest import BIN, CLOUDIFY, CORPUS, MODES, PY2, ROOT, WATCH, mounted, poll
from identity import compare as compare_file

sys.path.insert(0, str(ROOT / "scripts"))
import make_collections as mc  # noqa: E402


def store_of(path):
    """A member's own store: `x.nc` -> `x.zarr`."""
    return Path(path).name.rsplit(".", 1)[0] + ".zarr"


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """Every joined set, each in its own directory of one module-wide archive."""
    root = tmp_path_factory.mktemp("collections")
    return root, {case: mc.CASES[case](root / case) for case in mc.JOINED}


_expected = {}


def expectation(case, stem, files):
    """open_mfdataset of a set, made once for both modes."""
    if (case, stem) not in _expected:
        _expected[case, stem] = expected(files)
    return _expected[case, stem]


# --- the generator ---------------------------------------------------------------------------

def test_generator_is_seeded_and_small(tmp_path):
    # (no timing asserted: the machine may be busy; the sets take well under a second here)
    for run in ("a", "b"):
        for case, make in mc.CASES.items():
            made = make(tmp_path / run / case)
            assert made and all(len(files) >= 2 for files in made.values()), case
    for f in sorted((tmp_path / "a").rglob("*.nc")):
        assert f.stat().st_size < 1_000_000, f
        assert f.read_bytes() == (tmp_path / "b" / f.relative_to(tmp_path / "a")).read_bytes(), f


# --- the joined sets -------------------------------------------------------------------------

@pytest.mark.parametrize("case", mc.JOINED)
def test_listing_shows_the_aggregates_beside_the_members(sets, case):
    root, made = sets
    directory = root / case
    # the rule as the tests read it agrees with what the generator meant
    assert {s: [Path(f) for f in files] for s, files in groups(directory).items()} == \
        {s: sorted(Path(f) for f in files) for s, files in made[case].items()}
    with mounted(directory) as mnt:
        names = set(os.listdir(mnt))
        per_file = {store_of(p) for p in directory.iterdir() if p.is_file()}
        joined = {f"{s}.zarr" for s in made[case]}
        # every member keeps its own store; one store per group; nothing else (one_var_per_file:
        # no `tasmin_...gn.zarr` for a single member, no `run.zarr` for 3-digit tokens)
        assert {n for n in names if n.endswith(".zarr")} == per_file | joined
        for s in made[case]:
            assert f"{s}.stac.json" in names
            assert (mnt / f"{s}.zarr").is_dir()
            assert {".zgroup", ".zattrs", ".zmetadata"} <= set(os.listdir(mnt / f"{s}.zarr"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", mc.JOINED)
def test_aggregate_is_open_mfdataset(sets, case, mode):
    """Values, dtypes, attributes of the decoded dataset; `cloudify_dropped_attributes` names
    exactly the global attributes that differ between members; time in the first member's
    units and calendar (units_per_file: re-expressed; swapped: time order, not name order;
    gregorian_leap, cal_julian, compression, packing: generated chunks)."""
    root, made = sets
    with mounted(root / case, *MODES[mode]) as mnt:
        for stem, files in made[case].items():
            compare(mnt / f"{stem}.zarr", files, expected_ds=expectation(case, stem, files))


@pytest.mark.parametrize("mode", MODES)
def test_zarr2_reads_the_aggregates(sets, mode):
    """The same identity with zarr-python 2.18 (and its xarray), one run over every set."""
    root, made = sets
    with mounted(root, *MODES[mode]) as mnt:
        r = subprocess.run([str(PY2), str(ROOT / "tests/python/zarr2_collections.py"), str(mnt),
                            str(root), *mc.JOINED],
                           capture_output=True, text=True, timeout=300)
    sys.stdout.write(r.stdout)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert r.stdout.count("identical with zarr 2.") == sum(len(m) for m in made.values())


def test_passthrough_chunks_are_the_members_bytes(sets):
    """noleap_passthrough, raw mode: tas (time chunk 1) and tasmax (time chunk 365, larger than
    the last member) have every member but the last a whole number of chunks long, and the
    same dtype, codecs, chunks and fill: the aggregate's .zarray declares the members' grid
    and codecs, and its chunk files are the members' chunk files, byte for byte."""
    root, made = sets
    (stem, files), = made["noleap_passthrough"].items()
    with mounted(root / "noleap_passthrough") as mnt:
        agg = mnt / f"{stem}.zarr"
        for var in ("tas", "tasmax"):
            za = json.loads((agg / var / ".zarray").read_bytes())
            sep_a = za.get("dimension_separator", ".")
            offset = 0
            for f in files:  # time order
                own = mnt / store_of(f) / var
                zm = json.loads((own / ".zarray").read_bytes())
                sep_m = zm.get("dimension_separator", ".")
                n = zm["shape"][0]
                if n < za["chunks"][0]:
                    # a member shorter than one chunk, alone, is served its own extent as the
                    # chunk (decoded: netCDF-C's NCZarr refuses a chunk larger than the array);
                    # in the aggregate its stored chunk passes through
                    assert zm["chunks"][0] == n and zm["compressor"] is None, (var, zm)
                    offset += n
                    continue
                for key in ("chunks", "dtype", "compressor", "filters", "fill_value", "order"):
                    assert za.get(key) == zm.get(key), (var, key, za.get(key), zm.get(key))
                step = zm["chunks"][0]
                assert offset % step == 0
                count = math.ceil(n / step)
                for k in sorted({0, count // 2, count - 1}):
                    mine = own / sep_m.join([str(k), "0", "0"])
                    theirs = agg / var / sep_a.join([str(offset // step + k), "0", "0"])
                    assert theirs.read_bytes() == mine.read_bytes(), (var, f.name, k)
                offset += n
            assert za["shape"] == [offset, mc.NLAT, mc.NLON]


@pytest.mark.parametrize("case", ["noleap_passthrough", "one_var_per_file"])
def test_stac_item_of_the_aggregate(sets, case):
    """The directory's catalog links the aggregate's item beside the members' items; the item
    spans the first member's start to the last member's end and has every member's variables;
    its data asset is the aggregate's store."""
    root, made = sets
    with mounted(root / case) as mnt:
        catalog = json.loads((mnt / "catalog.json").read_bytes())
        items = {link["href"] for link in catalog["links"] if link["rel"] == "item"}
        for stem, files in made[case].items():
            assert f"./{stem}.stac.json" in items
            members = []
            for f in files:
                own = store_of(f)[:-len(".zarr")] + ".stac.json"
                assert f"./{own}" in items
                members.append(json.loads((mnt / own).read_bytes())["properties"])
            item = json.loads((mnt / f"{stem}.stac.json").read_bytes())
            props = item["properties"]
            assert props["start_datetime"] == members[0]["start_datetime"]
            assert props["end_datetime"] == members[-1]["end_datetime"]
            assert props["cube:dimensions"]["time"]["extent"] == [
                members[0]["cube:dimensions"]["time"]["extent"][0],
                members[-1]["cube:dimensions"]["time"]["extent"][1]]
            assert set(props["cube:variables"]) == \
                set().union(*(m["cube:variables"] for m in members))
            assert props.get("cf:calendar") == members[0].get("cf:calendar")
            assert item["assets"]["data"]["href"] == f"./{stem}.zarr"


# --- refused sets ----------------------------------------------------------------------------

@pytest.mark.parametrize("case", mc.REFUSED_CASES)
def test_refused_sets_fail_with_eio_and_say_why(tmp_path, case):
    """overlap, duplicate (the second member starts at the first's last time), unsorted (inside
    a member), mixed_calendar: the name makes a group, the content refuses it. Reading the
    aggregate fails with EIO (every time), the members' own stores still read as their files,
    and the daemon's log names the files concerned."""
    directory = tmp_path / case
    (stem, files), = mc.CASES[case](directory).items()
    named = mc.REFUSED[case][stem]
    with mounted(directory) as mnt:
        log = Path(str(mnt) + ".log")
        for _ in range(2):
            with pytest.raises(OSError) as e:
                (mnt / f"{stem}.zarr" / ".zmetadata").read_bytes()
            assert e.value.errno == errno.EIO, f"expected EIO, got {e.value!r}"
        for f in files:
            compare_file(f, mnt / store_of(f), "/")
        def names_them():
            text = log.read_text() if log.exists() else ""
            return all(Path(f).name in text for f in named)
        assert poll(names_them, WATCH), \
            f"the log does not name {[Path(f).name for f in named]}:\n" + log.read_text()[-3000:]


# --- a new member while mounted --------------------------------------------------------------

def zmetadata_time_length(store):
    meta = json.loads((store / ".zmetadata").read_bytes())["metadata"]
    return meta["time/.zarray"]["shape"][0]


def arrive(src, directory):
    """A member written the way a model or a copy does it: a temporary name, then a rename."""
    part = directory / (src.name + ".part")
    shutil.copy(src, part)
    os.rename(part, directory / src.name)
    return directory / src.name


def test_new_member_extends_the_aggregate(tmp_path):
    stage = tmp_path / "stage"
    (stem, files), = mc.make_noleap_passthrough(stage).items()
    archive = tmp_path / "archive"
    archive.mkdir()
    present = [Path(shutil.copy2(f, archive / f.name)) for f in files[:2]]
    with mounted(archive, "--attr-timeout", "60") as mnt:
        store = mnt / f"{stem}.zarr"
        zmeta = store / ".zmetadata"
        assert zmetadata_time_length(store) == 730
        compare(store, present)
        present.append(arrive(files[2], archive))
        assert poll(lambda: zmetadata_time_length(store) == 730 + 181, WATCH), \
            "the aggregate did not grow"
        # the size may stay (730 and 911 are both three digits): what the kernel reports must
        # be what is read
        assert zmeta.stat().st_size == len(zmeta.read_bytes())
        compare(store, present)


def test_removed_and_replaced_members_change_the_aggregate(tmp_path):
    """A member deleted shrinks the store; a member replaced (rename over it) by another
    version is what the store serves next, chunk files included (60 s attribute timeouts:
    only the watcher's invalidations and the per-request identity checks make it fresh)."""
    stage = tmp_path / "stage"
    (stem, files), = mc.make_noleap_passthrough(stage).items()
    archive = tmp_path / "archive"
    archive.mkdir()
    present = [Path(shutil.copy2(f, archive / f.name)) for f in files]
    with mounted(archive, "--attr-timeout", "60") as mnt:
        store = mnt / f"{stem}.zarr"
        compare(store, present)
        chunk = store / "tas" / "0.0.0"
        before = chunk.read_bytes()
        os.unlink(present.pop())
        assert poll(lambda: zmetadata_time_length(store) == 730, WATCH), "did not shrink"
        compare(store, present)
        # the first member replaced by a copy with other values (same times)
        with netCDF4.Dataset(stage / files[0].name) as src:
            tas = src["tas"][:]
        other = tmp_path / "other.nc"
        shutil.copy(files[0], other)
        with netCDF4.Dataset(other, "a") as dst:
            dst["tas"][:] = tas + 1.0
        os.rename(other, present[0])
        assert poll(lambda: chunk.read_bytes() != before, WATCH), "old chunk bytes served"
        compare(store, present)


def test_members_hidden_on_request(tmp_path):
    """--members hide: the members' own stores and items are not listed; the aggregate is."""
    (stem, files), = mc.make_noleap_passthrough(tmp_path / "set").items()
    with mounted(tmp_path / "set", "--members", "hide") as mnt:
        names = sorted(os.listdir(mnt))
        assert names == sorted(["catalog.json", f"{stem}.zarr", f"{stem}.stac.json"]), names
        compare(mnt / f"{stem}.zarr", files)


def test_a_bad_member_fails_the_collection_or_is_skipped(tmp_path):
    """A member that cannot be read: EIO and a log line naming it; with --skip-bad-members the
    collection of the others, the gap visible in its time coordinate."""
    (stem, files), = mc.make_noleap_passthrough(tmp_path / "set").items()
    bad = files[1]
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 16)
    with mounted(tmp_path / "set") as mnt:
        with pytest.raises(OSError) as e:
            (mnt / f"{stem}.zarr" / ".zmetadata").read_bytes()
        assert e.value.errno == errno.EIO
        log = Path(str(mnt) + ".log")
        assert poll(lambda: bad.name in log.read_text(), WATCH), log.read_text()[-2000:]
    with mounted(tmp_path / "set", "--skip-bad-members") as mnt:
        good = [files[0], files[2]]
        ds = compare(mnt / f"{stem}.zarr", good)
        assert ds.sizes["time"] == 365 + 181


def write_members(arch, stem, n):
    """`n` yearly members of collection `stem` in `arch`, two time steps each."""
    files = []
    for i in range(n):
        f = arch / f"{stem}_{1700 + i}.nc"
        with netCDF4.Dataset(f, "w") as ds:
            ds.createDimension("time", None)
            ds.createDimension("x", 3)
            t = ds.createVariable("time", "f8", ("time",))
            t.units, t.calendar = "days since 1700-01-01", "noleap"
            t[:] = np.arange(2) + 365 * i
            v = ds.createVariable("tas", "f4", ("time", "x"), zlib=True)
            v[:] = np.full((2, 3), i, "f4")
        files.append(f)
    return files


def daemon_pid(mnt):
    return subprocess.run(["pgrep", "-f", f"cloudify-mount .* {mnt} "], capture_output=True,
                          text=True).stdout.split()[0]


def test_a_collection_of_more_members_than_the_soft_open_files_limit(tmp_path):
    """300 members must not need a soft open-files limit above systemd's default. Started
    with a soft limit of 128 (the hard one left as it is), the daemon raises it to the hard
    limit and serves the collection (before: EIO, 'Too many open files')."""
    import resource
    arch = tmp_path / "set"
    arch.mkdir()
    files = write_members(arch, "tas_day_M_r1", 300)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 1024:
        pytest.skip(f"hard open-files limit {hard}: too low to hold 300 members")
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
    try:
        ctx = mounted(arch, "--members", "hide")
        mnt = ctx.__enter__()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        ds = compare(mnt / "tas_day_M_r1.zarr", files)
        assert ds.sizes["time"] == 600
        limits = Path(f"/proc/{daemon_pid(mnt)}/limits").read_text()
        line = next(x for x in limits.splitlines() if x.startswith("Max open files"))
        assert line.split()[3:5] == [str(hard), str(hard)], line
    finally:
        ctx.__exit__(None, None, None)


def test_a_collection_of_more_members_than_the_hard_open_files_limit(tmp_path):
    """300 members under a hard open-files limit of 200: the join opens each member when it
    reads it, among the bounded open files, so the collection is joined and reads as
    open_mfdataset (before: the join opened every member at once and failed with EIO)."""
    arch = tmp_path / "set"
    arch.mkdir()
    files = write_members(arch, "tas_day_M_r1", 300)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["prlimit", "--nofile=200:200", str(BIN), str(arch), str(mnt),
                        "--log-file", str(tmp_path / "daemon.log"), "--members", "hide",
                        "--index-dir", "none"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    try:
        ds = compare(mnt / "tas_day_M_r1.zarr", files)
        assert ds.sizes["time"] == 600
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)], check=False)


def test_collections_with_more_members_than_the_hard_open_files_limit(tmp_path):
    """Four collections of 100 members under a hard open-files limit of 300: the daemon keeps
    a bounded number of source files open (a quarter of the limit), so every collection reads
    as open_mfdataset, each read again after the others, with fewer descriptors open than
    members (before: each cached collection held all its members open, and the third failed
    with EIO, 'Too many open files')."""
    arch = tmp_path / "sets"
    arch.mkdir()
    sets = {stem: write_members(arch, stem, 100) for stem in ("tas_a", "tas_b", "tas_c", "tas_d")}
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    log = tmp_path / "daemon.log"
    r = subprocess.run(["prlimit", "--nofile=300:300", str(BIN), str(arch), str(mnt),
                        "--log-file", str(log), "--members", "hide", "--index-dir", "none"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    try:
        for _ in range(2):
            for stem, files in sets.items():
                compare(mnt / f"{stem}.zarr", files)
        fds = len(os.listdir(f"/proc/{daemon_pid(mnt)}/fd"))
        assert fds < 150, f"{fds} descriptors open"
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)], check=False)


def test_second_member_makes_the_aggregate_appear(tmp_path):
    stage = tmp_path / "stage"
    (stem, files), = mc.make_gap(stage).items()
    archive = tmp_path / "archive"
    archive.mkdir()
    first = Path(shutil.copy2(files[0], archive / files[0].name))
    with mounted(archive, "--attr-timeout", "60") as mnt:
        store = mnt / f"{stem}.zarr"
        assert not store.exists()  # one member: no aggregate (and a negative entry cached)
        second = arrive(files[1], archive)
        assert poll(store.exists, WATCH), "no aggregate after the second member arrived"
        assert poll(lambda: f"{stem}.zarr" in os.listdir(mnt), WATCH)
        compare(store, [first, second])


# --- a real file cut with NCO ----------------------------------------------------------------

# corpus file, time dimension, stem of the pieces, ncks -d ranges (inclusive)
NCKS_CUTS = {
    "wrf": ("wrf-python__ci_test_file.nc", "Time", "wrfout_d01", [(0, 1), (2, 2), (3, 3)]),
    "merra2": ("harmony-opendap-subsetter__M2T1NXSLV_temporal.nc4", "time", "M2T1NXSLV_slv",
               [(0, 0), (1, 1)]),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("which", NCKS_CUTS)
def test_ncks_pieces_join_to_the_original(tmp_path, which, mode):
    """A corpus file cut along time into pieces with `ncks -d <time>,a,b` (WRF: `Time`, 4 steps,
    its time coordinate the auxiliary XTIME in `minutes since`; MERRA-2: `time`, 2 steps) and
    named by the rule (`<stem>_<YYYYMMDDhhmm>-<YYYYMMDDhhmm>.<ext>`): the aggregate of the
    pieces reads as the original file."""
    if shutil.which("ncks") is None:
        pytest.skip("ncks not installed (Debian package nco; scripts/setup installs it)")
    name, dim, stem, cuts = NCKS_CUTS[which]
    original_path = CORPUS / name
    if not original_path.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    original = xr.open_dataset(original_path).load()
    labels = [np.datetime_as_string(t, unit="m").replace("-", "").replace("T", "").replace(":", "")
              for t in original[[v for v in original.coords
                                 if original[v].dims == (dim,)
                                 and np.issubdtype(original[v].dtype, np.datetime64)][0]].values]
    pieces_dir = tmp_path / "pieces"
    pieces_dir.mkdir()
    pieces = []
    ext = original_path.suffix
    for a, b in cuts:
        out = pieces_dir / f"{stem}_{labels[a]}-{labels[b]}{ext}"
        subprocess.run(["ncks", "-O", "-d", f"{dim},{a},{b}", str(original_path), str(out)],
                       check=True, capture_output=True, timeout=60)
        pieces.append(out)
    assert list(groups(pieces_dir)) == [stem]
    # ncks writes two global attributes into every piece: its command line, into `history`
    # (WRF, which has none: a new one) or into the existing `History` (MERRA-2 has `History`
    # and `history`; NCO extends the former) - different in every piece, so the aggregate drops
    # it and lists it in cloudify_dropped_attributes (asserted) - and `NCO`, its version, equal
    # in every piece and so kept in the aggregate although the original has none. We remove
    # both from both sides (the original's History too, which the pieces no longer agree on)
    # and compare everything else.
    differing = differing_global_attributes(pieces)
    assert differing <= {"history", "History"} and differing, differing
    ignore = differing | {"NCO"}
    # precondition: the cut itself is exact (open_mfdataset of the pieces is the original)
    cut = expected(pieces, dim)
    for ds in (cut, original):
        for n in ignore:
            ds.attrs.pop(n, None)
    xr.testing.assert_identical(cut, original)
    with mounted(pieces_dir, *MODES[mode]) as mnt:
        actual = xr.open_zarr(mnt / f"{stem}.zarr", chunks=None).load()
        dropped = actual.attrs.pop(DROPPED, None)
        assert isinstance(dropped, list) and sorted(dropped) == sorted(differing), dropped
        for n in ignore:
            actual.attrs.pop(n, None)
        check_dtypes(actual, original)
        xr.testing.assert_identical(actual, original)


# --- cloudify inspect of a directory -----------------------------------------------------------


def inspect(*paths):
    r = subprocess.run([str(CLOUDIFY), "inspect", *map(str, paths)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_inspect_says_how_a_directory_is_joined_and_why_not(tmp_path):
    (stem, files), = mc.make_gap(tmp_path / "gap").items()
    out = inspect(tmp_path / "gap")
    assert f"collection {stem}.zarr: 2 files" in out, out
    assert f"gap between {files[0].name} and {files[1].name}" in out, out
    assert re.search(r"\n  tas +\[731, 4, 8\] the members' chunks, passed through\n", out), out
    assert "time: 1850-01-01 to 1852-12-31" in out, out
    assert "attributes dropped" in out and "history" in out, out
    # several files given: joined as one; refused sets say why
    made = mc.make_overlap(tmp_path / "overlap")
    (_, overlapping), = made.items()
    out = inspect(*overlapping)
    assert "not joined: times overlap" in out, out
    # a lone file with a time-range token
    mc.make_one_var_per_file(tmp_path / "one")
    out = inspect(tmp_path / "one")
    assert "not joined:" in out and "the only file with this stem" in out, out


# --- declared collections (--collections FILE) -------------------------------------------------

def mfdataset(files):
    return xr.open_mfdataset(sorted(files), combine="nested", concat_dim="time",
                             data_vars="minimal", coords="minimal", compat="override",
                             join="exact").load()


def test_declared_union_of_variables_joined_along_time(tmp_path):
    """A declared collection elsewhere in the tree: one store of tas and pr (each joined along
    time), identical to their open_mfdatasets; its members are not grouped by the automatic
    rule; groups covering different times are refused with the reason; a new member found by
    its glob while mounted makes it whole."""
    archive = tmp_path / "archive"
    made = mc.make_one_var_per_file(tmp_path / "stage")
    tas = made["tas_day_MODEL_historical_r1i1p1f1_gn"]
    pr = made["pr_day_MODEL_historical_r1i1p1f1_gn"]
    src = archive / "model" / "src"
    src.mkdir(parents=True)
    for f in tas[:2] + pr:
        shutil.copy2(f, src / f.name)
    config = tmp_path / "collections.toml"
    config.write_text('[[collection]]\nname = "model/all.zarr"\n'
                      'members = ["model/src/tas_*.nc", "model/**/pr_*.nc"]\n'
                      'join = "time"\nunion = true\n')
    with mounted(archive, "--collections", str(config), "--attr-timeout", "60") as mnt:
        assert {"all.zarr", "all.stac.json", "src"} <= set(os.listdir(mnt / "model"))
        inside = os.listdir(mnt / "model" / "src")
        assert not any(f"{s}.zarr" in inside for s in made), inside
        store = mnt / "model" / "all.zarr"
        # tas covers 1850-1851 so far, pr 1850-1852
        with pytest.raises(OSError) as e:
            (store / ".zmetadata").read_bytes()
        assert e.value.errno == errno.EIO
        log = Path(str(mnt) + ".log")
        assert poll(lambda: "dimension time" in log.read_text(), WATCH), log.read_text()[-2000:]
        arrive(tas[2], src)

        def whole():
            try:
                return zmetadata_time_length(store) == 365 * 3
            except OSError:
                return False
        assert poll(whole, WATCH), "the new member did not make the union whole"
        ds = xr.open_zarr(store, chunks=None).load()
        t = mfdataset([src / f.name for f in tas])
        p = mfdataset([src / f.name for f in pr])
        xr.testing.assert_identical(ds.tas, t.tas)
        xr.testing.assert_identical(ds.pr, p.pr)
        xr.testing.assert_identical(ds.time, t.time)
        assert set(ds.data_vars) >= {"tas", "pr", "orog"}
        dropped = set(ds.attrs["cloudify_dropped_attributes"])
        assert {"history", "tracking_id", "creation_date"} <= dropped


def test_a_bad_collections_file_stops_the_mount(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[[collection]]\nname = "/abs.zarr"\nmembers = ["*.nc"]\nunion = true\n')
    with pytest.raises(RuntimeError, match="relative path ending in .zarr"):
        with mounted(tmp_path, "--collections", str(config)):
            pass
