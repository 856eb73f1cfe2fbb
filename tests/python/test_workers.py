"""Crash isolation: netcdf-c/libhdf5 run in worker processes. A worker that aborts or hangs on
one file marks that file bad; the daemon and every other dataset go on. Workers of a root
daemon run as nobody with CAP_DAC_READ_SEARCH only."""
import errno
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import xarray as xr

from conftest import FIXTURES, mounted

HOOK = "CLOUDIFY_TEST_WORKER_HOOK"


@pytest.fixture
def archive(tmp_path):
    a = tmp_path / "archive"
    a.mkdir()
    for name in ["tas_day.nc", "hdf5_library_filters.h5", "groups.nc"]:
        shutil.copy(FIXTURES / name, a / name)
    # a file the native reader declines (user-defined types), so that a worker indexes it
    shutil.copy(FIXTURES / "strings_enum.nc", a / "poison.nc")
    return a


def daemon_pid(mnt):
    out = subprocess.run(["pgrep", "-f", f"cloudify-mount .* {mnt} "], capture_output=True,
                         text=True).stdout.split()
    assert out, "daemon not running"
    return int(out[0])


def workers_of(pid):
    out = subprocess.run(["pgrep", "-P", str(pid), "-f", "__cloudify_worker"],
                         capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def status(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.split()
    return fields


def check_healthy(mnt, archive):
    """Every healthy dataset still reads identically, the library-decoded one included."""
    for name in ["tas_day", "groups"]:
        expected = xr.open_dataset(archive / f"{name}.nc", engine="netcdf4").load()
        xr.testing.assert_identical(xr.open_zarr(mnt / f"{name}.zarr").load(), expected)
    # scaleoffset chunks are decoded by libhdf5 in a worker (szip ones in the daemon)
    src = xr.open_dataset(archive / "hdf5_library_filters.h5", engine="netcdf4",
                          group="Data Fields").load()
    got = xr.open_zarr(mnt / "hdf5_library_filters.zarr", group="Data Fields").load()
    xr.testing.assert_identical(got, src)


def open_fails(path):
    with pytest.raises(OSError) as e:
        (path / ".zmetadata").read_bytes()
    assert e.value.errno == errno.EIO


def test_a_worker_crashing_on_a_file_leaves_the_mount_serving(archive):
    with mounted(archive, "--index-dir", "none", "--workers", "2",
                 env={HOOK: "abort:poison"}) as mnt:
        pid = daemon_pid(mnt)
        check_healthy(mnt, archive)
        open_fails(mnt / "poison.zarr")
        # remembered as bad: no second crash, still EIO
        open_fails(mnt / "poison.zarr")
        assert daemon_pid(mnt) == pid
        check_healthy(mnt, archive)
        log = Path(str(mnt) + ".log").read_text()
        assert "worker process lost" in log and "poison.nc" in log
        assert log.count("dataset not available") == 1


@pytest.mark.parametrize("decode_cf", [True, False])
def test_a_netcdf_c_crash_costs_the_variable_not_the_dataset(archive, decode_cf):
    """netcdf-c kills the worker on poison.nc (enum and vlen-string variables): a fresh worker
    indexes it with libhdf5 alone, and xarray reads every variable as from the file."""
    from identity import compare
    with mounted(archive, "--index-dir", "none", "--workers", "2",
                 env={HOOK: "abort-netcdf:poison"}) as mnt:
        pid = daemon_pid(mnt)
        compared = compare(archive / "poison.nc", mnt / "poison.zarr", "/", [], decode_cf)
        assert {"cloud", "cloud_sparse", "codes", "names", "title_var"} <= set(compared)
        assert daemon_pid(mnt) == pid
        check_healthy(mnt, archive)
        log = Path(str(mnt) + ".log").read_text()
        assert "worker process lost" in log and "retrying with libhdf5 alone" in log
        assert "dataset not available" not in log


def test_a_hanging_worker_is_killed_after_the_timeout(archive):
    with mounted(archive, "--index-dir", "none", "--workers", "1", "--worker-timeout", "2",
                 env={HOOK: "hang:poison"}) as mnt:
        started = time.monotonic()
        open_fails(mnt / "poison.zarr")
        assert time.monotonic() - started < 30
        # the single worker was replaced: everything else still reads
        check_healthy(mnt, archive)
        assert "took longer than" in Path(str(mnt) + ".log").read_text()


def test_workers_run_unprivileged(archive):
    with mounted(archive, "--index-dir", "none") as mnt:
        # indexed and scaleoffset-decoded by workers (the native reader declines the file)
        xr.open_zarr(mnt / "hdf5_library_filters.zarr", group="Data Fields").load()
        workers = workers_of(daemon_pid(mnt))
        assert workers, "no worker process"
        for w in workers:
            s = status(w)
            assert s["Uid"] == ["65534"] * 4, s["Uid"]
            assert s["Gid"] == ["65534"] * 4, s["Gid"]
            assert int(s["CapEff"][0], 16) == 1 << 2  # CAP_DAC_READ_SEARCH only
            assert s["NoNewPrivs"] == ["1"]


def test_workers_die_with_the_daemon(archive):
    with mounted(archive, "--index-dir", "none", env={HOOK: "hang:poison"}) as mnt:
        xr.open_zarr(mnt / "tas_day.zarr").load()
        pid = daemon_pid(mnt)
        # the (idle) worker gets stuck in a simulated C call
        subprocess.Popen(["cat", str(mnt / "poison.zarr" / ".zmetadata")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        workers = workers_of(pid)
        assert workers
        subprocess.run(["kill", "-9", str(pid)], check=True)
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(Path(f"/proc/{w}").exists() for w in workers), "orphaned workers"
