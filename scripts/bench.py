"""cloudify-mount benchmarks (issues #4, #17, #20, #21 and #22). Run through scripts/bench.

Every scenario measures the mount and its baseline in the same run, on data made here with
a seeded generator, source files page-cached first. Mount and baseline alternate round by
round (A B, B A, ...) and a ratio is the median of the per-round ratios: this VM has slow
spells of seconds to minutes that would otherwise land on one side only.

    scripts/bench [--quick] [--only P8[,P3,...]]

--quick: smaller data, fewer rounds (a smoke run). --only: run only the named scenarios
(P1a, P1b, P2, P4 and P6 share their data and run together; P1 names P1a and P1b; the v3
rows P2v3 (with P1a3 and the floor rows) and P1b3 run alone when no v2 row is named; P12,
decoding on every core, is in scripts/bench_decode.py).
The binaries must be built (scripts/bench builds them; `.venv/bin/python scripts/bench.py`
runs the measurements alone).
"""
import json
import os
import platform
import random
import signal
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import netCDF4
import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
# CLOUDIFY_BENCH_BIN: another build of the daemon (a binary before a change, measured alone)
BIN = Path(os.environ.get("CLOUDIFY_BENCH_BIN", ROOT / "target" / "release" / "cloudify-mount"))
CLOUDIFY = ROOT / "target" / "release" / "cloudify"
FLOOR = ROOT / "target" / "release" / "examples" / "fuse_floor"
QUICK = "--quick" in sys.argv
# --passthrough-cache of the rows that measure it: room for every file of the store
PASSTHROUGH = "2G"
SCENARIOS = ["P1a", "P1b", "P2", "P2v3", "P1b3", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "P11", "P12", "P13"]


def only_arg():
    """The scenarios named by `--only A,B` (or `--only=A,B`); None: all."""
    for i, a in enumerate(sys.argv):
        if a == "--only" or a.startswith("--only="):
            value = a.split("=", 1)[1] if "=" in a else (sys.argv[i + 1] if i + 1 < len(sys.argv) else "")
            names = {n.strip().lower() for n in value.split(",") if n.strip()}
            names |= {"p1a", "p1b"} if "p1" in names else set()
            names.discard("p1")
            unknown = names - {n.lower() for n in SCENARIOS}
            if not names or unknown:
                sys.exit(f"--only: name scenarios among {', '.join(SCENARIOS)} (got {value!r})")
            return names
    return None


ONLY = only_arg()


def selected(*ids):
    return ONLY is None or any(i.lower() in ONLY for i in ids)


WORK = Path(tempfile.mkdtemp(prefix="cloudify-bench-"))
RESULTS = []
rng = np.random.default_rng(4)


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def median_time(fn, n=3):
    return statistics.median(timed(fn) for _ in range(n))


def rounds(n, *fns):
    """Run the measurements `fns` in `n` rounds, alternating their order (A B, B A, ...) so
    that the VM's slow spells hit every one of them; per round, the times of each."""
    out = []
    for i in range(n):
        order = list(enumerate(fns)) if i % 2 == 0 else list(enumerate(fns))[::-1]
        times = {k: fn() for k, fn in order}
        out.append([times[k] for k in range(len(fns))])
    return out


def show_rounds(names, per_round):
    """Print every round's times (issue 23: where a ratio swings, which side moved)."""
    for i, r in enumerate(per_round):
        print(f"     round {i + 1}: " + ", ".join(f"{n} {t:.3f} s" for n, t in zip(names, r)),
              flush=True)


def medians(per_round, ratio):
    """Median of each measurement over the rounds, and the median of the per-round ratios."""
    cols = list(zip(*per_round))
    return [statistics.median(c) for c in cols] + [statistics.median(ratio(*r) for r in per_round)]


def warm(path):
    for p in Path(path).rglob("*") if Path(path).is_dir() else [Path(path)]:
        if p.is_file():
            with open(p, "rb") as f:
                while f.read(1 << 22):
                    pass


