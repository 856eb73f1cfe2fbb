"""P9 (issue 20): `cloudify serve` over loopback, side by side with the servers a data centre
would otherwise run, in one run:

- raw store: `open_zarr(url).load()` of the 512 MiB store through `cloudify serve` vs nginx
  serving a local copy of the same store (target <= 1.2x its time);
- decoded: `open_zarr(url/datasets/big/zarr).load()` (cloudify's `/zarr` route) vs xpublish with
  xpublish-zarr serving `open_dataset(file, chunks={})` (target >= 5x faster);
- 32 concurrent clients (wrk, 2 threads) fetching the store's chunk files for 10 s: requests/s
  and p99 latency of `cloudify serve` vs nginx (reported; the issue sets no target).

P13 (issue 22, `p13_plot`): a PNG map of a 1°-global field drawn by the server, per request
(target <= 200 ms).

Imported by scripts/bench.py, which passes its helpers (`b`): WORK, CLOUDIFY, Mount, record,
rounds, medians, timed, warm, QUICK.
"""
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import xarray as xr

XPUBLISH = """
import sys, xarray as xr, xpublish
ds = xr.open_dataset(sys.argv[1], engine="netcdf4", chunks={})
ds.rest.serve(host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""

# wrk: every thread walks the chunk paths in turn, from its own starting point
WRK_SCRIPT = """
local paths = {%s}
local i = 0
setup = function(thread) thread:set("start", math.random(#paths)) end
init = function(args) i = start end
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_answering(url, proc, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextlib.contextmanager
def running(args, url_probe, **kw):
    p = subprocess.Popen(args, **kw)
    try:
        wait_answering(url_probe, p)
        yield p
    finally:
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@contextlib.contextmanager
def cloudify(b, archive, *args):
    log = b.WORK / f"serve-{time.monotonic_ns()}.log"
    p = subprocess.Popen([str(b.CLOUDIFY), "serve", str(archive), "--listen", "127.0.0.1:0",
                          "--index-dir", str(b.WORK / "index"), "--log-file", str(log), *args],
                         stdout=subprocess.PIPE, text=True)
    try:
        m = re.match(r"listening on (http://\S+)", p.stdout.readline())
        if not m:
            raise RuntimeError(f"cloudify serve did not start; log: {log.read_text()}")
        yield m.group(1)
    finally:
        p.terminate()
        p.wait(timeout=60)


@contextlib.contextmanager
def nginx(b, root):
    """nginx serving `root` as static files (sendfile, 2 workers, no access log)."""
    prefix = Path(tempfile.mkdtemp(prefix="nginx-", dir=b.WORK))
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
daemon off; user root; worker_processes auto; pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  default_type application/octet-stream;
  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
""")
    url = f"http://127.0.0.1:{port}"
    with running(["nginx", "-p", str(prefix), "-c", str(conf)], url + "/big.zarr/.zgroup"):
        yield url


@contextlib.contextmanager
def xpublish(nc):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-c", XPUBLISH, str(nc), str(port)], url + "/zarr/zarr.json"):
        yield url


def wrk(url, paths, seconds):
    """(requests/s, p99 latency in ms) of 32 connections on 2 threads for `seconds`."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT % ", ".join(f'"{p}"' for p in paths))
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    script.unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    p99_ms = float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk on {url}: {errors.group(1)} error responses")
    return rps, p99_ms


def p9_http(b, big_dir):
    big = big_dir / "big.nc"
    # the local copy nginx serves: the same store, copied out of a mount
    local = b.WORK / "local9"
    with b.Mount(big_dir) as m:
        shutil.copytree(m.mnt / "big.zarr", local / "big.zarr")
    store = local / "big.zarr"
    chunks = sorted("/big.zarr/v/" + p.name for p in (store / "v").iterdir() if not p.name.startswith("."))
    n = 3 if b.QUICK else 5
    with cloudify(b, big_dir) as ours, nginx(b, local) as theirs:
        def load(url):
            b.warm(big)
            b.warm(store)
            return b.timed(lambda: xr.open_zarr(url).load())

        load(ours + "/big.zarr")  # the server's index, made once (the mount's P1a measures cold)
        per_round = b.rounds(n, lambda: load(ours + "/big.zarr"), lambda: load(theirs + "/big.zarr"))
        t_ours, t_nginx, r = b.medians(per_round, lambda o, t: o / t)
        b.record("P9", "serve raw: open_zarr(url).load() vs nginx, local copy", t_ours, t_nginx,
                 "s", "<= 1.20x", r, r <= 1.2)
        seconds = 5 if b.QUICK else 10
        wrk(ours, chunks, 2)  # warm
        wrk(theirs, chunks, 2)
        per_round = b.rounds(n, lambda: wrk(ours, chunks, seconds), lambda: wrk(theirs, chunks, seconds))
        rps_ours = sorted(o[0] for o, _ in per_round)[len(per_round) // 2]
        rps_nginx = sorted(t[0] for _, t in per_round)[len(per_round) // 2]
        p99_ours = sorted(o[1] for o, _ in per_round)[len(per_round) // 2]
        p99_nginx = sorted(t[1] for _, t in per_round)[len(per_round) // 2]
        r = sorted(o[0] / t[0] for o, t in per_round)[len(per_round) // 2]
        b.record("P9", "serve: 32 clients fetching chunks, requests/s vs nginx", rps_ours, rps_nginx,
                 "r/s", "(reported)", r, None)
        b.record("P9", "serve: 32 clients fetching chunks, p99 latency vs nginx", p99_ours, p99_nginx,
                 "ms", "(reported)", p99_ours / p99_nginx, None)
    # decoded: a fresh server of each kind a round (started untimed), so that neither answers
    # from chunks it decoded in an earlier round
    def load_decoded():
        b.warm(big)
        with cloudify(b, big_dir) as ours:
            return b.timed(lambda: xr.open_zarr(ours + "/datasets/big/zarr").load())

    def load_xpublish():
        b.warm(big)
        with xpublish(big) as theirs:
            return b.timed(lambda: xr.open_zarr(theirs + "/zarr", zarr_format=3).load())

    per_round = b.rounds(3, load_decoded, load_xpublish)
    t_ours, t_xp, r = b.medians(per_round, lambda o, t: t / o)
    b.record("P9", "serve decoded /zarr vs xpublish-zarr open_dataset(file)", t_ours, t_xp,
             "s", ">= 5x faster", r, r >= 5)
    shutil.rmtree(local)


def p13_plot(b):
    """Issue 22: a map of a 1°-global field (360 × 180, deflated float32) drawn by the server as
    PNG, each round another time step (no cached image), the dataset indexed first."""
    import netCDF4
    import numpy as np
    arch = b.WORK / "glob"
    arch.mkdir()
    with netCDF4.Dataset(arch / "glob.nc", "w") as ds:
        for name, n in (("time", 12), ("lat", 180), ("lon", 360)):
            ds.createDimension(name, n)
        t = ds.createVariable("time", "f8", ("time",))
        t.units, t.calendar = "days since 2000-01-01", "standard"
        t[:] = np.arange(12) * 30.0
        lat = ds.createVariable("lat", "f4", ("lat",))
        lat.units = "degrees_north"
        lat[:] = np.arange(-89.5, 90, 1.0)
        lon = ds.createVariable("lon", "f4", ("lon",))
        lon.units = "degrees_east"
        lon[:] = np.arange(0.5, 360, 1.0)
        v = ds.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, complevel=4)
        v.units, v.long_name = "K", "near-surface air temperature"
        y, x = np.meshgrid(np.radians(lat[:]), np.radians(lon[:]), indexing="ij")
        for i in range(12):
            v[i] = (250 + 40 * np.cos(y) + 5 * np.sin(3 * x + i)).astype("f4")
    with cloudify(b, arch) as url:
        urllib.request.urlopen(f"{url}/datasets/glob/keys").read()
        times = []
        for i in range(12):
            t = time.perf_counter()
            body = urllib.request.urlopen(f"{url}/datasets/glob/plot/tas/map/viridis/time/{i}_{i + 1}").read()
            times.append(time.perf_counter() - t)
            assert body[:4] == b"\x89PNG"
    times.sort()
    median = times[len(times) // 2]
    b.record("P13", "serve: PNG map of a 1°-global field (request, cold image)", median, 0.2,
             "s", "<= 0.2 s", median / 0.2, median <= 0.2)
    shutil.rmtree(arch)
