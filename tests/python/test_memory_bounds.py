"""What the daemon keeps in memory is bounded whatever the archive (issue 4): its inode table
follows the kernel's cache of the mount (a node the kernel forgets, here through
`drop_caches`, leaves it; what the kernel still holds keeps working), and the indexes of the
datasets it keeps stay within `--index-memory`, however many chunks they list."""
import hashlib
import os
import time

import netCDF4
import numpy as np
import pytest
import xarray as xr

from conftest import FIXTURES, foreground, summary_now


def nodes_now(p, log):
    return summary_now(p, log)["nodes"]


def walk(mnt):
    """Every file of the tree (stat'ed and read) by path: its size and digest."""
    out = {}
    for top, dirs, files in os.walk(mnt):
        for name in dirs + files:
            path = os.path.join(top, name)
            st = os.stat(path)
            if name in files:
                with open(path, "rb") as f:
                    data = f.read()
                assert len(data) == st.st_size, path
                out[os.path.relpath(path, mnt)] = hashlib.sha256(data).hexdigest()
    return out


@pytest.mark.skipif(os.geteuid() != 0, reason="drop_caches needs root (as FUSE mounts do here)")
def test_forgotten_nodes_leave_the_table_and_held_ones_keep_working(tmp_path):
    log = tmp_path / "daemon.log"
    with foreground(FIXTURES, "--log-file", str(log), "--index-dir", "none") as (p, mnt):
        assert nodes_now(p, log) == 1, "the root only"
        before = walk(mnt)
        walked = nodes_now(p, log)
        assert walked > len(before) > 300, (walked, len(before))

        # in use, so the kernel keeps them: an open chunk file and an array directory
        array = mnt / "tas_day.zarr" / "tas"
        chunk = sorted(n for n in os.listdir(array) if not n.startswith("."))[0]
        held = open(array / chunk, "rb")
        dir_fd = os.open(array, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("2\n")  # dentries and inodes: every unused one is evicted
            for _ in range(100):
                left = nodes_now(p, log)
                if left < 10:
                    break
                time.sleep(0.1)
            # the root, the two held nodes and the directories above them
            assert 4 <= left < 10, left

            assert hashlib.sha256(held.read()).hexdigest() == before[f"tas_day.zarr/tas/{chunk}"]
            fd = os.open(".zarray", os.O_RDONLY, dir_fd=dir_fd)
            try:
                zarray = os.read(fd, 1 << 20)
            finally:
                os.close(fd)
            assert hashlib.sha256(zarray).hexdigest() == before["tas_day.zarr/tas/.zarray"]
        finally:
            held.close()
            os.close(dir_fd)

        # walked again, with new numbers where needed: the same tree, the same bytes, and no
        # more nodes than the first walk left (none leaked; fewer if the kernel dropped some
        # on its own meanwhile)
        assert walk(mnt) == before
        assert len(before) < nodes_now(p, log) <= walked


def test_indexes_kept_stay_within_index_memory(tmp_path):
    """Three datasets of 50,000 chunks each (~2.3 MiB of chunk references apiece) under a
    budget for one: one is kept, the others are indexed again when used, and every one reads
    what netCDF4 reads. Without the budget all three are kept."""
    archive = tmp_path / "archive"
    archive.mkdir()
    n = 800_000
    for j in range(3):
        with netCDF4.Dataset(archive / f"m{j}.nc", "w") as ds:
            ds.createDimension("t", n)
            v = ds.createVariable("v", "f4", ("t",), zlib=True, chunksizes=(16,))
            v[:] = np.arange(n, dtype="f4") + j
    log = tmp_path / "daemon.log"

    def open_all(mnt, part=slice(-100, None)):
        for j in range(3):
            got = xr.open_zarr(mnt / f"m{j}.zarr")["v"][part].values
            with netCDF4.Dataset(archive / f"m{j}.nc") as ds:
                np.testing.assert_array_equal(got, ds["v"][part])

    budget = 3 << 20
    with foreground(archive, "--log-file", str(log), "--index-dir", "none",
                    "--index-memory", str(budget)) as (p, mnt):
        open_all(mnt)
        s = summary_now(p, log)
        assert s["datasets_kept"] == 1, s
        assert 1 << 10 < s["index_kib"] <= budget >> 10, s
        # the evicted ones again, indexed anew: other chunks than the first pass read (the
        # kernel answers what it has cached, metadata and missing names included, itself)
        open_all(mnt, slice(0, 100))
        assert summary_now(p, log)["datasets_indexed"] > 3
    with foreground(archive, "--log-file", str(log), "--index-dir", "none") as (p, mnt):
        open_all(mnt)
        s = summary_now(p, log)
        assert s["datasets_kept"] == 3 and s["index_kib"] > budget >> 10, s


@pytest.mark.skipif(os.geteuid() != 0, reason="drop_caches needs root (as FUSE mounts do here)")
def test_walks_while_the_kernel_drops_its_caches_see_no_error(tmp_path):
    """Two walkers read the whole tree over and over while the kernel drops every unused
    dentry and inode each 50 ms: lookups race FORGETs of the same nodes, and no open, stat or
    read may fail or see other bytes (a node dropped while the kernel still held it would
    answer ENOENT)."""
    import threading
    log = tmp_path / "daemon.log"
    with foreground(FIXTURES, "--log-file", str(log), "--index-dir", "none") as (p, mnt):
        before = walk(mnt)
        stop = time.monotonic() + 8
        problems, walks = [], []

        def walker():
            while time.monotonic() < stop:
                try:
                    got = walk(mnt)
                except (OSError, AssertionError) as e:
                    problems.append(repr(e))
                    continue
                if got != before:
                    problems.append(sorted(k for k in before if got.get(k) != before[k])[:3])
                walks.append(1)

        threads = [threading.Thread(target=walker) for _ in range(2)]
        for t in threads:
            t.start()
        drops = 0
        while time.monotonic() < stop:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("2\n")
            drops += 1
            time.sleep(0.05)
        for t in threads:
            t.join()
        assert not problems, problems[:5]
        assert len(walks) >= 2 and drops > 50, (len(walks), drops)
        # and with nothing in use, everything is forgotten in the end
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2\n")
        for _ in range(100):
            if nodes_now(p, log) < 10:
                break
            time.sleep(0.1)
        assert nodes_now(p, log) < 10


def test_chunks_read_to_their_end_leave_the_daemon_cache(tmp_path):
    """Decoded mode: a chunk file read to its end is kept by the kernel's page cache, so the
    daemon lets its decoded chunk go and decodes the next chunk into the same memory. Reading
    twelve 4 MiB chunks one after the other reuses buffers for all but the first few (while
    the 256 MiB cache keeps every chunk, nothing is reused and the daemon holds all 48 MiB
    a second time); the bytes are netCDF4's, read again after that."""
    archive = tmp_path / "archive"
    archive.mkdir()
    with netCDF4.Dataset(archive / "big.nc", "w") as ds:
        for name, n in (("t", 96), ("y", 256), ("x", 512)):
            ds.createDimension(name, n)
        v = ds.createVariable("v", "f4", ("t", "y", "x"), zlib=True, shuffle=True,
                              chunksizes=(1, 64, 512))
        v[:] = np.arange(96 * 256 * 512, dtype="f4").reshape(96, 256, 512) % 1000
    log = tmp_path / "daemon.log"
    with foreground(archive, "--log-file", str(log), "--index-dir", "none", "--chunks",
                    "decoded", "--decoded-chunk-size", str(4 << 20)) as (p, mnt):
        store = mnt / "big.zarr" / "v"
        chunks = sorted(f for f in os.listdir(store) if not f.startswith("."))
        assert len(chunks) == 12, chunks
        for name in chunks:
            with open(store / name, "rb") as f:
                assert len(f.read()) == 4 << 20
        first = summary_now(p, log)
        assert first["cache_misses"] >= 12, first
        assert first["chunk_buffers_reused"] >= 12 - 4, first
        with netCDF4.Dataset(archive / "big.nc") as ds:
            np.testing.assert_array_equal(xr.open_zarr(mnt / "big.zarr")["v"].values, ds["v"][:])