class Mount:
    def __init__(self, archive, *args):
        self.mnt = Path(tempfile.mkdtemp(prefix="mnt-", dir=WORK))
        self.args = [str(BIN), str(archive), str(self.mnt), "--index-dir", str(WORK / "index"),
                     "--log-file", str(self.mnt) + ".log", *args]

    def __enter__(self):
        subprocess.run(self.args, check=True)
        out = subprocess.run(["pgrep", "-f", f"cloudify-mount .* {self.mnt} "], capture_output=True, text=True)
        self.pid = int(out.stdout.split()[0]) if out.stdout.split() else None
        return self

    def __exit__(self, *exc):
        subprocess.run(["fusermount3", "-u", str(self.mnt)], check=False)
        # the daemon finishes (index writes, exit) before the next measurement starts; an
        # exited daemon may stay a zombie for a while (its parent, init, reaps it)
        deadline = time.monotonic() + 30
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.005)

    def running(self):
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().rsplit(") ", 1)[1][0] != "Z"
        except (OSError, IndexError, TypeError):
            return False

    def peak_rss_mib(self):
        return self.status_mib("VmHWM")

    def rss_mib(self):
        return self.status_mib("VmRSS")

    def status_mib(self, field):
        for line in open(f"/proc/{self.pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return float("nan")


def record(pid, scenario, measured, baseline, unit, target, ratio, ok):
    RESULTS.append(dict(id=pid, scenario=scenario, measured=measured, baseline=baseline, unit=unit,
                        target=target, ratio=ratio, met=ok))
    print(f"{pid:4} {scenario:58} {measured:9.3f} {baseline:9.3f} {unit:4} ratio {ratio:6.2f}  "
          f"target {target:18} {'' if ok is None else 'met' if ok else 'MISSED'}", flush=True)


def make_big(path, mib):
    """float32 (t, 512, 512), deflate 4 + shuffle, chunks (1, 256, 512): the issue's case."""
    nt = max(1, mib * (1 << 20) // (512 * 512 * 4))
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("t", nt)
        ds.createDimension("y", 512)
        ds.createDimension("x", 512)
        v = ds.createVariable("v", "f4", ("t", "y", "x"), zlib=True, complevel=4, shuffle=True,
                              chunksizes=(1, 256, 512))
        base = np.sin(np.arange(512 * 512).reshape(512, 512) / 1000.0)
        for i in range(nt):
            v[i] = (base * 100 + i + rng.standard_normal((512, 512))).astype("f4")


def p1_p2_p4_p6(big_dir):
    big = big_dir / "big.nc"
    warm(big)
    # This VM pages out file pages idle for about a minute (DAMON "pageout" scheme), so every
    # timed read is preceded by an untimed warm-up of what it reads: page-cached, as stated.
    def load_nc():
        warm(big)
        return timed(lambda: xr.open_dataset(big, engine="netcdf4").load())

    # P1a: raw mode vs the same store copied to local disk
    with Mount(big_dir) as m:
        local = WORK / "local"
        shutil.copytree(m.mnt / "big.zarr", local / "big.zarr")
        warm(local)
        def local_read():
            warm(local)
            return timed(lambda: xr.open_zarr(local / "big.zarr").load())

        def mount_read():
            # a fresh mount each round: every byte comes through the daemon (source page-cached)
            warm(big)
            with Mount(big_dir) as fresh:
                return timed(lambda: xr.open_zarr(fresh.mnt / "big.zarr").load())

        per_round = rounds(5, mount_read, local_read)
        show_rounds(("mount", "local copy"), per_round)
        mnt_t, loc_t, r = medians(per_round, lambda mt, lt: mt / lt)
        record("P1a", "raw: open_zarr(fresh mount).load() vs local copy (time)", mnt_t, loc_t, "s",
               "<= 1.10x", r, r <= 1.10)
        # P2: cat every chunk file (warm) vs cat of the source
        cat_chunks = lambda: subprocess.run(f"cat {m.mnt}/big.zarr/v/* > /dev/null", shell=True, check=True)
        cat_src = lambda: subprocess.run(["cat", str(big)], stdout=subprocess.DEVNULL, check=True)
        warm_cat = lambda cat: (cat(), timed(cat))[1]  # warm: the first cat fills the caches
        per_round = rounds(5, lambda: warm_cat(cat_chunks), lambda: warm_cat(cat_src))
        chunks_t, src_t, r = medians(per_round, lambda ct, st: st / ct)
        record("P2", "raw: cat every chunk file vs cat source (speed)", chunks_t, src_t, "s",
               ">= 0.6x speed", r, r >= 0.6)
        v2_files = sum(1 for p in (m.mnt / "big.zarr").rglob("*") if p.is_file())
    shutil.rmtree(WORK / "local")
    if selected("P2v3", "P1b3"):
        p_v3(big_dir, v2_files)

    # P1b: decoded mode vs netCDF4, first read (daemon cold) and re-read, a fresh mount a round
    def decoded_first_and_again():
        warm(big)
        with Mount(big_dir, "--chunks", "decoded") as m:
            load = lambda: timed(lambda: xr.open_zarr(m.mnt / "big.zarr").load())
            return load(), load()

    # the floor (issue 23): the same decoded store copied to local disk (page-cached)
    local_b = WORK / "local-decoded"
    with Mount(big_dir, "--chunks", "decoded") as m:
        shutil.copytree(m.mnt / "big.zarr", local_b / "big.zarr")

    def local_decoded():
        warm(local_b)
        return timed(lambda: xr.open_zarr(local_b / "big.zarr").load())

    def fuse_floor_first():
        # the FUSE floor of a first read: the local copy's bytes through a fresh FUSE mount
        # that does nothing else (its page cache filled as the mount's is, nothing decoded)
        warm(local_b)
        with Floor(local_b / "big.zarr", content=True) as f:
            return timed(lambda: xr.open_zarr(f.mnt).load())

    def decoded_with_copies():
        # the re-read served from --passthrough-cache's copies (admitted by the second read:
        # a file is copied, in the background, at the open after it was read in full)
        warm(big)
        with Mount(big_dir, "--chunks", "decoded", "--passthrough-cache", PASSTHROUGH) as m:
            load = lambda: timed(lambda: xr.open_zarr(m.mnt / "big.zarr").load())
            load()
            load()
            copies_filled(m)
            return load()

    per_round = [[nc, loc, *mine, cached, ff] for nc, loc, mine, cached, ff in
                 rounds(5, load_nc, local_decoded, decoded_first_and_again, decoded_with_copies,
                        fuse_floor_first)]
    shutil.rmtree(local_b)
    nc, loc, first, again, pt_again, ff, r_first = medians(per_round,
                                                          lambda n, lc, f, a, pa, ff: n / f)
    r_again = statistics.median(r[0] / r[3] for r in per_round)
    show_rounds(("netCDF4", "local copy", "first read", "re-read", "re-read, copies",
                 "FUSE floor"), per_round)
    record("P1b", "decoded: open_zarr(mount).load() first read vs netCDF4", first, nc, "s",
           ">= 2x faster", r_first, r_first >= 2)
    record("P1b", "decoded: open_zarr(mount).load() re-read vs netCDF4", again, nc, "s",
           ">= 4x faster", r_again, r_again >= 4)
    r = statistics.median(r[2] / r[1] for r in per_round)
    record("P1b", "(floor) first read vs the store copied to local disk", first, loc, "s",
           "<= 1.5x", r, r <= 1.5)
    r = statistics.median(r[2] / r[5] for r in per_round)
    record("P1b", "(floor) first read vs the local copy through FUSE (fuse_floor)", first, ff,
           "s", "<= 1.5x", r, r <= 1.5)
    r = statistics.median(r[3] / r[1] for r in per_round)
    record("P1b", "(floor) re-read vs the store copied to local disk", again, loc, "s",
           "<= 1.05x", r, r <= 1.05)
    r = statistics.median(r[4] / r[1] for r in per_round)
    record("P1b", "(floor) re-read, --passthrough-cache, vs the local copy", pt_again, loc, "s",
           "<= 1.05x", r, r <= 1.05)
    # P4: two readers on two datasets at once vs one reader (decoded, re-read: daemon + FUSE)
    shutil.copy(big, big_dir / "big2.nc")
    warm(big_dir / "big2.nc")
    # readers are started and imported first, then released together: only loads are timed
    reader = ("import sys, xarray as xr\n"
              "sys.stdin.readline()\n"
              "xr.open_zarr(sys.argv[1], chunks=None).load()\n"
              "print('done', flush=True)\n")

    def readers(paths):
        ps = [subprocess.Popen([sys.executable, "-c", reader, str(p)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True) for p in paths]
        time.sleep(3)  # imports
        t = time.perf_counter()
        for p in ps:
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in ps:
            assert p.stdout.readline().strip() == "done"
            p.wait()
        return time.perf_counter() - t

    with Mount(big_dir, "--chunks", "decoded") as m:
        readers([m.mnt / "big.zarr", m.mnt / "big2.zarr"])  # warm the daemon's cache and the kernel's
        def warm_readers(paths):
            for p in (m.mnt / "big.zarr", m.mnt / "big2.zarr"):
                warm(p)
            return readers(paths)

        per_round = rounds(5, lambda: warm_readers([m.mnt / "big.zarr"]),
                           lambda: warm_readers([m.mnt / "big.zarr", m.mnt / "big2.zarr"]))
        show_rounds(("one reader", "two readers"), per_round)
        one, both, agg = medians(per_round, lambda o, b: 2 * o / b)
        record("P4", "two readers, two datasets vs one (aggregate throughput)", both, one, "s",
               ">= 1.6x", agg, agg >= 1.6)
        # the floor: the same two decoded stores copied to local disk (page-cached), read by
        # the same readers: what two clients reading memory get from this machine's cores
        local4 = WORK / "local4"
        for name in ("big.zarr", "big2.zarr"):
            shutil.copytree(m.mnt / name, local4 / name)
    stores = [local4 / "big.zarr", local4 / "big2.zarr"]

    def warm_local(paths):
        for p in stores:
            warm(p)
        return readers(paths)

    per_round = rounds(5, lambda: warm_local(stores[:1]), lambda: warm_local(stores))
    show_rounds(("one reader, local copy", "two readers, local copies"), per_round)
    one_l, both_l, agg_l = medians(per_round, lambda o, b: 2 * o / b)
    record("P4", "(floor) the same on local copies (aggregate throughput)", both_l, one_l, "s",
           "(reported)", agg_l, None)
    shutil.rmtree(local4)
    (big_dir / "big2.nc").unlink()
    # P6: peak RSS reading a dataset 10x the cache size (decoded chunks are cached)
    size_mib = big.stat().st_size / (1 << 20)
    decoded_mib = 512 * 512 * 4 * netCDF4.Dataset(big).dimensions["t"].size / (1 << 20)
    cache_mib = max(4, int(decoded_mib / 10))
    with Mount(big_dir, "--chunks", "decoded", "--cache-size", str(cache_mib << 20)) as m:
        xr.open_zarr(m.mnt / "big.zarr", chunks=None).load()
        rss = m.peak_rss_mib()
        record("P6", f"peak RSS reading {decoded_mib:.0f} MiB, cache {cache_mib} MiB", rss,
               cache_mib + 64, "MiB", "<= cache + 64 MiB", rss / (cache_mib + 64), rss <= cache_mib + 64)
    # the same read twice with --passthrough-cache: the copies are files, not the daemon's memory
    with Mount(big_dir, "--chunks", "decoded", "--cache-size", str(cache_mib << 20),
               "--passthrough-cache", PASSTHROUGH) as m:
        for _ in range(2):
            xr.open_zarr(m.mnt / "big.zarr", chunks=None).load()
        copies_filled(m)
        rss = m.peak_rss_mib()
        record("P6", f"  the same, read twice, --passthrough-cache {PASSTHROUGH}", rss,
               cache_mib + 64, "MiB", "<= cache + 64 MiB", rss / (cache_mib + 64), rss <= cache_mib + 64)
    return size_mib


def daemon_summary(m, *names):
    """Fields `names` of the daemon's SIGUSR1 summary line, as ints."""
    log = Path(str(m.mnt) + ".log")
    before = log.read_text().count(" summary ")
    os.kill(m.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [l for l in log.read_text().splitlines() if " summary " in l]
        if len(lines) > before:
            return tuple(int(lines[-1].split(f" {n}=")[1].split()[0]) for n in names)
        time.sleep(0.01)
    raise RuntimeError("no summary from the daemon")


def daemon_counters(m):
    """The daemon's FUSE reads and bytes served so far."""
    return daemon_summary(m, "reads", "bytes_served")


def copies_filled(m, seconds=120):
    """Until the passthrough copies the daemon admitted are filled (its filler threads write
    them after the opens that admitted them) and written back to disk: a read timed next is
    one from the copies, not one beside the kernel writing them out."""
    deadline = time.monotonic() + seconds
    while daemon_summary(m, "copies_filling")[0]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"copies not filled after {seconds} s")
        time.sleep(0.02)
    os.sync()


def cpu_seconds(pid):
    """User + system CPU of process `pid` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_cat(paths):
    """`cat paths > /dev/null`: wall time and cat's own CPU."""
    t = time.perf_counter()
    p = subprocess.Popen(["cat", *map(str, paths)], stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if status:
        raise RuntimeError(f"cat failed: {status}")
    return time.perf_counter() - t, ru.ru_utime + ru.ru_stime


def drop_pages(paths):
    """Drop the kernel's cached pages of `paths` (a FUSE file's then come from the daemon)."""
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)


class Floor:
    """examples/fuse_floor.rs serving the tree of `store` (files read as zeros, or with
    `content` as the files of `store`: FUSE without the daemon's work), mounted."""

    def __init__(self, store, content=False):
        self.content = [str(store)] if content else []
        self.listing = WORK / "floor-tree.bin"
        with open(self.listing, "wb") as out:
            subprocess.run(["find", str(store), "-mindepth", "1", "-printf", "%y %s %P\\0"],
                           stdout=out, check=True)
        self.mnt = Path(tempfile.mkdtemp(prefix="floor-", dir=WORK))

    def __enter__(self):
        threads = str(min(32, max(16, 4 * len(os.sched_getaffinity(0)))))
        self.p = subprocess.Popen([str(FLOOR), str(self.listing), str(self.mnt), threads,
                                   *self.content], stdout=subprocess.PIPE, text=True)
        if self.p.stdout.readline().strip() != "ready":
            raise RuntimeError("fuse_floor did not mount")
        return self

    def __exit__(self, *exc):
        subprocess.run(["fusermount3", "-u", str(self.mnt)], check=False)
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()


def p_v3(big_dir, v2_files):
    """Issue 19: P1a, P2 and P1b on sharded v3 mounts (default 256 MiB shards), the number of
    files of the store in v2 and v3, and P2's mechanism: FUSE requests, bytes per request,
    daemon and `cat` CPU, beside the FUSE floor serving the same files."""
    big = big_dir / "big.nc"
    v3 = ("--zarr-format", "3")
    if selected("P2v3"):
        p2_v3(big_dir, v2_files)
    if selected("P1b3"):
        # P1b in v3: decoded chunks in shards, a fresh mount a round
        def load_nc():
            warm(big)
            return timed(lambda: xr.open_dataset(big, engine="netcdf4").load())

        def decoded_first_and_again():
            warm(big)
            with Mount(big_dir, "--chunks", "decoded", *v3) as m:
                load = lambda: timed(lambda: xr.open_zarr(m.mnt / "big.zarr", zarr_format=3).load())
                return load(), load()

        # the floor: the same decoded v3 store copied to local disk (page-cached), read by
        # zarr-python 3: what the client's own sharding path costs with no daemon at all
        local3 = WORK / "local3"
        with Mount(big_dir, "--chunks", "decoded", *v3) as m:
            shutil.copytree(m.mnt / "big.zarr", local3 / "big.zarr")

        def local_read():
            warm(local3)
            return timed(lambda: xr.open_zarr(local3 / "big.zarr", zarr_format=3).load())

        def decoded_with_copies():
            # --passthrough-cache: the first read by FUSE reads (a shard is copied at the
            # open after it was read in full), the second makes the copies, the third is
            # served from them
            warm(big)
            with Mount(big_dir, "--chunks", "decoded", *v3, "--passthrough-cache",
                       PASSTHROUGH) as m:
                load = lambda: timed(lambda: xr.open_zarr(m.mnt / "big.zarr", zarr_format=3).load())
                first = load()
                load()
                copies_filled(m)
                return first, load()

        per_round = [[nc, loc, *mine, *cached] for nc, loc, mine, cached in
                     rounds(5, load_nc, local_read, decoded_first_and_again, decoded_with_copies)]
        nc, loc, first, again, pt_first, pt_again, r_first = medians(
            per_round, lambda n, lc, f, a, pf, pa: n / f)
        r_again = statistics.median(r[0] / r[3] for r in per_round)
        r_floor = statistics.median(r[2] / r[1] for r in per_round)
        r_local = statistics.median(r[0] / r[1] for r in per_round)
        r_pt_first = statistics.median(r[0] / r[4] for r in per_round)
        r_pt_again = statistics.median(r[0] / r[5] for r in per_round)
        shutil.rmtree(local3)
        record("P1b3", "v3 decoded shards: open_zarr(mount).load() first vs netCDF4", first, nc, "s",
               ">= 2x faster", r_first, r_first >= 2)
        record("P1b3", "v3 decoded shards: re-read vs netCDF4", again, nc, "s",
               ">= 4x faster", r_again, r_again >= 4)
        record("P1b3", "(floor) first read vs the store copied to local disk (time)", first, loc,
               "s", "(reported)", r_floor, None)
        r_floor_again = statistics.median(r[3] / r[1] for r in per_round)
        record("P1b3", "(floor) re-read vs the store copied to local disk (time)", again, loc,
               "s", "(reported)", r_floor_again, None)
        record("P1b3", "(floor) local copy read by zarr 3 vs netCDF4 (speed)", loc, nc, "s",
               "(reported)", r_local, None)
        record("P1b3", "--passthrough-cache: first read (nothing copied) vs netCDF4", pt_first, nc,
               "s", "(reported)", r_pt_first, None)
        record("P1b3", "--passthrough-cache: re-read (from the copies) vs netCDF4", pt_again, nc,
               "s", ">= 4x faster", r_pt_again, r_pt_again >= 4)
        r_pt_floor = statistics.median(r[5] / r[1] for r in per_round)
        record("P1b3", "(floor) re-read from the copies vs the local copy (time)", pt_again, loc,
               "s", "(reported)", r_pt_floor, None)


def p2_v3(big_dir, v2_files):
    big = big_dir / "big.nc"
    v3 = ("--zarr-format", "3")
    with Mount(big_dir, *v3) as m:
        store = m.mnt / "big.zarr"
        files = sorted(str(p) for p in store.rglob("*") if p.is_file())
        print(f"     files of the store: v2 {v2_files}, v3 sharded {len(files)}", flush=True)
        local = WORK / "local3"
        shutil.copytree(store, local / "big.zarr")

        def local_read():
            warm(local)
            return timed(lambda: xr.open_zarr(local / "big.zarr", zarr_format=3).load())

        def mount_read():
            warm(big)
            with Mount(big_dir, *v3) as fresh:
                return timed(lambda: xr.open_zarr(fresh.mnt / "big.zarr", zarr_format=3).load())

        per_round = rounds(5, mount_read, local_read)
        mnt_t, loc_t, r = medians(per_round, lambda mt, lt: mt / lt)
        record("P1a3", "v3 sharded: open_zarr(fresh mount).load() vs local copy", mnt_t, loc_t,
               "s", "<= 1.10x", r, r <= 1.10)
        shutil.rmtree(local)
        # P2v3 as before (a warm-up cat, then the timed cat), with the FUSE reads the timed
        # cat made and its CPU (the kernel's page-cache reads), beside the source's
        counts, cpu = [], {"files": [], "src": [], "floor": []}

        def warm_cat(name, paths, pid=None):
            run_cat(paths)
            r0 = daemon_counters(m)[0] if pid else 0
            t, c = run_cat(paths)
            if pid:
                counts.append(daemon_counters(m)[0] - r0)
            cpu[name].append(c)
            return t

        per_round = rounds(5, lambda: warm_cat("files", files, m.pid), lambda: warm_cat("src", [big]))
        files_t, src_t, r = medians(per_round, lambda ft, st: st / ft)
        record("P2v3", "v3 sharded: cat every file of the store vs cat source", files_t, src_t,
               "s", ">= 0.9x speed", r, r >= 0.9)
        files_cpu, src_cpu = statistics.median(cpu["files"]), statistics.median(cpu["src"])
        print(f"     timed cats: FUSE reads {counts}; cat CPU {files_cpu:.3f} s (store) vs "
              f"{src_cpu:.3f} s (source)", flush=True)
        # the same with --passthrough-cache: two cats first (FUSE reads, then the copies
        # made), then the rounds as above (a warm-up cat, then the timed cat)
        cpu["cached"] = []
        with Mount(big_dir, *v3, "--passthrough-cache", PASSTHROUGH) as pm:
            pfiles = [pm.mnt / Path(f).relative_to(m.mnt) for f in files]
            t_first, _ = run_cat(pfiles)
            t_copy, _ = run_cat(pfiles)
            copies_filled(pm)
            print(f"     --passthrough-cache: first cat {t_first:.3f} s, second (copies made) "
                  f"{t_copy:.3f} s", flush=True)
            pcounts = []

            def cached_cat():
                run_cat(pfiles)
                r0 = daemon_counters(pm)[0]
                t, c = run_cat(pfiles)
                pcounts.append(daemon_counters(pm)[0] - r0)
                cpu["cached"].append(c)
                return t

            per_round = rounds(5, cached_cat, lambda: warm_cat("src", [big]))
            pt_t, src_t2, r = medians(per_round, lambda ft, st: st / ft)
            record("P2v3", "v3 sharded, --passthrough-cache: cat every file vs cat source",
                   pt_t, src_t2, "s", ">= 0.9x speed", r, r >= 0.9)
            print(f"     timed cats: FUSE reads {pcounts}; cat CPU "
                  f"{statistics.median(cpu['cached']):.3f} s (store, passthrough)", flush=True)
        # the same cat with the store's pages dropped first: every byte through the daemon
        # (requests, bytes per request, daemon CPU), beside the floor serving the same files
        with Floor(store) as floor:
            floor_files = [floor.mnt / Path(f).relative_to(store) for f in files]
            cold = {"mount": [], "floor": []}

            def cold_cat(name, paths, m=None):
                drop_pages(paths)
                warm(big)
                before = (daemon_counters(m), cpu_seconds(m.pid)) if m else None
                t, _ = run_cat(paths)
                if m:
                    (r1, b1), c1 = daemon_counters(m), cpu_seconds(m.pid)
                    (r0, b0), c0 = before
                    cold[name].append((r1 - r0, (b1 - b0) / max(1, r1 - r0), c1 - c0))
                return t

            per_round = rounds(5, lambda: cold_cat("mount", files, m),
                               lambda: cold_cat("floor", floor_files))
            cold_t, floor_t, r = medians(per_round, lambda mt, ft: mt / ft)
            record("P2v3", "  (context) cold cat of the store: mount vs FUSE floor", cold_t,
                   floor_t, "s", "(reported)", r, True)
            reads = statistics.median(c[0] for c in cold["mount"])
            kib = statistics.median(c[1] for c in cold["mount"]) / 1024
            dcpu = statistics.median(c[2] for c in cold["mount"])
            print(f"     cold cat: {reads:.0f} FUSE reads of {kib:.0f} KiB, daemon CPU {dcpu:.3f} s",
                  flush=True)
            per_round = rounds(5, lambda: warm_cat("floor", floor_files), lambda: warm_cat("src", [big]))
            ft, st, r = medians(per_round, lambda ft, st: st / ft)
            record("P2v3", "  (context) warm cat: FUSE floor's files vs source (speed)", ft, st,
                   "s", "(reported)", r, True)
            print(f"     warm cat CPU: floor's files {statistics.median(cpu['floor']):.3f} s",
                  flush=True)


def indexing_seconds(m):
    """Sums of the daemon's "indexed" log lines: the indexing alone (index_us) and the whole
    first load (us: indexing, persisting the index, rendering the Zarr metadata)."""
    index = load = 0
    for line in Path(str(m.mnt) + ".log").read_text().splitlines():
        if " indexed " in line and " us=" in line:
            index += int(line.split(" index_us=")[1].split()[0])
            load += int(line.split(" us=")[1].split()[0])
    return index / 1e6, load / 1e6


def joined_seconds(m):
    """The daemon's time to make a joined store (its "collection joined ... us=" log line:
    getting every member's index, indexed or read back, and joining them)."""
    return sum(int(line.split(" us=")[1].split()[0]) for line in
               Path(str(m.mnt) + ".log").read_text().splitlines()
               if "collection joined" in line and " us=" in line) / 1e6


def p3_many_files(n_files):
    arch = WORK / "many"
    arch.mkdir()
    for i in range(n_files):
        with netCDF4.Dataset(arch / f"f{i:05d}.nc", "w") as ds:
            ds.createDimension("t", 4)
            ds.createDimension("y", 20)
            v = ds.createVariable("v", "f4", ("t", "y"), zlib=True, chunksizes=(1, 20))
            v[:] = np.full((4, 20), i, "f4")
            w = ds.createVariable("w", "i2", ("y",))
            w[:] = np.arange(20, dtype="i2")
    warm(arch)
    pick = random.Random(3).sample(range(n_files), 100)
    shutil.rmtree(WORK / "index", ignore_errors=True)

    def mount_find_open(m):
        subprocess.run(["find", str(m.mnt)], stdout=subprocess.DEVNULL, check=True)
        for i in pick:
            xr.open_zarr(m.mnt / f"f{i:05d}.zarr")

    def timed_mount(extra=()):
        warm(arch)
        t = time.perf_counter()
        with Mount(arch, *extra) as m:
            mount_find_open(m)
        return time.perf_counter() - t

    # 3 rounds of (cold, warm): cold starts without an index directory, warm reuses the
    # indexes the cold mount persisted; each the median of its rounds
    per_round = []
    for _ in range(1 if QUICK else 3):
        shutil.rmtree(WORK / "index", ignore_errors=True)
        per_round.append((timed_mount(), timed_mount()))
    cold = statistics.median(c for c, _ in per_round)
    warm_t = statistics.median(w for _, w in per_round)

    # the warm `find` alone beside the same tree served from memory by a FUSE file system
    # that does nothing else (examples/fuse_floor.rs): what this machine's FUSE costs any
    # fuser-based daemon, and what the daemon adds to it
    tree = WORK / "tree.bin"
    threads = str(min(32, max(16, 4 * len(os.sched_getaffinity(0)))))  # the daemon's default
    with Mount(arch) as m:
        with open(tree, "wb") as out:
            subprocess.run(["find", str(m.mnt), "-mindepth", "1", "-printf", "%y %s %P\\0"],
                           stdout=out, check=True)

    def find(mnt):
        return timed(lambda: subprocess.run(["find", str(mnt)], stdout=subprocess.DEVNULL,
                                            check=True))

    def find_mount():
        with Mount(arch, "--threads", threads) as m:
            return find(m.mnt)

    def find_floor():
        mnt = Path(tempfile.mkdtemp(prefix="floor-", dir=WORK))
        p = subprocess.Popen([str(FLOOR), str(tree), str(mnt), threads], stdout=subprocess.PIPE,
                             text=True)
        try:
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("fuse_floor did not mount")
            return find(mnt)
        finally:
            subprocess.run(["fusermount3", "-u", str(mnt)], check=False)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()

    find_t, floor_t, find_r = medians(rounds(1 if QUICK else 3, find_mount, find_floor),
                                      lambda a, b: a / b)
    # what the kernel asked each of them for during one such `find` (FUSE requests by opcode)
    import fuse_requests
    with Mount(arch, "--threads", threads) as m:
        ours_n = fuse_requests.count(m.mnt, ["find", str(m.mnt)])
    floor_mnt = Path(tempfile.mkdtemp(prefix="floor-", dir=WORK))
    p = subprocess.Popen([str(FLOOR), str(tree), str(floor_mnt), threads], stdout=subprocess.PIPE, text=True)
    try:
        floor_n = fuse_requests.count(floor_mnt, ["find", str(floor_mnt)]) if p.stdout.readline().strip() == "ready" else None
    finally:
        subprocess.run(["fusermount3", "-u", str(floor_mnt)], check=False)
        p.wait(timeout=30)
    for who, n in (("mount", ours_n), ("floor", floor_n)):
        shown = "not counted (needs root and tracefs)" if n is None else \
            f"{sum(n.values()) / n_files:.2f} per store, {dict(n.most_common())}"
        print(f"     FUSE requests of the warm find, {who}: {shown}", flush=True)

    # issue 19: the same warm `find` over a sharded v3 mount (a zarr.json per node, key
    # directories c/…) beside a v2 mount, and the entries each shows
    def find_format(*extra):
        with Mount(arch, "--threads", threads, *extra) as m:
            return find(m.mnt)

    v3_t, v2_t, r3 = medians(rounds(1 if QUICK else 3, lambda: find_format("--zarr-format", "3"),
                                    find_format), lambda a, b: a / b)
    for extra in ((), ("--zarr-format", "3")):
        with Mount(arch, *extra) as m:
            n = subprocess.run(["find", str(m.mnt)], capture_output=True, text=True).stdout.count("\n")
        with Mount(arch, "--threads", threads, *extra) as m:
            req = fuse_requests.count(m.mnt, ["find", str(m.mnt)])
        # a directory costs the kernel two READDIRPLUS (its entries, then the empty end): a v3
        # store has more of them (an array's chunk keys are c/0/0: a directory per level)
        shown = "" if req is None else f", FUSE requests per store {sum(req.values()) / n_files:.2f}"
        print(f"     entries found: {n} ({'v3' if extra else 'v2'}){shown}", flush=True)
    record("P3v3", "find: sharded v3 mount vs v2 mount (time)", v3_t, v2_t, "s", "(reported)",
           r3, True)

    # the daemon's memory follows the kernel's cache: the tree walked a quarter at a time with
    # the kernel's dentries and inodes dropped in between (their FORGETs empty the daemon's
    # inode table); the daemon's RSS after the last quarter vs after the first
    with Mount(arch) as m:
        stores = sorted(str(p) for p in m.mnt.iterdir() if p.suffix == ".zarr")
        rss = []
        for q in range(4):
            subprocess.run(["find", *stores[q::4]], stdout=subprocess.DEVNULL, check=True)
            rss.append(m.rss_mib())
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("2\n")
            time.sleep(1)

    def h5py_index():
        for i in pick:
            with h5py.File(arch / f"f{i:05d}.nc") as f:
                for name in ("v",):
                    f[name].id.chunk_iter(lambda info: None)

    def kerchunk_index():
        from kerchunk.hdf import SingleHdf5ToZarr
        for i in pick:
            SingleHdf5ToZarr(str(arch / f"f{i:05d}.nc")).translate()

    # the same 100 datasets indexed by the daemon (cold: no persisted index), read off its log
    shutil.rmtree(WORK / "index", ignore_errors=True)
    warm(arch)
    with Mount(arch) as m:
        for i in pick:
            os.listdir(m.mnt / f"f{i:05d}.zarr")
        ours, whole = indexing_seconds(m)
    h5 = median_time(h5py_index, n=1)
    kc = median_time(kerchunk_index, n=1)
    record("P3", f"{n_files} files: mount + find + open 100 (cold)", cold, 20, "s", "<= 20 s", cold / 20, cold <= 20)
    record("P3", f"{n_files} files: mount + find + open 100 (warm index)", warm_t, 2, "s", "<= 2 s", warm_t / 2, warm_t <= 2)
    record("P3", "  warm find alone vs the same tree from memory (floor)", find_t, floor_t, "s",
           "(context)", find_r, True)
    record("P3", "  walked in quarters, kernel caches dropped between: RSS", rss[-1], rss[0],
           "MiB", "(context)", rss[-1] / rss[0], True)
    record("P3", "index 100 files: daemon vs h5py chunk_iter", ours, h5, "s", ">= 5x faster", h5 / ours, h5 / ours >= 5)
    record("P3", "index 100 files: daemon vs kerchunk", ours, kc, "s", ">= 50x faster", kc / ours, kc / ours >= 50)
    record("P3", "  same, whole first load (+ persist, .zmetadata) vs h5py", whole, h5, "s", "(context)", h5 / whole, True)
    shutil.rmtree(arch)


def p5_szip():
    d = WORK / "szip"
    d.mkdir()
    # 128 MiB decoded (64 MiB with --quick): large enough that decoding, not fixed costs, counts
    n = 256 if QUICK else 512
    with h5py.File(d / "szip.h5", "w") as f:
        v = f.create_dataset("v", shape=(n, 256, 256), dtype="f4", chunks=(1, 256, 256),
                             compression="szip", compression_opts=("nn", 16))
        base = np.sin(np.arange(256 * 256).reshape(256, 256) / 1000.0)
        for i in range(n):
            v[i] = (base * 100 + i + rng.standard_normal((256, 256))).astype("f4")
    warm(d)
    def first_and_second():
        warm(d)
        with Mount(d) as m:
            load = lambda: timed(lambda: xr.open_zarr(m.mnt / "szip.zarr", chunks=None).load())
            return load(), load()

    per_round = [[h5, *mine] for h5, mine in
                 rounds(3, lambda: (warm(d), timed(lambda: h5py.File(d / "szip.h5")["v"][:]))[1],
                        first_and_second)]
    h5, first, second, r_first = medians(per_round, lambda h, f, s: h / f)
    r_second = statistics.median(f / s for _, f, s in per_round)
    record("P5", f"szip ({n * 256 * 256 * 4 >> 20} MiB): first load vs h5py (speed)", first, h5, "s", ">= 1.0x h5py", r_first, r_first >= 1.0)
    record("P5", "szip: second load (cache hit) vs first (speed)", second, first, "s", ">= 2x", r_second, r_second >= 2)


def p7_many_chunks():
    d = WORK / "chunks"
    d.mkdir()
    n = 100_000
    with h5py.File(d / "many_chunks.nc", "w") as f:  # v1 B-tree, as netCDF-4 writes it
        f.create_dataset("v", data=np.arange(n * 4, dtype="f4").reshape(n, 4), chunks=(1, 4))
    t = median_time(lambda: subprocess.run([str(CLOUDIFY), "inspect", str(d / "many_chunks.nc")],
                                           stdout=subprocess.DEVNULL, check=True))
    record("P7", f"index one variable with {n} chunks (cloudify inspect)", t, 1, "s", "<= 1 s", t, t <= 1)


def p8_collection(n_members):
    """Issue 17: one store joined from many small files along time. A fresh mount with an
    empty index directory (cold) and a remount with the indexes the cold mount persisted
    (warm), each timed reading the joined store's .zmetadata; beside them what a user does
    without the mount: xarray's open_mfdataset of the files, and kerchunk's references."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_collections

    arch = WORK / "collection"
    t = time.perf_counter()
    files = [str(f) for f in make_collections.many_small(arch, n_members)[make_collections.stem("tas")]]
    made = time.perf_counter() - t
    store = make_collections.stem("tas") + ".zarr"
    size_kib = sum(os.path.getsize(f) for f in files) / len(files) / 1024
    print(f"P8: {n_members} members of {size_kib:.0f} KiB made in {made:.1f} s", flush=True)
    n_rounds = 1 if QUICK else 3
    logs = []

    def read_zmetadata(m):
        out = {}
        t = timed(lambda: out.setdefault("m", (m.mnt / store / ".zmetadata").read_bytes()))
        meta = json.loads(out["m"])["metadata"]
        shape = meta["tas/.zarray"]["shape"]
        if shape[0] != 365 * n_members:  # not a timing: the store must be the whole set
            raise RuntimeError(f"{store}: tas shape {shape}, expected {365 * n_members} days")
        return t

    def ours():
        # cold: no persisted index; warm: a remount on what the cold mount persisted (the
        # daemon flushes its index writes before it exits, and Mount waits for that)
        shutil.rmtree(WORK / "index", ignore_errors=True)
        warm(arch)
        with Mount(arch) as m:
            cold = read_zmetadata(m)
        logs.append(m)
        warm(arch)
        with Mount(arch) as m:
            warm_t = read_zmetadata(m)
        logs.append(m)
        warm(arch)
        with Mount(arch) as m:
            oz = timed(lambda: xr.open_zarr(m.mnt / store, consolidated=True))
        logs.append(m)
        return cold, warm_t, oz

    def mfdataset():
        warm(arch)
        out = {}
        t = timed(lambda: out.setdefault("ds", xr.open_mfdataset(
            files, combine="nested", concat_dim="time", data_vars="minimal", coords="minimal",
            compat="override", join="exact", parallel=False)))
        out["ds"].close()
        return t

    # the variables without time, taken from the first file (as compat="override" does)
    identical = ["lat", "lon", "lat_bnds", "lon_bnds", "orog"]

    def kerchunk_refs(paths):
        from kerchunk.combine import MultiZarrToZarr
        from kerchunk.hdf import SingleHdf5ToZarr
        refs = [SingleHdf5ToZarr(p).translate() for p in paths]
        return MultiZarrToZarr(refs, concat_dims=["time"], identical_dims=identical,
                               remote_protocol="file").translate()

    try:
        kerchunk_refs(files[:3])
        kc_error = None
    except Exception as e:  # noqa: BLE001 - not installed, or fails on these files
        kc_error = f"{type(e).__name__}: {e}"
        print(f"P8: kerchunk left out ({kc_error})", flush=True)

    def kerchunk():
        warm(arch)
        return timed(lambda: kerchunk_refs(files))

    fns = [ours, mfdataset] + ([kerchunk] if kc_error is None else [])
    per_round = [[*mine, *rest] for mine, *rest in rounds(n_rounds, *fns)]
    cols = list(zip(*per_round))
    cold, warm_t, oz, mf = (statistics.median(c) for c in cols[:4])
    ratio = lambda i, j: statistics.median(r[j] / r[i] for r in per_round)
    cold_logs, warm_logs = logs[0::3], logs[1::3]
    index_s = statistics.median(indexing_seconds(m)[0] for m in cold_logs)
    join_cold = statistics.median(joined_seconds(m) for m in cold_logs)
    join_warm = statistics.median(joined_seconds(m) for m in warm_logs)
    notable = sorted({line.split(" ", 1)[1] if " " in line else line
                      for m in logs for line in Path(str(m.mnt) + ".log").read_text().splitlines()
                      if " WARN " in line or " ERROR " in line})
    record("P8", f"{n_members} files joined: cold .zmetadata (fresh mount, no index)", cold, 2, "s",
           "<= 2 s", cold / 2, cold <= 2)
    record("P8", f"{n_members} files joined: warm .zmetadata (remount, indexes kept)", warm_t, 0.2,
           "s", "<= 0.2 s", warm_t / 0.2, warm_t <= 0.2)
    record("P8", "  open_zarr(warm mount) vs open_mfdataset (open only)", oz, mf, "s",
           "(context)", ratio(2, 3), True)
    record("P8", "  cold .zmetadata vs open_mfdataset (open only)", cold, mf, "s", "(context)",
           ratio(0, 3), True)
    if kc_error is None:
        kc = statistics.median(cols[4])
        record("P8", "  cold .zmetadata vs kerchunk Single+MultiZarrToZarr", cold, kc, "s",
               "(context)", ratio(0, 4), True)
        record("P8", "  open_zarr(warm mount) vs kerchunk references", oz, kc, "s", "(context)",
               ratio(2, 4), True)
    else:
        RESULTS.append(dict(id="P8", scenario="kerchunk Single+MultiZarrToZarr", measured=None,
                            baseline=None, unit="s", target="(context)", ratio=None, met=True,
                            error=kc_error))
    record("P8", "  cold: the daemon's indexing of the members (index_us)", index_s, cold, "s",
           "(context)", index_s / cold, True)
    record("P8", "  cold: the daemon's whole join (log: collection joined)", join_cold, cold, "s",
           "(context)", join_cold / cold, True)
    record("P8", "  warm: the daemon's whole join (log: collection joined)", join_warm, warm_t,
           "s", "(context)", join_warm / warm_t, True)
    for line in notable[:10]:
        print(f"P8: mount log: {line}", flush=True)
    if len(notable) > 10:
        print(f"P8: mount log: ... {len(notable) - 10} more distinct warnings", flush=True)
    shutil.rmtree(arch)


def main():
    print(f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}")
    print(f"{'id':4} {'scenario':58} {'measured':>9} {'baseline':>9}")
    if selected("P1a", "P1b", "P2", "P2v3", "P1b3", "P4", "P6", "P9", "P12"):
        big_dir = WORK / "big"
        big_dir.mkdir()
        mib = 64 if QUICK else 512
        make_big(big_dir / "big.nc", mib)
        if selected("P1a", "P1b", "P2", "P4", "P6"):
            p1_p2_p4_p6(big_dir)  # the v3 rows too, when named
        elif selected("P2v3", "P1b3"):
            # only v3 rows named: the v2 store is mounted to count its files, nothing timed
            with Mount(big_dir) as m:
                v2_files = sum(1 for p in (m.mnt / "big.zarr").rglob("*") if p.is_file())
            p_v3(big_dir, v2_files)
        if selected("P12"):
            import bench_decode
            bench_decode.p12_parallel_decode(sys.modules[__name__], big_dir)
        if selected("P9"):
            import bench_http
            bench_http.p9_http(sys.modules[__name__], big_dir)
        shutil.rmtree(big_dir)
    if selected("P3"):
        p3_many_files(500 if QUICK else 10_000)
    if selected("P5"):
        p5_szip()
    if selected("P7"):
        p7_many_chunks()
    if selected("P8"):
        p8_collection(200 if QUICK else 1_000)
    if selected("P10"):
        import bench_derive
        bench_derive.p10(sys.modules[__name__])
    if selected("P13"):
        import bench_http
        bench_http.p13_plot(sys.modules[__name__])
    if selected("P11"):
        from bench_publish import p11_publish
        p11_publish(100 if QUICK else 1_000, WORK, Mount, record, warm, 1 if QUICK else 2)
    out = ROOT / "bench-results.json"
    out.write_text(json.dumps(dict(machine=dict(node=platform.node(), cores=os.cpu_count(),
                                                platform=platform.platform()),
                                   quick=QUICK, only=sorted(ONLY) if ONLY else None,
                                   results=RESULTS), indent=2))
    print("results written to", out)
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
