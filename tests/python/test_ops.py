"""Operations and security of a real mount (issue 6): the symlink policy, allow_other with a
real second user, writes refused, the SIGUSR1 summary, systemd readiness, the systemd unit's
command lines and the mount(8)/fstab helper."""
import contextlib
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import xarray as xr

from systemd_unit import env_file, expand, unit_settings
from conftest import (BIN, FIXTURES, ROOT, daemon_env, foreground, mounted, mounted_at, summaries,
                      summary_now, unmount)

HELPER = ROOT / "scripts" / "mount.cloudify"
UNIT = ROOT / "systemd" / "cloudify-mount@.service"
EXAMPLE_CONF = ROOT / "systemd" / "example.conf"





def mount_entry(mnt):
    """(fstype, source) of the mount at `mnt`."""
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        if fields[4] == str(mnt):
            sep = fields.index("-")
            return fields[sep + 1], fields[sep + 2]
    return None


def daemons_serving(mnt):
    """PIDs of cloudify-mount processes whose command line names `mnt`."""
    pids = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            args = (proc / "cmdline").read_bytes().split(b"\0")
            if args and args[0].endswith(b"cloudify-mount") and str(mnt).encode() in args:
                pids.append(int(proc.name))
    return pids


def log_of(mnt):
    return Path(str(mnt) + ".log").read_text()


# --- symbolic links --------------------------------------------------------------------------

def test_symlinks_leaving_the_archive_only_with_follow_symlinks(tmp_path):
    archive, outside = tmp_path / "archive", tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    archive.mkdir()
    shutil.copy(FIXTURES / "packed.nc", archive / "in.nc")
    shutil.copy(FIXTURES / "packed.nc", outside / "out.nc")
    shutil.copy(FIXTURES / "packed.nc", outside / "dir" / "deep.nc")
    os.symlink("../outside/out.nc", archive / "outfile.nc")
    os.symlink(outside / "dir", archive / "outdir")
    os.symlink("..", archive / "loop")  # above the archive: never shown
    with mounted(archive, "--no-stac") as mnt:
        assert sorted(os.listdir(mnt)) == ["in.zarr"]
        for name in ["outfile.zarr", "outdir", "loop"]:
            with pytest.raises(FileNotFoundError):
                os.stat(mnt / name)
        log = log_of(mnt)
    # one line per refused link (the listing was made more than once)
    refused = [l for l in log.splitlines() if "not shown: symlink leaves the archive" in l]
    assert sorted(l.split(" link=")[1].split()[0] for l in refused) == \
        [str(archive / n) for n in ["loop", "outdir", "outfile.nc"]], log
    # the same flag as an option list entry (as fstab would pass it)
    with mounted(archive, "--no-stac", "-o", "follow_symlinks") as mnt:
        assert sorted(os.listdir(mnt)) == ["in.zarr", "outdir", "outfile.zarr"]
        assert os.listdir(mnt / "outdir") == ["deep.zarr"]
        want = xr.open_zarr(mnt / "in.zarr").load()
        xr.testing.assert_identical(xr.open_zarr(mnt / "outfile.zarr").load(), want)
        xr.testing.assert_identical(xr.open_zarr(mnt / "outdir" / "deep.zarr").load(), want)
        assert "loop" not in os.listdir(mnt)


# --- other users -----------------------------------------------------------------------------

@contextlib.contextmanager
def system_user():
    """A throw-away user without home or shell, deleted afterwards."""
    if not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("useradd/runuser not available")
    name = f"cfytest{os.getpid()}"
    subprocess.run(["userdel", name], capture_output=True)
    r = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", name], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot create a user: {r.stderr}")
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], capture_output=True)


# Run as the other user with the system python (the venv's interpreter lives below /root): try
# each operation, report "ok" or the errno name.
PROBE = r"""
import errno, json, os, sys
def attempt(op, path):
    try:
        if op == "list": os.listdir(path)
        elif op == "read":
            with open(path, "rb") as f: f.read()
        elif op == "stat": os.stat(path)
        elif op == "write":
            with open(path, "wb"): pass
        elif op == "mkdir": os.mkdir(path)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
print(json.dumps([attempt(op, path) for op, path in json.loads(sys.argv[1])]))
"""


