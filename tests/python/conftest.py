"""Real FUSE mounts for the tests: the built cloudify-mount binary, detached, unmounted in a guard."""
import atexit
import contextlib
import functools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target" / "debug" / "cloudify-mount"
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"
PY2 = ROOT / ".venv-zarr2" / "bin" / "python"  # zarr-python 2.18 readers
CLOUDIFY = ROOT / "target" / "debug" / "cloudify"
MODES = {"raw": (), "decoded": ("--chunks", "decoded")}
WATCH = 10  # seconds for the watcher to see a change (bounds a poll; a pass returns at once)


@functools.cache
def run_dir():
    """This test session's mountpoints and daemon logs: removed at its end if every test
    passed, kept (and named) for a look if one failed. Made at first use: processes that
    import this module without mounting anything (a test's worker processes) make none."""
    d = Path(tempfile.mkdtemp(prefix="cloudify-test-run-"))
    d.chmod(0o755)  # mounts with allow_other are reached by other users
    return d


@functools.cache
def index_dir():
    """The persisted indexes of this test session (never the user's ~/.cache), removed when
    the process that made it exits."""
    d = Path(tempfile.mkdtemp(prefix="cloudify-test-index-"))
    atexit.register(shutil.rmtree, d, ignore_errors=True)
    return d


def pytest_sessionfinish(session, exitstatus):
    """The run directory goes when the session passed and nothing is still mounted below it."""
    if run_dir.cache_info().currsize == 0:
        return
    d = run_dir()
    still_mounted = any(line.split()[4].startswith(str(d) + "/")
                        for line in open("/proc/self/mountinfo"))
    if exitstatus == 0 and not still_mounted:
        shutil.rmtree(d, ignore_errors=True)
    else:
        print(f"\nmountpoints and daemon logs of this session kept in {d}")


def poll(predicate, seconds):
    """`predicate()` until it is true or `seconds` pass; its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def daemon_env(extra=None):
    """The daemon's environment: this process's, without HDF5_PLUGIN_PATH, which importing
    netCDF4 sets to the plugins bundled with netCDF4-python (Blosc, zstd, ...): the daemon's
    libhdf5 would load them, which no daemon started outside the tests does."""
    env = {k: v for k, v in os.environ.items() if k != "HDF5_PLUGIN_PATH"}
    return {**env, **(extra or {})}


def unmount(mnt):
    for cmd in (["fusermount3", "-u", str(mnt)], ["umount", str(mnt)], ["umount", "-l", str(mnt)]):
        if subprocess.run(cmd, capture_output=True).returncode == 0:
            return


@contextlib.contextmanager
def mounted(archive, *args, env=None):
    """Mount `archive`, yield the mountpoint, always unmount. Logs land in <mnt>.log.
    `env`: extra environment variables for the daemon (and its workers)."""
    mnt = Path(tempfile.mkdtemp(prefix="mnt-", dir=run_dir()))
    log = Path(str(mnt) + ".log")
    if "--index-dir" not in args:
        args = ("--index-dir", str(index_dir()), *args)
    r = subprocess.run([str(BIN), str(archive), str(mnt), "--log-file", str(log), *args],
                       capture_output=True, text=True, timeout=60,
                       env=daemon_env(env))
    if r.returncode != 0:
        os.rmdir(mnt)
        raise RuntimeError(f"mount failed: {r.stderr}")
    try:
        yield mnt
    finally:
        unmount(mnt)
        with contextlib.suppress(OSError):
            os.rmdir(mnt)


@pytest.fixture(scope="session")
def fixtures_mount():
    # a small contiguous chunk target so that contiguous variables are split and padded
    with mounted(FIXTURES, "--contiguous-chunk-size", "20000") as mnt:
        yield mnt


@pytest.fixture(scope="session")
def fixtures_decoded_mount():
    with mounted(FIXTURES, "--contiguous-chunk-size", "20000", "--chunks", "decoded") as mnt:
        yield mnt


@pytest.fixture(scope="session")
def corpus_decoded_mount():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    with mounted(CORPUS, "--chunks", "decoded") as mnt:
        yield mnt


@pytest.fixture(scope="session")
def corpus_mount():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    with mounted(CORPUS) as mnt:
        yield mnt


def mounted_at(mnt):
    return any(line.split()[4] == str(mnt) for line in open("/proc/self/mountinfo"))


@contextlib.contextmanager
def foreground(archive, *args, env=None):
    """A --foreground daemon on a fresh mountpoint; yields (process, mountpoint)."""
    mnt = Path(tempfile.mkdtemp(prefix="mnt-", dir=run_dir()))
    p = subprocess.Popen([str(BIN), str(archive), str(mnt), "--foreground", *args],
                         stderr=subprocess.DEVNULL,
                         env={k: v for k, v in (env or daemon_env()).items()
                              if k != "HDF5_PLUGIN_PATH"})
    try:
        for _ in range(200):
            if mounted_at(mnt):
                break
            if p.poll() is not None:
                raise AssertionError(f"daemon exited with {p.returncode}")
            time.sleep(0.05)
        else:
            raise AssertionError("mount did not come up")
        yield p, mnt
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        unmount(mnt)
        with contextlib.suppress(OSError):
            os.rmdir(mnt)


def summaries(log):
    """The summary lines of a log, as dicts of their fields."""
    out = []
    for line in log.splitlines():
        if " summary " in line:
            fields = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
            out.append({k: v.strip('"') if v.startswith('"') else int(v) for k, v in fields.items()})
    return out


def summary_now(p, log):
    """The summary SIGUSR1 makes daemon `p` log in `log`, as a dict (the start line may come
    late)."""
    def answers():
        return [s for s in summaries(log.read_text()) if s["when"] == "SIGUSR1"]
    seen = len(answers())
    p.send_signal(signal.SIGUSR1)
    for _ in range(200):
        lines = answers()
        if len(lines) > seen:
            return lines[-1]
        time.sleep(0.02)
    raise AssertionError("no summary after SIGUSR1")


@contextlib.contextmanager
def served(archive, *args, env=None, log=None):
    """`cloudify serve archive` on a free loopback port: yield its base URL; SIGTERM and wait
    at the end (the server lets in-flight responses finish). Logs land in `log` (a temporary
    file unless given)."""
    log = log or Path(tempfile.mkstemp(prefix="serve-", suffix=".log", dir=run_dir())[1])
    if "--index-dir" not in args:
        args = ("--index-dir", str(index_dir()), *args)
    p = subprocess.Popen([str(CLOUDIFY), "serve", str(archive), "--listen", "127.0.0.1:0",
                          "--log-file", str(log), *args],
                         stdout=subprocess.PIPE, text=True, env=daemon_env(env))
    try:
        line = p.stdout.readline()
        m = re.match(r"listening on (http://\S+)", line)
        if not m:
            raise RuntimeError(f"serve did not start: {line!r}; log: {log.read_text()}")
        yield m.group(1)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
