"""P11 (issue 21): publishing a many-file archive to an object store, Zarr v2 raw vs v3 sharded.

An archive of `n` small yearly files (`make_collections.many_small`, the P8 data: one joined
store beside the members' own stores) is mounted as Zarr v2 (raw chunks) and as Zarr v3 with
the default shards, and each mount is published with `rclone sync` (the flags of
docs/PUBLISHING.md) to SeaweedFS on loopback (tests/python/objstore.py). Baseline: the same
`rclone sync` of the source files themselves. Per layout: objects and bytes written, the wall
time of the first sync and of a re-sync that transfers nothing; then a dask.distributed
LocalCluster (2 worker processes) computes the joined `tas`'s time mean from the published
store, against the same computation over the source files (open_mfdataset, netCDF4) on the
same cluster. Called by scripts/bench.py (`--only P11`); nothing is asserted but that each
sync copied every file and each re-sync none, and that the two means are equal."""
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))
sys.path.insert(0, str(ROOT / "scripts"))
import make_collections  # noqa: E402
import objstore  # noqa: E402

LAYOUTS = {"v2 raw": (), "v3 sharded": ("--zarr-format", "3")}
MF = dict(combine="nested", concat_dim="time", data_vars="minimal", coords="minimal",
          compat="override", join="exact", engine="netcdf4")


def mib(n):
    return n / (1 << 20)


def timed_sync(s3, src, prefix):
    t = time.perf_counter()
    sync = s3.sync(src, prefix)
    return time.perf_counter() - t, sync


def p11_publish(n_files, work, mount, record, warm, n_rounds):
    """`mount(archive, *args)` is bench.py's Mount; `record` its row printer."""
    reason = objstore.available()
    if reason:
        print(f"P11: left out ({reason})", flush=True)
        return
    arch = work / "publish"
    made = make_collections.many_small(arch, n_files)
    files = [str(f) for f in made[make_collections.stem("tas")]]
    store = make_collections.stem("tas") + ".zarr"
    src_bytes = sum(Path(f).stat().st_size for f in files)
    print(f"P11: {n_files} files, {mib(src_bytes):.1f} MiB", flush=True)
    s3 = objstore.ObjectStore()
    try:
        warm(arch)
        base_t, base = timed_sync(s3, arch, "source")
        if base.transfers != n_files:
            raise RuntimeError(f"source sync copied {base.transfers} of {n_files} files")
        base_re, _ = timed_sync(s3, arch, "source")

        for name, args in LAYOUTS.items():
            prefix = name.replace(" ", "-")
            with mount(arch, *args) as m:
                n_mount = sum(1 for p in m.mnt.rglob("*") if p.is_file())
                first_t, first = timed_sync(s3, m.mnt, prefix)
                if first.transfers != n_mount or first.stats["errors"]:
                    raise RuntimeError(f"{name}: sync copied {first.transfers} of {n_mount}")
                resyncs = [timed_sync(s3, m.mnt, prefix) for _ in range(n_rounds)]
                if any(sync.transfers for _, sync in resyncs):
                    raise RuntimeError(f"{name}: a re-sync copied files: {resyncs}")
                re_t = statistics.median(t for t, _ in resyncs)
            objects = s3.objects(prefix)
            n_obj, n_bytes = len(objects), sum(objects.values())
            agg = objects_of(objects, store)
            record("P11", f"{name}: objects published (all stores + STAC) / source files",
                   n_obj, n_files, "obj", "(context)", n_obj / n_files, True)
            record("P11", f"  {name}: of which the joined store", agg[0], n_files, "obj",
                   "(context)", agg[0] / n_files, True)
            record("P11", f"  {name}: MiB published / source MiB", mib(n_bytes), mib(src_bytes),
                   "MiB", "(context)", n_bytes / src_bytes, True)
            record("P11", f"  {name}: first rclone sync vs sync of the source files", first_t,
                   base_t, "s", "(context)", first_t / base_t, True)
            record("P11", f"  {name}: re-sync, nothing to transfer, vs the source's", re_t,
                   base_re, "s", "(context)", re_t / base_re, True)

            ours_t, src_t = dask_means(s3.s3_url(f"{prefix}/{store}"), s3.storage_options(),
                                       3 if "v3" in name else 2, files, n_rounds)
            record("P11", f"  {name}: dask 2 workers, tas time mean from S3 vs source files",
                   ours_t, src_t, "s", "(context)", src_t / ours_t, True)
    finally:
        s3.stop()
        shutil.rmtree(arch, ignore_errors=True)


def dask_means(url, storage_options, zarr_format, files, n_rounds):
    """Median seconds of the joined `tas`'s time mean on a LocalCluster of 2 worker processes:
    from the published store, and from the source files (open_mfdataset, netCDF4), in
    alternating rounds; the two results checked equal. In a fresh interpreter (this file as a
    script): the workers re-import the main module, and bench.py's would bring h5py's libhdf5
    beside netCDF4's into them."""
    import json
    import subprocess
    args = json.dumps(dict(url=url, storage_options=storage_options, zarr_format=zarr_format,
                           files=files, n_rounds=n_rounds))
    r = subprocess.run([sys.executable, "-W", "ignore", __file__], input=args, text=True,
                       capture_output=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(f"dask means failed: {r.stderr[-3000:]}")
    out = json.loads(r.stdout.splitlines()[-1])
    return statistics.median(out["ours"]), statistics.median(out["src"])


def _dask_means_main(spec):
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, host="127.0.0.1")
    client = Client(cluster)
    # every worker keeps all source files open (xarray closes and reopens beyond 128, and
    # netCDF4 reads then failed: "Can't open HDF5 attribute", libhdf5 segfaults)
    client.run(lambda: xr.set_options(file_cache_maxsize=4 * len(spec["files"])) and None)

    def ours():
        ds = xr.open_zarr(spec["url"], storage_options=spec["storage_options"],
                          zarr_format=spec["zarr_format"])
        return ds.tas.astype("f8").mean("time").compute()

    def src():
        ds = xr.open_mfdataset(spec["files"], **MF)  # opened here, read in the workers
        return ds.tas.astype("f8").mean("time").compute()

    times, results = {"ours": [], "src": []}, {}
    for i in range(spec["n_rounds"]):  # alternating: ours first, then the source first, ...
        order = [("ours", ours), ("src", src)]
        for key, fn in (order[::-1] if i % 2 else order):
            t = time.perf_counter()
            results[key] = fn()
            times[key].append(time.perf_counter() - t)
    np.testing.assert_allclose(results["ours"].values, results["src"].values, rtol=1e-12)
    client.close()
    cluster.close()
    return times


def objects_of(objects, store):
    """(count, bytes) of the objects of one store."""
    mine = [size for key, size in objects.items() if key.startswith(store + "/")]
    return len(mine), sum(mine)


if __name__ == "__main__":
    import json
    print(json.dumps(_dask_means_main(json.loads(sys.stdin.read()))))
