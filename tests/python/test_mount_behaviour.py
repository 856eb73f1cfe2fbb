"""File-system behaviour of a real mount: read-only, exact sizes, pass-through bytes, rsync."""
import errno
import json
import os
import subprocess
from pathlib import Path

import h5py
import pytest
import xarray as xr

from conftest import FIXTURES, daemon_env, mounted


def test_writes_are_refused(fixtures_mount):
    ds = fixtures_mount / "tas_day.zarr"
    cases = [
        lambda: open(ds / "new_file", "w"),
        lambda: open(ds / ".zattrs", "a"),
        lambda: os.mkdir(ds / "d"),
        lambda: os.unlink(ds / ".zattrs"),
        lambda: os.rename(ds / ".zattrs", ds / "x"),
        lambda: os.truncate(ds / ".zattrs", 0),
        lambda: os.chmod(ds / ".zattrs", 0o777),
        lambda: os.symlink("/etc/passwd", ds / "l"),
    ]
    for case in cases:
        with pytest.raises(OSError) as e:
            case()
        assert e.value.errno == errno.EROFS


def test_chunk_bytes_are_the_source_bytes(fixtures_mount):
    """`cat` of a pass-through chunk equals the bytes HDF5 stores for that chunk."""
    with h5py.File(FIXTURES / "tas_day.nc") as f:
        dsid = f["tas"].id
        for coords, key in [((0, 0, 0), "0.0.0"), ((8, 32, 64), "2.2.2")]:
            info = dsid.get_chunk_info_by_coord(coords)
            with open(FIXTURES / "tas_day.nc", "rb") as src:
                src.seek(info.byte_offset)
                want = src.read(info.size)
            path = fixtures_mount / "tas_day.zarr" / "tas" / key
            assert os.stat(path).st_size == info.size
            assert subprocess.run(["cat", str(path)], capture_output=True).stdout == want


def test_sizes_exact_and_mtime_of_source(fixtures_mount):
    src_mtime = os.stat(FIXTURES / "packed.nc").st_mtime
    for root, _dirs, files in os.walk(fixtures_mount / "packed.zarr"):
        for name in files:
            p = os.path.join(root, name)
            with open(p, "rb") as f:
                assert len(f.read()) == os.stat(p).st_size, p
            assert os.stat(p).st_mtime == src_mtime
    meta = json.loads((fixtures_mount / "packed.zarr" / ".zmetadata").read_text())
    assert "pr/.zarray" in meta["metadata"]


def test_listed_attributes_are_exact_and_a_listing_indexes_nothing(tmp_path):
    """Listings carry attributes (READDIRPLUS): `scandir` + `DirEntry.stat()` on a fresh mount
    (answered from what the listing put in the kernel's cache) give every file's exact size,
    STAC items included, and listing the archive indexes no dataset."""
    with mounted(FIXTURES, "--index-dir", str(tmp_path / "index")) as mnt:
        names = [e.name for e in os.scandir(mnt)]
        assert any(n.endswith(".stac.json") for n in names) and any(n.endswith(".zarr") for n in names)
        log = Path(str(mnt) + ".log").read_text()
        assert " indexed" not in log and "index loaded" not in log, log
        checked = 0
        pending = [mnt]
        while pending:
            for e in os.scandir(pending.pop()):
                st = e.stat(follow_symlinks=False)
                if e.is_dir(follow_symlinks=False):
                    pending.append(Path(e.path))
                    continue
                # no file of the tree is empty: a size 0 here is a placeholder the kernel kept
                with open(e.path, "rb") as f:
                    assert len(f.read()) == st.st_size > 0, e.path
                assert os.stat(e.path).st_size == st.st_size, e.path
                checked += 1
        assert checked > 300, checked


def test_inodes_stable(fixtures_mount):
    p = fixtures_mount / "groups.zarr" / "instrument" / "tb" / ".zarray"
    assert os.stat(p).st_ino == os.stat(p).st_ino
    first = os.stat(p).st_ino
    os.listdir(fixtures_mount / "groups.zarr" / "instrument")
    assert os.stat(p).st_ino == first


def test_rsync_copy_reads_identically_and_resync_moves_nothing(fixtures_mount, tmp_path):
    dest = tmp_path / "copy"
    subprocess.run(["rsync", "-a", f"{fixtures_mount}/", f"{dest}/"], check=True)
    for name in ["tas_day", "groups", "sparse"]:
        a = xr.open_zarr(fixtures_mount / f"{name}.zarr").load()
        b = xr.open_zarr(dest / f"{name}.zarr").load()
        xr.testing.assert_identical(a, b)
    out = subprocess.run(["rsync", "-a", "--stats", f"{fixtures_mount}/", f"{dest}/"],
                         check=True, capture_output=True, text=True).stdout
    transferred = [l for l in out.splitlines() if l.startswith("Number of regular files transferred")]
    assert transferred and transferred[0].split(":")[1].strip() == "0", out


