"""16 concurrent readers (8 threads, 8 processes) over every fixture for a bounded time, in
decoded mode with a small chunk cache (eviction under load): no error, no wrong byte, no
deadlock (each reader has a deadline), and the daemon's memory stays bounded."""
import random
import subprocess
import sys
import threading
import time

import numpy as np
import xarray as xr

from conftest import FIXTURES, mounted
from identity import ragged_objects
from test_fixtures import ENGINE, H5PY_ONLY, LEFT_OUT, NAMES, store_name

SECONDS = 8
READER = r"""
import random, sys, time
import numpy as np, xarray as xr
mnt, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
names = sys.argv[4:]
rnd = random.Random(seed)
end = time.time() + seconds
n = 0
while time.time() < end:
    name = rnd.choice(names)
    ds = xr.open_zarr(f"{mnt}/{name}", decode_cf=False, chunks=None)
    for v in ds.variables.values():
        np.asarray(v.values)
    n += 1
print("reads", n)
"""


def reference():
    """Raw values of every numeric variable, from the source files."""
    out = {}
    for name, path in NAMES.items():
        if name in H5PY_ONLY:  # netCDF-C cannot open it: no reference here
            continue
        ds = xr.open_dataset(path, engine=ENGINE.get(name, "netcdf4"), decode_cf=False)
        ds = ds.drop_vars(LEFT_OUT.get(name, {}).get("/", []), errors="ignore")
        out[store_name(name)] = {k: v.values for k, v in ds.load().variables.items()}
    return out


def test_sixteen_concurrent_readers():
    want = reference()
    names = sorted(want)
    errors = []
    counts = [0] * 8
    with mounted(FIXTURES, "--chunks", "decoded", "--cache-size", str(8 << 20),
                 "--contiguous-chunk-size", "20000", "--index-dir", "none") as mnt:
        procs = [subprocess.Popen([sys.executable, "-c", READER, str(mnt), str(SECONDS), str(i), *names],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(8)]

        def thread_reader(seed):
            rnd = random.Random(100 + seed)
            end = time.time() + SECONDS
            try:
                while time.time() < end:
                    name = rnd.choice(names)
                    ds = xr.open_zarr(mnt / name, decode_cf=False, chunks=None)
                    for k, v in ds.variables.items():
                        got = np.asarray(v.values)
                        if "cloudify_compound_of" in v.attrs:
                            continue  # a compound's member: no netCDF4 reference (test_compound)
                        if "sample_dimension" in v.attrs and k not in want[name]:
                            continue  # a vlen variable's counts: checked with its values
                        exp = want[name][k]
                        if "_cloudify_vlen_count" in v.attrs:  # a vlen variable's ragged pair
                            seqs = ragged_objects(got, ds[v.attrs["_cloudify_vlen_count"]].values)
                            if not (seqs.shape == exp.shape and all(
                                    np.array_equal(a, b) for a, b in zip(seqs.ravel(), exp.ravel()))):
                                errors.append(f"{name}/{k}: sequences differ")
                            continue
                        same = got.shape == exp.shape and (
                            np.array_equal(got, exp, equal_nan=got.dtype.kind == "f")
                            if got.dtype.kind in "fiu" else (got == exp).all())
                        if not same:
                            errors.append(f"{name}/{k}: values differ")
                    counts[seed] += 1
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                errors.append(f"thread {seed}: {e!r}")

        threads = [threading.Thread(target=thread_reader, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECONDS + 120)
            assert not t.is_alive(), "a reader is stuck (deadlock?)"
        for p in procs:
            out, err = p.communicate(timeout=SECONDS + 120)
            if p.returncode != 0:
                errors.append(f"process: {err[-2000:]}")
            assert out.startswith("reads ") and int(out.split()[1]) > 0
        pid = subprocess.run(["pgrep", "-f", f"cloudify-mount .* {mnt} "], capture_output=True,
                             text=True).stdout.split()
        assert pid, "the daemon died"
        rss_kib = next(int(l.split()[1]) for l in open(f"/proc/{pid[0]}/status") if l.startswith("VmHWM"))
    assert not errors, errors[:10]
    assert all(c > 0 for c in counts), counts
    assert rss_kib < 400 * 1024, f"daemon peak RSS {rss_kib / 1024:.0f} MiB"