def as_user(user, *probes):
    r = subprocess.run(["runuser", "-u", user, "--", "/usr/bin/python3", "-c", PROBE,
                        json.dumps([[op, str(p)] for op, p in probes])],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_allow_other_shows_other_users_only_what_they_may_read():
    """With allow_other, another user gets through the mount exactly what they get from the
    archive itself: every probe is run on the source and on its counterpart in the mount."""
    archive = Path(tempfile.mkdtemp(prefix="cloudify-perm-"))  # below /tmp: reachable by all
    try:
        with system_user() as user:
            check_permissions_mirror(archive, user)
    finally:
        shutil.rmtree(archive)


def check_permissions_mirror(archive, user):
    archive.chmod(0o755)
    layout = {  # path: (mode, group is the user's)
        "public.nc": (0o644, False), "secret.nc": (0o600, False), "group.nc": (0o640, True),
        "private/inner.nc": (0o644, False),   # in a 0700 directory
        "listonly/a.nc": (0o644, False),      # in a 0744 directory: names, no way through
        "passonly/b.nc": (0o644, False),      # in a 0711 directory: a way through, no names
    }
    for name, (mode, group) in layout.items():
        (archive / name).parent.mkdir(exist_ok=True)
        shutil.copy(FIXTURES / "packed.nc", archive / name)
        os.chmod(archive / name, mode)
        if group:
            shutil.chown(archive / name, group=user)
    for d, mode in [("private", 0o700), ("listonly", 0o744), ("passonly", 0o711)]:
        (archive / d).chmod(mode)
    with mounted(archive, "-o", "allow_other") as mnt:
        cases = [  # (operation, source path, mount path, expected outcome for both)
            ("list", archive, mnt, "ok"),
            ("read", archive / "public.nc", mnt / "public.zarr" / ".zmetadata", "ok"),
            ("read", archive / "public.nc", mnt / "public.zarr" / "pr" / ".zarray", "ok"),
            ("read", archive / "public.nc", mnt / "public.stac.json", "ok"),
            ("read", archive / "secret.nc", mnt / "secret.zarr" / ".zmetadata", "EACCES"),
            ("list", archive / "secret.nc", mnt / "secret.zarr", None),  # ENOTDIR vs EACCES
            ("read", archive / "secret.nc", mnt / "secret.stac.json", "EACCES"),
            ("read", archive / "group.nc", mnt / "group.zarr" / ".zmetadata", "ok"),
            ("list", archive / "private", mnt / "private", "EACCES"),
            ("read", archive / "private/inner.nc", mnt / "private/inner.zarr/.zgroup", "EACCES"),
            ("list", archive / "listonly", mnt / "listonly", "ok"),
            ("read", archive / "listonly/a.nc", mnt / "listonly/a.zarr/.zgroup", "EACCES"),
            ("list", archive / "passonly", mnt / "passonly", "EACCES"),
            ("read", archive / "passonly/b.nc", mnt / "passonly/b.zarr/.zgroup", "ok"),
        ]
        direct = as_user(user, *[(op, src) for op, src, _, _ in cases])
        through = as_user(user, *[(op, m) for op, _, m, _ in cases])
        for (op, src, m, want), d, t in zip(cases, direct, through):
            if want is None:  # listing a store ~ reading its file
                assert t == "EACCES" and as_user(user, ("read", src)) == ["EACCES"]
                continue
            assert (d, t) == (want, want), (op, str(src), str(m))
        # every file of a readable store is readable by that user too
        public = mnt / "public.zarr"
        files = [p for p in public.rglob("*") if p.is_file()]
        assert len(files) > 3 and set(as_user(user, *[("read", f) for f in files])) == {"ok"}
        # ownership and mode mirror the source
        for store, source in [(public, "public.nc"), (mnt / "secret.zarr", "secret.nc"),
                              (mnt / "group.zarr", "group.nc")]:
            st, src = os.stat(store / ".zgroup"), os.stat(archive / source)
            assert (st.st_uid, st.st_gid) == (src.st_uid, src.st_gid)
            assert st.st_mode & 0o777 == src.st_mode & 0o444
        for d in ["private", "listonly", "passonly"]:
            assert os.stat(mnt / d).st_mode & 0o777 == os.stat(archive / d).st_mode & 0o555
        # nobody writes, whatever their permissions
        assert as_user(user, ("write", public / "new"), ("mkdir", mnt / "d"),
                       ("write", public / ".zattrs")) == ["EROFS", "EROFS", "EROFS"]


def test_without_allow_other_only_the_mounting_user_gets_in(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    archive.chmod(0o755)
    shutil.copy(FIXTURES / "packed.nc", archive / "public.nc")
    os.chmod(archive / "public.nc", 0o644)
    with system_user() as user, mounted(archive) as mnt:
        assert as_user(user, ("list", mnt), ("stat", mnt / "public.zarr"),
                       ("read", mnt / "public.zarr" / ".zgroup")) == ["EACCES"] * 3
        assert "public.zarr" in os.listdir(mnt)  # root mounted it


def test_every_kind_of_write_is_refused(fixtures_mount):
    ds = fixtures_mount / "packed.zarr"
    cases = [
        lambda: os.open(ds / ".zattrs", os.O_WRONLY),
        lambda: os.open(ds / ".zattrs", os.O_RDWR),
        lambda: os.utime(ds / ".zattrs", (0, 0)),
        lambda: os.chown(ds / ".zattrs", 1, 1),
        lambda: os.link(ds / ".zattrs", ds / "hard"),
        lambda: os.mknod(ds / "node"),
        lambda: os.rmdir(ds / "pr"),
        lambda: os.setxattr(ds / ".zattrs", "user.x", b"1"),
        lambda: os.removexattr(ds / ".zattrs", "user.x"),
        lambda: os.rename(fixtures_mount / "packed.zarr", fixtures_mount / "moved.zarr"),
    ]
    for i, case in enumerate(cases):
        with pytest.raises(OSError) as e:
            case()
        assert e.value.errno == errno.EROFS, (i, e.value)


# --- the daemon's log and readiness -----------------------------------------------------------







def test_sigusr1_logs_a_summary(tmp_path):
    log = tmp_path / "daemon.log"
    # (no walking ahead: listing the store would index the stores after it too)
    with foreground(FIXTURES, "--log-file", str(log), "--index-dir", "none",
                    "--chunks", "decoded", "--walk-ahead", "0") as (p, mnt):
        served = 0
        for f in sorted((mnt / "tas_day.zarr").rglob("*")):
            if f.is_file():
                served += len(f.read_bytes())
        time.sleep(0.2)
        p.send_signal(signal.SIGUSR1)
        for _ in range(100):
            if [s for s in summaries(log.read_text()) if s["when"] == "SIGUSR1"]:
                break
            time.sleep(0.05)
        assert p.poll() is None, "SIGUSR1 must not stop the daemon"
    lines = summaries(log.read_text())
    assert [s["when"] for s in lines] == ["start", "SIGUSR1", "unmount"], log.read_text()
    start, usr1 = lines[0], lines[1]
    assert start["datasets_indexed"] == start["reads"] == start["bytes_served"] == 0
    assert usr1["datasets_indexed"] == 1 and usr1["index_failures"] == 0
    # the kernel may read ahead, never less than what was read
    assert usr1["bytes_served"] >= served > 0
    assert usr1["reads"] >= 1 and usr1["read_errors"] == 0
    # decoded chunks are generated: at least one miss per chunk file, 128 KiB reads of a
    # larger merged chunk hit the cache
    assert usr1["cache_misses"] >= 1
    assert usr1["cache_hits"] + usr1["cache_misses"] >= 1


def parts_file(archive, times, seed):
    """`archive`/big.nc: v(t, 256, 512) float32, deflate + shuffle, one 512 KiB chunk per
    time step, every one different (stale bytes would show); returns v as netCDF4 reads it."""
    import netCDF4
    import numpy as np

    archive.mkdir()
    rng = np.random.default_rng(seed)
    with netCDF4.Dataset(archive / "big.nc", "w") as ds:
        for name, n in (("t", times), ("y", 256), ("x", 512)):
            ds.createDimension(name, n)
        v = ds.createVariable("v", "f4", ("t", "y", "x"), zlib=True, shuffle=True,
                              chunksizes=(1, 256, 512))
        for i in range(times):
            v[i] = (i + rng.standard_normal((256, 512))).astype("f4")
    return xr.open_dataset(archive / "big.nc", engine="netcdf4")["v"].values


def test_decoded_chunks_made_in_recycled_memory_are_exact(tmp_path):
    """A decoded store three times the cache, read one chunk at a time: every chunk evicted
    frees its memory for the next one made (the summary counts the reuses), and what xarray
    reads is the file's, bit for bit."""
    import numpy as np
    import zarr

    archive = tmp_path / "archive"
    want = parts_file(archive, 192, seed=7)
    log = tmp_path / "daemon.log"
    with foreground(archive, "--log-file", str(log), "--index-dir", "none", "--chunks",
                    "decoded", "--cache-size", str(32 << 20)) as (p, mnt):
        # one chunk in the making at a time: an evicted chunk's memory always finds room
        # in the budget (with several, it may be freed instead: the bound comes first)
        with zarr.config.set({"async.concurrency": 1}):
            got = xr.open_zarr(mnt / "big.zarr", chunks=None)["v"].values
        assert np.array_equal(got, want)
    usage = summaries(log.read_text())[-1]
    # 24 stacked chunks of 4 MiB (an eighth of the cache); the first 6 fill the cache
    assert usage["read_errors"] == 0 and usage["cache_misses"] == 24, usage
    assert usage["chunk_buffers_reused"] >= 12, usage


def test_a_read_inside_an_uncached_decoded_chunk_decodes_only_its_parts(tmp_path):
    """The kernel refills a hole in its page cache (pages it dropped) with a read in the
    middle of a chunk file: the daemon decodes the parts of the stacked chunk that read covers,
    not all of them, and the bytes are the file's, within a part and across two."""
    archive = tmp_path / "archive"
    want = parts_file(archive, 32, seed=11)
    part = 256 * 512 * 4
    log = tmp_path / "daemon.log"
    # a 32 MiB cache stacks 8 parts of 512 KiB into a chunk of 4 MiB: 4 chunk files
    with foreground(archive, "--log-file", str(log), "--index-dir", "none", "--chunks",
                    "decoded", "--cache-size", str(32 << 20)) as (p, mnt):
        chunk = mnt / "big.zarr" / "v" / "1.0.0"
        raw = want[8:16].astype("<f4").tobytes()
        assert chunk.stat().st_size == len(raw) == 8 * part
        fd = os.open(chunk, os.O_RDONLY)
        try:
            for at in (5 * part + 1000, 3 * part - 2000):  # inside part 5; across parts 2, 3
                assert os.pread(fd, 4096, at) == raw[at:at + 4096], at
            usage = summary_now(p, log)
            # the kernel's first window may reach a neighbouring part, never all eight
            assert 3 <= usage["chunk_parts_made"] <= 5, usage
            assert usage["cache_misses"] == usage["chunk_parts_made"], "no whole chunk made"
            whole = b"".join(os.pread(fd, 1 << 20, at) for at in range(0, len(raw), 1 << 20))
        finally:
            os.close(fd)
        assert whole == raw
        usage = summary_now(p, log)
        assert usage["cache_misses"] == usage["chunk_parts_made"] + 1, usage
        # the edges of parts, in another chunk: a read from a part's first byte, one ending on
        # its last, two bytes across a boundary, the chunk's last bytes
        raw = want[16:24].astype("<f4").tobytes()
        fd = os.open(mnt / "big.zarr" / "v" / "2.0.0", os.O_RDONLY)
        try:
            for at, n in ((6 * part, 4096), (2 * part - 4096, 4096), (4 * part - 1, 2),
                          (8 * part - 3, 3), (part + 8191, 8193)):
                assert os.pread(fd, n, at) == raw[at:at + n], (at, n)
        finally:
            os.close(fd)
        usage = summary_now(p, log)
        assert usage["read_errors"] == 0, usage


def test_a_chunk_failing_on_every_read_is_logged_once(tmp_path):
    """A corrupt compressed chunk fails each read (EIO) in decoded mode; the log says so once
    (per file and cause, per 5 minutes), the summary counts every failure."""
    import h5py

    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(FIXTURES / "tas_day.nc", archive / "bad.nc")
    with h5py.File(archive / "bad.nc") as f:
        info = f["tas"].id.get_chunk_info_by_coord((0, 0, 0))
    with open(archive / "bad.nc", "r+b") as f:
        f.seek(info.byte_offset)
        f.write(b"\xff" * min(info.size, 64))  # not a zlib stream any more
    log = tmp_path / "daemon.log"
    with foreground(archive, "--log-file", str(log), "--index-dir", "none",
                    "--chunks", "decoded", "--decoded-chunk-size", "0") as (p, mnt):
        chunk = mnt / "bad.zarr" / "tas" / "0.0.0"
        for _ in range(5):
            with pytest.raises(OSError) as e:
                chunk.read_bytes()
            assert e.value.errno == errno.EIO
        assert (mnt / "bad.zarr" / "tas" / "0.0.1").read_bytes()  # the others are fine
        p.send_signal(signal.SIGUSR1)
        for _ in range(100):
            if [s for s in summaries(log.read_text()) if s["when"] == "SIGUSR1"]:
                break
            time.sleep(0.05)
    text = log.read_text()
    failed = [l for l in text.splitlines() if "read failed" in l]
    assert len(failed) == 1 and "bad.nc" in failed[0] and "suppressed=0" in failed[0], text
    usr1 = [s for s in summaries(text) if s["when"] == "SIGUSR1"][0]
    assert usr1["read_errors"] >= 5, usr1


def test_readiness_is_reported_to_systemd(tmp_path):
    """With $NOTIFY_SOCKET set (systemd, Type=notify) the daemon sends READY=1 once the mount
    is usable and STOPPING=1 when asked to stop."""
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(30)
    env = daemon_env({"NOTIFY_SOCKET": str(sock_path)})
    with foreground(FIXTURES, "--index-dir", "none", env=env) as (p, mnt):
        assert sock.recv(64) == b"READY=1"
        assert "groups.zarr" in os.listdir(mnt)
        p.send_signal(signal.SIGTERM)
        assert sock.recv(64) == b"STOPPING=1"
        assert p.wait(timeout=20) == 0
    sock.close()


# --- systemd unit ------------------------------------------------------------------------------

def test_systemd_unit_verifies_and_its_commands_work(tmp_path):
    text = UNIT.read_text()
    if shutil.which("systemd-analyze"):
        # verify the instance as installed, with the built binary where the unit looks it up
        unit_dir = tmp_path / "units"
        unit_dir.mkdir()
        (unit_dir / "cloudify-mount@example.service").write_text(
            text.replace("ExecStart=cloudify-mount", f"ExecStart={BIN}"))
        r = subprocess.run(["systemd-analyze", "verify",
                            str(unit_dir / "cloudify-mount@example.service")],
                           capture_output=True, text=True)
        assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    s = unit_settings(text)
    assert s["Type"] == ["notify"] and s["EnvironmentFile"] == ["/etc/cloudify-mount/%i.conf"]
    # options that give the service a mount namespace would hide the mount from the host
    namespacing = {"ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
                   "ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths", "BindPaths",
                   "BindReadOnlyPaths", "TemporaryFileSystem", "PrivateMounts", "ProtectProc",
                   "ProcSubset", "ProtectKernelTunables", "ProtectKernelModules",
                   "ProtectKernelLogs", "ProtectControlGroups", "CacheDirectory",
                   "StateDirectory", "LogsDirectory", "RuntimeDirectory", "DynamicUser",
                   "PrivateUsers", "RootDirectory", "MountFlags"}
    assert not namespacing & set(s), namespacing & set(s)
    assert "--foreground" in s["ExecStart"][0]
    # Run the unit's command lines as systemd would (no systemd here): the example config with
    # test paths, the capability bounding set and no_new_privs applied with setpriv.
    env = env_file(EXAMPLE_CONF)
    assert set(env) == {"ARCHIVE", "MOUNTPOINT", "OPTIONS"}
    env.update(ARCHIVE=str(FIXTURES), MOUNTPOINT=str(tmp_path / "mnt"),
               OPTIONS=env["OPTIONS"] + " --index-dir none")
    caps = ",".join("+" + c.lower().removeprefix("cap_")
                    for c in s["CapabilityBoundingSet"][0].split())
    setpriv = ["setpriv", "--no-new-privs", f"--bounding-set=-all,{caps}"]
    for pre in s.get("ExecStartPre", []):
        subprocess.run(expand(pre, env, "example"), check=True)
    start = expand(s["ExecStart"][0], env, "example")
    assert start[0] == "cloudify-mount"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(30)
    journal = tmp_path / "journal"  # the daemon's stderr, as systemd would collect it
    with open(journal, "w") as err:
        p = subprocess.Popen([*setpriv, str(BIN), *start[1:]], stderr=err,
                             env=daemon_env({"NOTIFY_SOCKET": str(tmp_path / "notify.sock")}))
    try:
        assert sock.recv(64) == b"READY=1"
        assert b"HDF5_PLUGIN_PATH=" not in Path(f"/proc/{p.pid}/environ").read_bytes()
        mnt = Path(env["MOUNTPOINT"])
        assert mount_entry(mnt)[0] in ("fuse", "fuse.cloudify")
        want = xr.open_dataset(FIXTURES / "tas_day.nc", engine="netcdf4")
        xr.testing.assert_allclose(xr.open_zarr(mnt / "tas_day.zarr").tas.load(), want.tas.load())
        p.send_signal(signal.SIGUSR1)
        for _ in range(100):
            if 'when="SIGUSR1"' in journal.read_text():
                break
            time.sleep(0.05)
        for stop in s["ExecStop"]:
            subprocess.run(expand(stop, env, "example"), check=True)
        assert p.wait(timeout=20) == 0
        assert not mounted_at(mnt)
        assert 'when="SIGUSR1"' in journal.read_text()
    finally:
        if p.poll() is None:
            p.kill()
        unmount(tmp_path / "mnt")
        sock.close()


# --- mount(8) and fstab ---------------------------------------------------------------------------

@pytest.fixture
def mount_helper():
    """scripts/mount.cloudify installed as /sbin/mount.cloudify for the test."""
    target = Path("/sbin/mount.cloudify")
    if target.exists():
        pytest.skip(f"{target} exists already: not replacing an installed helper")
    shutil.copy(HELPER, target)
    target.chmod(0o755)
    try:
        yield daemon_env({"CLOUDIFY_MOUNT": str(BIN)})
    finally:
        target.unlink()


def test_fstab_line_mounts_through_the_helper(tmp_path, mount_helper):
    env = mount_helper
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    log = tmp_path / "daemon.log"
    fstab = tmp_path / "fstab"
    fstab.write_text(
        f"# test fstab\n{FIXTURES} {mnt} cloudify "
        f"defaults,allow_other,nodev,chunks=decoded,index_dir=none,log_file={log},_netdev 0 0\n")
    r = subprocess.run(["mount", "--fstab", str(fstab), str(mnt)], env=env,
                       capture_output=True, text=True, timeout=60)
    try:
        assert r.returncode == 0, r.stderr
        assert mount_entry(mnt)[1] == str(FIXTURES)  # fsname: the archive, as fstab says
        # chunks=decoded reached the daemon
        zarray = json.loads((mnt / "tas_day.zarr" / "tas" / ".zarray").read_text())
        assert zarray["compressor"] is None
        want = xr.open_dataset(FIXTURES / "tas_day.nc", engine="netcdf4")
        xr.testing.assert_allclose(xr.open_zarr(mnt / "tas_day.zarr").tas.load(), want.tas.load())
        # mount -a sees the line as mounted (the kernel's source is the archive's path)
        r = subprocess.run(["mount", "--fstab", str(fstab), "-a", "-v"], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "already mounted" in r.stdout + r.stderr
        assert "mounted" in log.read_text()
    finally:
        r = subprocess.run(["umount", str(mnt)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not mounted_at(mnt)
    # the daemon ends with its mount
    for _ in range(100):
        if not daemons_serving(mnt):
            break
        time.sleep(0.05)
    assert not daemons_serving(mnt)


def test_mount_t_cloudify_and_bad_options(tmp_path, mount_helper):
    env = mount_helper
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "cloudify", str(FIXTURES), str(mnt), "-o",
                        "ro,index_dir=none,no_stac"], env=env, capture_output=True, text=True,
                       timeout=60)
    try:
        assert r.returncode == 0, r.stderr
        names = os.listdir(mnt)
        assert "groups.zarr" in names and "catalog.json" not in names
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)
    assert not mounted_at(mnt)
    for opts, says in [("bogus_option", "unknown mount option 'bogus_option'"),
                       ("chunks=sideways", "invalid value 'sideways'"),
                       ("ready_fd=3", "unknown mount option 'ready_fd=3'")]:
        r = subprocess.run(["mount", "-t", "cloudify", str(FIXTURES), str(mnt), "-o", opts],
                           env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and says in r.stderr, (opts, r.stderr)
        assert not mounted_at(mnt)