def test_mount_refuses_bad_arguments(tmp_path):
    bin_ = str(__import__("conftest").BIN)
    r = subprocess.run([bin_, str(tmp_path / "missing"), str(tmp_path)], capture_output=True, text=True,
                       env=daemon_env())
    assert r.returncode != 0 and "archive" in r.stderr
    r = subprocess.run([bin_, str(FIXTURES), str(tmp_path / "nope")], capture_output=True, text=True,
                       env=daemon_env())
    assert r.returncode != 0 and "mountpoint" in r.stderr
    r = subprocess.run([bin_, str(FIXTURES), str(tmp_path), "-o", "rw"], capture_output=True, text=True,
                       env=daemon_env())
    assert r.returncode != 0 and "read-only" in r.stderr
    with mounted(FIXTURES) as mnt:
        r = subprocess.run([bin_, str(FIXTURES), str(mnt)], capture_output=True, text=True,
                           env=daemon_env())
        assert r.returncode != 0 and "busy" in r.stderr


def test_name_collisions_and_non_data_files(tmp_path):
    archive = tmp_path / "archive"
    (archive / "sub").mkdir(parents=True)
    data = (FIXTURES / "packed.nc").read_bytes()
    (archive / "x.nc").write_bytes(data)
    (archive / "x.h5").write_bytes(data)
    (archive / "sub" / "y.nc4").write_bytes(data)
    (archive / "notes.nc").write_text("not a netCDF file")
    with mounted(archive) as mnt:
        # beside each store its STAC item (<store name without .zarr>.stac.json), in each
        # directory a STAC catalog (docs/STAC.md)
        assert sorted(os.listdir(mnt)) == ["catalog.json", "sub", "x.h5.stac.json", "x.h5.zarr",
                                           "x.nc.stac.json", "x.nc.zarr"]
        assert sorted(os.listdir(mnt / "sub")) == ["catalog.json", "y.stac.json", "y.zarr"]
        xr.testing.assert_identical(xr.open_zarr(mnt / "x.h5.zarr").load(),
                                    xr.open_zarr(mnt / "sub" / "y.zarr").load())


def test_remount_uses_the_persisted_index(tmp_path):
    index_dir = tmp_path / "index"
    views = []
    for attempt in range(2):
        # loads from the index directory are logged at debug level
        with mounted(FIXTURES, "--index-dir", str(index_dir),
                     env={"RUST_LOG": "info,cloudify_mount=debug"}) as mnt:
            views.append(xr.open_zarr(mnt / "groups.zarr", group="instrument").load())
            log = (mnt.parent / (mnt.name + ".log")).read_text()
        said = "index loaded from the index directory" if attempt else "indexed"
        assert "groups.nc" in log and said in log, log
        if attempt:
            assert " indexed " not in log, "re-indexed although a persisted index exists"
    xr.testing.assert_identical(views[0], views[1])
    assert len(list(index_dir.iterdir())) == 1


def test_changed_source_is_seen_after_the_attribute_timeout(tmp_path):
    """A source rewritten while mounted: after --attr-timeout the mount serves the new
    content (re-indexed; the kernel drops pages cached under the old mtime)."""
    import time

    import netCDF4
    import numpy as np

    archive = tmp_path / "archive"
    archive.mkdir()

    def write(value):
        with netCDF4.Dataset(archive / "x.nc", "w") as ds:
            ds.createDimension("n", 1000)
            v = ds.createVariable("v", "f8", ("n",), zlib=True, chunksizes=(250,))
            v[:] = np.full(1000, value)

    write(1.0)
    with mounted(archive, "--attr-timeout", "1", "--index-dir", str(tmp_path / "idx")) as mnt:
        assert float(xr.open_zarr(mnt / "x.zarr").v.load()[0]) == 1.0
        time.sleep(0.05)
        write(2.0)  # new mtime (and, via netCDF4, a new file)
        time.sleep(1.5)
        assert float(xr.open_zarr(mnt / "x.zarr").v.load()[0]) == 2.0


