"""--passthrough-cache: files of 1 MiB or more opened again after being read in full are copied
(the open that admits a copy is served by FUSE reads while a filler thread writes it) and then
served from the copy by FUSE passthrough (the kernel reads the copy, not the daemon). Real mounts,
real clients: what they read equals the source and a mount without the cache; a `cat` of a shard
read in full and copied sends the daemon no READ (one read in part before is served by FUSE
reads); a one-pass rsync copies nothing; a source changed
between opens is read anew; the copies stay within the budget; a file open for FUSE reads is
never answered passthrough (the kernel would fail the open); a full disk and concurrent
readers are served right; without the option nothing changes (no OPEN is sent)."""
import hashlib
import os
import subprocess
import sys
import time

import netCDF4
import numpy as np
import pytest
import xarray as xr

from conftest import ROOT, foreground, mounted, poll, summary_now, WATCH
from identity import compare

sys.path.insert(0, str(ROOT / "scripts"))
import fuse_requests  # noqa: E402

MIB = 1 << 20
FILL = 2 * WATCH  # seconds for the filler threads to write a copy (bounds a poll)
pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="passthrough registration needs CAP_SYS_ADMIN")


def write_source(path, offset=0.0):
    """Two variables of 2 MiB chunks (one raw, one deflated), small coordinates: chunk files
    above the copy threshold and below it."""
    rng = np.random.default_rng(7)
    with netCDF4.Dataset(path, "w") as ds:
        for dim, n in [("time", 32), ("y", 256), ("x", 256)]:
            ds.createDimension(dim, n)
            if dim != "time":
                ds.createVariable(dim, "f8", (dim,))[:] = np.arange(n) * 0.5
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01"
        t[:] = np.arange(32)
        v = ds.createVariable("v", "f4", ("time", "y", "x"), chunksizes=(8, 256, 256))
        v[:] = rng.standard_normal((32, 256, 256)).astype("f4") + offset
        w = ds.createVariable("w", "f4", ("time", "y", "x"), chunksizes=(8, 256, 256),
                              zlib=True, complevel=1)
        w[:] = rng.standard_normal((32, 256, 256)).astype("f4") - offset


@pytest.fixture
def archive(tmp_path):
    a = tmp_path / "archive"
    a.mkdir()
    write_source(a / "big.nc")
    return a


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def large_files(store):
    return sorted(p for p in store.rglob("*") if p.is_file() and p.stat().st_size >= MIB)


