"""P12 (issue 23): a first read of one variable by 8 concurrent dask threads, decoded mode,
daemon cold (a fresh mount a round, the source page-cached): does the daemon's decoding use
every core? Measured from /proc/PID/stat: the daemon's CPU time over the wall time of the load
(cores busy decoding), beside the client's own CPU time (the reader shares the cores).

Two stores of the same deflate + shuffle file (P1's `big.nc`, source chunks (1, 256, 512),
512 KiB decoded):
- source chunks (`--decoded-chunk-size 0`): every Zarr chunk one source chunk, dask tasks of
  16 time steps (each task reads 32 chunk files);
- stacked chunks (the default 16 MiB): every Zarr chunk 32 source chunks, one dask task each.

Target: daemon CPU >= 0.9 of the machine's cores (1.8 of 2) while the load runs.

The dask client decodes nothing but still takes most of a core (its graph, 8 threads copying
and concatenating) on a machine of two, so beside it the same first read of the stacked store
by 8 `cat` readers (a chunk file each at a time, into /dev/null: the client's cost is the
kernel's copy) shows what the daemon's decoding takes when the client leaves the cores to it.

Imported by scripts/bench.py, which passes its helpers (`b`): Mount, record, rounds, medians,
warm, cpu_seconds, QUICK.
"""
import os
import resource
import statistics
import subprocess
import threading
import time

import dask
import xarray as xr


def client_cpu():
    """User + system CPU of this process (the dask threads reading) so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def runnable_threads(pid):
    """How many threads of process `pid` are running or waiting for a CPU now."""
    n = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/stat") as f:
                n += f.read().rsplit(") ", 1)[1][0] == "R"
        except (OSError, IndexError):
            pass  # a decoding thread that ended
    return n


class Sampler:
    """The daemon while a load runs, sampled every 5 ms: its CPU time and its runnable
    threads. The decoding is the span in which its CPU time grows (the load's wall time also
    holds the client's graph building and its concatenation of the results, with the daemon
    idle); runnable threads show what it would use on an idle machine (on a busy one its CPU
    time is what it got)."""

    def __init__(self, b, pid):
        self.b, self.pid, self.samples, self.stop = b, pid, [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def sample(self):
        self.samples.append((time.perf_counter(), self.b.cpu_seconds(self.pid),
                             runnable_threads(self.pid)))

    def run(self):
        while not self.stop.wait(0.005):
            self.sample()

    def __enter__(self):
        self.sample()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.sample()

    def decoding(self):
        """The samples from the one before the daemon's CPU time first grew to the one where
        it last did."""
        cpu0, cpu1 = self.samples[0][1], self.samples[-1][1]
        if cpu1 <= cpu0:
            return self.samples  # no decoding seen: the whole load
        first = max(0, next(i for i, s in enumerate(self.samples) if s[1] > cpu0) - 1)
        last = next(i for i, s in enumerate(self.samples) if s[1] >= cpu1)
        return self.samples[first:last + 1]

    def span(self):
        """Seconds the daemon was decoding."""
        span = self.decoding()
        return span[-1][0] - span[0][0]

    def busy_cores(self):
        """The daemon's CPU time over the span it was decoding."""
        span = self.decoding()
        return (span[-1][1] - span[0][1]) / max(1e-9, span[-1][0] - span[0][0])

    def wanting(self, cores):
        """Share of the decoding span in which at least `cores` daemon threads could run."""
        span = self.decoding()
        return sum(s[2] >= cores for s in span) / len(span)


def first_load(b, big_dir, extra, chunks):
    """One first read through a fresh mount: (wall s, daemon CPU s, client CPU s, daemon
    cores busy while decoding, share of that span with a runnable daemon thread per core,
    the span in s)."""
    cores = len(os.sched_getaffinity(0))
    b.warm(big_dir / "big.nc")
    with b.Mount(big_dir, "--chunks", "decoded", *extra) as m:
        ds = xr.open_zarr(m.mnt / "big.zarr", chunks=chunks)
        d0, c0, t0 = b.cpu_seconds(m.pid), client_cpu(), time.perf_counter()
        with dask.config.set(scheduler="threads", num_workers=8), Sampler(b, m.pid) as s:
            ds["v"].load()
        wall = time.perf_counter() - t0
        return (wall, b.cpu_seconds(m.pid) - d0, client_cpu() - c0, s.busy_cores(),
                s.wanting(cores), s.span())


def cat_first_read(b, big_dir):
    """The first read of the stacked store's chunk files by 8 `cat` processes through a fresh
    mount: (wall s, daemon CPU s, client CPU s (the cats'), daemon cores busy while decoding,
    share of that span with a runnable daemon thread per core, the span in s)."""
    cores = len(os.sched_getaffinity(0))
    b.warm(big_dir / "big.nc")
    with b.Mount(big_dir, "--chunks", "decoded") as m:
        files = sorted(str(p) for p in (m.mnt / "big.zarr" / "v").iterdir()
                       if not p.name.startswith("."))
        d0, t0 = b.cpu_seconds(m.pid), time.perf_counter()
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        with Sampler(b, m.pid) as s:
            subprocess.run(["xargs", "-0", "-n", "1", "-P", "8", "cat"], check=True,
                           input="\0".join(files).encode(), stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        client = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
        return (wall, b.cpu_seconds(m.pid) - d0, client, s.busy_cores(), s.wanting(cores),
                s.span())


def p12_parallel_decode(b, big_dir):
    cores = len(os.sched_getaffinity(0))
    want = 0.9 * cores
    n = 3 if b.QUICK else 5
    stores = (("source chunks", ("--decoded-chunk-size", "0"), {"t": 16}),
              ("stacked chunks", (), {}))
    loads = [lambda e=e, c=c: first_load(b, big_dir, e, c) for _, e, c in stores]
    per_round = b.rounds(n, *loads, lambda: cat_first_read(b, big_dir))
    readers = [f"8 dask threads, first read, {label}" for label, _, _ in stores]
    readers.append("8 cat readers, first read, stacked chunks")
    for k, label in enumerate(readers):
        runs = [r[k] for r in per_round]
        med = lambda f: statistics.median(f(*r) for r in runs)
        wall, daemon = med(lambda w, d, c, x, y, z: w), med(lambda w, d, c, x, y, z: d)
        client, busy = med(lambda w, d, c, x, y, z: c / w), med(lambda w, d, c, x, y, z: x)
        load_busy, wanting = med(lambda w, d, c, x, y, z: d / w), med(lambda w, d, c, x, y, z: y)
        span = med(lambda w, d, c, x, y, z: z)
        print(f"P12: {label}: {wall:.3f} s (daemon CPU {daemon:.3f} s, {load_busy:.2f} "
              f"cores over the load; client {client:.2f} cores); decoding {span:.3f} s of it: "
              f"{busy:.2f} cores, {cores}+ daemon threads runnable {100 * wanting:.0f}% of it",
              flush=True)
        b.record("P12", f"{label}: cores decoding", busy, cores,
                 "core", f">= {want:.1f} cores", busy / cores, busy >= want)