def test_signals_unmount_and_a_killed_daemon_is_recovered(tmp_path):
    """SIGTERM/SIGINT in --foreground unmount cleanly; after kill -9 the mountpoint is stale
    ("transport endpoint is not connected") and the next start clears it and mounts."""
    import netCDF4  # noqa: F401 (sets HDF5_PLUGIN_PATH here: the daemon must not inherit it)
    import signal
    import time

    from conftest import BIN

    mnt = tmp_path / "mnt"
    mnt.mkdir()

    def mounted_now():
        return any(line.split()[4] == str(mnt) for line in open("/proc/self/mountinfo"))

    def start_foreground():
        p = subprocess.Popen([str(BIN), str(FIXTURES), str(mnt), "--foreground", "--index-dir", "none"],
                             stderr=subprocess.DEVNULL, env=daemon_env())
        for _ in range(100):
            if mounted_now() and (mnt / "groups.zarr").exists():
                # the plugins netCDF4-python bundles (it sets the variable in this process
                # when imported) never reach the daemon's libhdf5
                if b"HDF5_PLUGIN_PATH=" in Path(f"/proc/{p.pid}/environ").read_bytes():
                    p.send_signal(signal.SIGTERM)
                    p.wait(timeout=10)
                    raise AssertionError("the daemon inherited HDF5_PLUGIN_PATH")
                return p
            time.sleep(0.05)
        p.kill()
        raise AssertionError("mount did not come up")

    for sig in (signal.SIGTERM, signal.SIGINT):
        p = start_foreground()
        p.send_signal(sig)
        assert p.wait(timeout=10) == 0
        assert not mounted_now()
    p = start_foreground()
    p.kill()  # SIGKILL: no unmount
    p.wait(timeout=10)
    assert mounted_now()
    with pytest.raises(OSError) as e:
        os.listdir(mnt)
    assert e.value.errno == errno.ENOTCONN
    r = subprocess.run([str(BIN), str(FIXTURES), str(mnt), "--index-dir", "none"], capture_output=True, text=True,
                       env=daemon_env())
    try:
        assert r.returncode == 0, r.stderr
        assert "groups.zarr" in os.listdir(mnt)
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)])


def test_a_stream_is_read_in_large_requests(tmp_path):
    """The mount's readahead (--readahead, 1024 KiB): `cat` of a shard reaches the daemon as
    requests of up to 1 MiB (the kernel's largest FUSE read), where the kernel's own 128 KiB
    readahead gives 256 KiB ones (cat asks for sequential readahead, twice the window);
    --readahead 0 keeps the kernel's. The device's read_ahead_kb says so too."""
    import netCDF4
    import numpy as np

    from conftest import foreground, summary_now

    arch = tmp_path / "arch"
    arch.mkdir()
    with netCDF4.Dataset(arch / "big.nc", "w") as ds:
        ds.createDimension("t", 32)
        ds.createDimension("x", 32768)
        v = ds.createVariable("v", "f8", ("t", "x"), chunksizes=(2, 32768))
        v[:] = np.random.default_rng(1).standard_normal((32, 32768))
    for args, kib, largest in ((("--readahead", "0"), None, 256 << 10), ((), 1024, 1 << 20)):
        log = tmp_path / f"mount{len(args)}.log"
        with foreground(arch, "--zarr-format", "3", "--index-dir", "none", "--log-file", str(log),
                        *args) as (p, mnt):
            shard = mnt / "big.zarr" / "v" / "c" / "0" / "0"
            assert shard.stat().st_size > (8 << 20)
            bdi = Path("/sys/class/bdi") / f"{os.major(mnt.stat().st_dev)}:{os.minor(mnt.stat().st_dev)}"
            ra = int((bdi / "read_ahead_kb").read_text())
            assert ra == kib if kib else ra < 1024, ra
            before = summary_now(p, log)
            subprocess.run(["cat", str(shard)], stdout=subprocess.DEVNULL, check=True)
            after = summary_now(p, log)
            reads = after["reads"] - before["reads"]
            served = after["bytes_served"] - before["bytes_served"]
            assert served == shard.stat().st_size
            assert served / reads > largest / 2, (reads, served)
            assert served <= reads * largest, (reads, served)


def test_missing_names_are_cached_and_dropped_when_they_appear(tmp_path):
    """A name that is not there is answered with a negative entry for --attr-timeout: asked
    again, the kernel answers it itself (zarr-python probes every v2 store for `zarr.json`
    on each open). A source change drops the negative entries it may have made wrong: a new
    file's store beside it, a new variable inside a store, both seen at once (the watcher)."""
    import netCDF4
    import numpy as np

    from conftest import foreground, poll, summary_now

    arch = tmp_path / "arch"
    arch.mkdir()

    def write(path, names):
        with netCDF4.Dataset(path, "w") as ds:
            ds.createDimension("n", 4)
            for name in names:
                ds.createVariable(name, "f4", ("n",))[:] = np.arange(4, dtype="f4")

    write(arch / "x.nc", ["v"])
    log = tmp_path / "mount.log"
    with foreground(arch, "--index-dir", "none", "--log-file", str(log)) as (p, mnt):
        assert (mnt / "x.zarr" / "v").is_dir()
        before = summary_now(p, log)
        for _ in range(3):
            for missing in (mnt / "x.zarr" / "zarr.json", mnt / "x.zarr" / "u", mnt / "y.zarr"):
                assert not missing.exists()
        after = summary_now(p, log)
        assert after["missing_lookups"] - before["missing_lookups"] == 3, (before, after)
        write(arch / "y.nc", ["v"])
        write(arch / "x.nc.tmp", ["v", "u"])
        os.rename(arch / "x.nc.tmp", arch / "x.nc")
        assert poll(lambda: (mnt / "y.zarr" / "v").is_dir(), 10), "new store hidden"
        assert poll(lambda: (mnt / "x.zarr" / "u").is_dir(), 10), "new variable hidden"
        assert not (mnt / "x.zarr" / "zarr.json").exists()