LAYOUTS = {
    "v2 raw": (),
    "v2 decoded": ("--chunks", "decoded"),
    "v3 sharded": ("--zarr-format", "3"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_read_thrice_equals_the_source_and_a_mount_without_the_cache(archive, tmp_path, layout):
    args = LAYOUTS[layout]
    zarr_format = 3 if "3" in args else None
    log = tmp_path / "daemon.log"
    src = archive / "big.nc"
    with foreground(archive, *args, "--passthrough-cache", "64M", "--log-file", str(log),
                    "--index-dir", "none") as (p, mnt), mounted(archive, *args) as plain:
        store = mnt / "big.zarr"
        for _ in range(2):  # read in full, then the copies admitted
            compare(src, store, "/", zarr_format=zarr_format)
        files = large_files(store)
        assert files, "chunk files above the threshold"
        assert poll(lambda: summary_now(p, log)["copies_made"] == len(files), FILL), \
            summary_now(p, log)
        compare(src, store, "/", zarr_format=zarr_format)  # from the copies
        s = summary_now(p, log)
        assert s["copies_made"] == len(files), s
        assert s["passthrough_opens"] >= len(files), s
        kw = {} if zarr_format is None else {"zarr_format": zarr_format}
        xr.testing.assert_identical(xr.open_zarr(store, **kw).load(),
                                    xr.open_zarr(plain / "big.zarr", **kw).load())
        for f in files:
            assert sha(f) == sha(plain / f.relative_to(mnt)), f


def shard(mnt):
    return mnt / "big.zarr" / "v" / "c" / "0" / "0" / "0"


def cat_requests(mnt, path):
    counts = fuse_requests.count(mnt, ["cat", str(path)])
    if counts is None:
        pytest.skip("cannot count FUSE requests (tracefs)")
    return counts


def read_tail(path):
    """One open that reads the shard's index only, as zarr does first."""
    with open(path, "rb") as f:
        f.seek(-64, os.SEEK_END)
        return f.read()


def passthrough_cat(mnt, path):
    """The FUSE requests of a `cat` of `path` once it is served from its copy (the copy is
    filled by a thread after the open that admitted it; the page cache is dropped before each
    try); the last try's if that does not happen within FILL seconds."""
    deadline = time.monotonic() + FILL
    while True:
        drop_page_cache()
        counts = cat_requests(mnt, path)
        if counts.get("READ", 0) == 0 or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def drop_page_cache():
    """The kernel's clean pages dropped: a file served by FUSE reads is read from the daemon
    again, one served by passthrough from its copy."""
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1\n")


@pytest.mark.skipif(os.geteuid() != 0, reason="drop_caches needs root (as FUSE mounts do here)")
@pytest.mark.parametrize("cache", [True, False])
def test_a_shard_read_in_full_is_read_again_without_a_read(archive, cache):
    args = ("--zarr-format", "3") + (("--passthrough-cache", "64M") if cache else ())
    with mounted(archive, *args) as mnt, mounted(archive, "--zarr-format", "3") as plain:
        read_tail(shard(mnt))  # zarr's first open: the index only, the tail's pages cached
        # read in part so far: this open is served by FUSE reads, not copied
        first = cat_requests(mnt, shard(mnt))
        assert first.get("READ", 0) > 0, first
        drop_page_cache()
        counts = cat_requests(mnt, shard(mnt))
        # read in full before: with the cache this open admits a copy, and is itself served
        # by FUSE reads (never kept waiting for the copy)
        assert counts.get("READ", 0) > 0, counts
        if cache:  # then passthrough
            counts = passthrough_cat(mnt, shard(mnt))
            assert counts.get("READ", 0) == 0, counts
            assert counts.get("OPEN") == 1, counts
        else:  # the control: the same cat through FUSE reads (and no open sent)
            assert counts.get("OPEN", 0) == 0, counts
        assert sha(shard(mnt)) == sha(shard(plain))


def test_a_source_changed_between_opens_is_read_anew(archive, tmp_path):
    log = tmp_path / "daemon.log"
    with foreground(archive, "--zarr-format", "3", "--passthrough-cache", "64M",
                    "--attr-timeout", "60", "--log-file", str(log),
                    "--index-dir", "none") as (p, mnt):
        path = shard(mnt)
        old = [path.read_bytes() for _ in range(2)][1]
        assert poll(lambda: summary_now(p, log)["copies_made"] == 1, FILL)
        held = open(path, "rb")  # open on the copy while the source changes
        try:
            write_source(archive / "big.nc", offset=3.0)
            # the watcher drops the copy from the cache; the open file keeps it
            assert poll(lambda: summary_now(p, log)["copies"] == 0, WATCH)
            assert held.read() == old, "a dropped copy still serves the file open on it"
        finally:
            held.close()
        assert poll(lambda: summary_now(p, log)["copy_bytes_held"] == 0, WATCH)
        new = xr.open_dataset(archive / "big.nc", engine="netcdf4").load()
        for _ in range(3):  # the new version read in full, its copy admitted, maybe used
            xr.testing.assert_identical(xr.open_zarr(mnt / "big.zarr", zarr_format=3).load(), new)
        assert path.read_bytes() != old
        assert poll(lambda: summary_now(p, log)["copies_made"] >= 2, FILL)
        xr.testing.assert_identical(xr.open_zarr(mnt / "big.zarr", zarr_format=3).load(), new)
        s = summary_now(p, log)
        assert s["copies"] >= 1, s


def test_copies_stay_within_the_budget(archive, tmp_path):
    log = tmp_path / "daemon.log"
    budget = 5 * MIB
    with foreground(archive, "--passthrough-cache", str(budget), "--log-file", str(log),
                    "--index-dir", "none") as (p, mnt), mounted(archive) as plain:
        files = large_files(mnt / "big.zarr")
        assert sum(f.stat().st_size for f in files) > 2 * budget
        for _ in range(2):
            for f in files:
                for _ in range(2):
                    assert sha(f) == sha(plain / f.relative_to(mnt)), f
        assert poll(lambda: summary_now(p, log)["copies_made"] > len(files), FILL)
        s = summary_now(p, log)
        assert s["copy_bytes_written"] > budget, s
        assert 0 < s["copy_bytes_peak"] <= budget, s
        assert s["copy_bytes_held"] <= budget, s


def test_a_one_pass_rsync_copies_nothing(archive, tmp_path):
    log = tmp_path / "daemon.log"
    with foreground(archive, "--zarr-format", "3", "--passthrough-cache", "64M",
                    "--log-file", str(log), "--index-dir", "none") as (p, mnt):
        subprocess.run(["rsync", "-a", f"{mnt}/", str(tmp_path / "copy")], check=True)
        s = summary_now(p, log)
        assert s["copies_made"] == s["copy_bytes_written"] == 0, s
        assert sha(tmp_path / "copy" / shard(mnt).relative_to(mnt)) == sha(shard(mnt))


def test_without_the_option_nothing_changes(archive, tmp_path):
    log = tmp_path / "daemon.log"
    with foreground(archive, "--zarr-format", "3", "--log-file", str(log),
                    "--index-dir", "none") as (p, mnt):
        first = cat_requests(mnt, shard(mnt))
        assert first.get("OPEN") == 1, first  # answered ENOSYS: the kernel stops sending them
        for _ in range(2):
            counts = cat_requests(mnt, shard(mnt))
            assert counts.get("OPEN", 0) == 0, f"NO_OPEN granted: no open sent ({counts})"
        s = summary_now(p, log)
        assert s["copies_made"] == s["passthrough_opens"] == s["copy_bytes_held"] == 0, s


def test_a_full_disk_serves_fuse_reads(archive, tmp_path):
    """Copies that do not fit on the disk: one log line, the file served by FUSE reads."""
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(small)], check=True)
    log = tmp_path / "daemon.log"
    try:
        with foreground(archive, "--zarr-format", "3", "--passthrough-cache", "1G",
                        "--passthrough-dir", str(small), "--log-file", str(log),
                        "--index-dir", "none") as (p, mnt), \
                mounted(archive, "--zarr-format", "3") as plain:
            want = sha(shard(plain))
            for _ in range(4):
                assert sha(shard(mnt)) == want
            # the copy admitted by the second open fails in its filler thread
            assert poll(lambda: summary_now(p, log)["passthrough_fallbacks"] >= 1, FILL)
            for _ in range(2):
                assert sha(shard(mnt)) == want
            s = summary_now(p, log)
            assert s["copies_made"] == 0, s
            assert s["copy_bytes_held"] == 0, s
            lines = [l for l in log.read_text().splitlines() if "no local copy" in l]
            assert len(lines) == 1 and "No space left" in lines[0], lines
            assert os.listdir(small) == [] and os.statvfs(small).f_bfree == os.statvfs(small).f_blocks
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_a_file_open_for_fuse_reads_is_opened_so_again(archive, tmp_path):
    """The kernel fails (EIO) an open in the other mode than the file's open handles: the
    daemon answers the mode they are in until the last one is closed, then copies."""
    log = tmp_path / "daemon.log"
    with foreground(archive, "--zarr-format", "3", "--passthrough-cache", "64M",
                    "--log-file", str(log), "--index-dir", "none") as (p, mnt), \
            mounted(archive, "--zarr-format", "3") as plain:
        path, want = shard(mnt), shard(plain).read_bytes()
        held = [open(path, "rb") for _ in range(3)]  # FUSE reads: nothing read in full yet
        held.pop(1).close()
        with open(path, "rb") as f:  # two still open for FUSE reads
            assert f.read() == want  # now read in full
        with open(path, "rb") as f:  # admits a copy, but is served by FUSE reads, as the
            assert f.read() == want  # open handles are
        with open(path, "rb") as f:  # the copy maybe filled: the same
            assert f.read() == want
        assert summary_now(p, log)["passthrough_opens"] == 0
        for f in held:
            assert f.read() == want
            f.close()
        # none open now: the copy is used once the daemon has seen every RELEASE (the
        # kernel sends them asynchronously)
        for _ in range(100):
            with open(path, "rb") as f:
                assert f.read() == want
            s = summary_now(p, log)
            if s["passthrough_opens"]:
                break
            time.sleep(0.05)
        assert s["copies_made"] == 1 and s["passthrough_opens"] == 1, s


def test_concurrent_readers_of_the_same_files(archive, tmp_path):
    """Threads opening the same shards at once, in both modes as the files are copied and
    dropped (a budget of one shard): every read whole and right, never EIO."""
    from concurrent.futures import ThreadPoolExecutor
    log = tmp_path / "daemon.log"
    with foreground(archive, "--zarr-format", "3", "--passthrough-cache", "9M",
                    "--log-file", str(log), "--index-dir", "none") as (p, mnt), \
            mounted(archive, "--zarr-format", "3") as plain:
        files = large_files(mnt / "big.zarr")
        want = {f: sha(plain / f.relative_to(mnt)) for f in files}
        jobs = [f for _ in range(12) for f in files]
        for _ in range(2):  # by FUSE reads mostly (every file open), then with a copy
            with ThreadPoolExecutor(16) as pool:
                got = list(pool.map(sha, jobs))
            assert got == [want[f] for f in jobs]
            for f in files:  # one by one: copied
                assert sha(f) == want[f]
        # (copies are filled by threads: the first file read until one serves it)
        assert poll(lambda: sha(files[0]) == want[files[0]]
                    and summary_now(p, log)["passthrough_opens"] >= 1, FILL)
        s = summary_now(p, log)
        assert s["copies_made"] >= 1, s
        assert s["copy_bytes_peak"] <= 9 * MIB, s


def test_a_bad_passthrough_dir_refuses_the_mount(archive, tmp_path):
    with pytest.raises(RuntimeError, match="passthrough-dir"):
        with mounted(archive, "--passthrough-cache", "1G",
                     "--passthrough-dir", str(tmp_path / "missing")):
            pass


def test_option_lists_and_sizes(archive):
    with mounted(archive, "-o", "passthrough_cache=64M,zarr_format=3") as mnt:
        sha(shard(mnt))
        counts = passthrough_cat(mnt, shard(mnt))
        assert counts.get("READ", 0) == 0 and counts.get("OPEN") == 1, counts
    with pytest.raises(RuntimeError, match="unknown suffix"):
        with mounted(archive, "--passthrough-cache", "4Q"):
            pass
