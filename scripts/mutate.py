"""R2: mount malformed files beside healthy ones and read everything; the daemon must live on.

Makes N seeded mutants of the fixtures and corpus files (truncations, bit flips in headers and
anywhere, random blocks, zero-length files), mounts them with healthy copies, then reads every
mutant store (.zmetadata, every chunk file, the STAC item) and, every 50 mutants and at the end,
checks that the daemon is alive and that the healthy datasets still read identically with
xarray. Exit status 0 only if the daemon never died and no healthy dataset changed.

    .venv/bin/python scripts/mutate.py [--count 1000] [--seed 1] [--keep DIR]
"""
import argparse
import errno
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "target" / "debug" / "cloudify-mount"
CORPUS = ROOT.parent / "shared" / "corpus"
HEALTHY = ["tas_day.nc", "groups.nc", "netcdf3_classic.nc", "hdf5_library_filters.h5"]
MAX_SOURCE = 3 << 20  # bigger sources make every mutant slow to read; left out
PER_STORE_SECONDS = 5


def sources():
    files = [p for p in sorted((ROOT / "fixtures").rglob("*")) if p.is_file() and p.suffix != ".md"]
    if CORPUS.is_dir():
        files += [p for p in sorted(CORPUS.iterdir()) if p.is_file()
                  and p.suffix not in (".md", "") and p.name != "SHA256SUMS"]
    return [p for p in files if p.stat().st_size <= MAX_SOURCE]


def mutate(data: bytes, rng: random.Random):
    """One mutation of `data`; returns (kind, bytes)."""
    b = bytearray(data)
    kind = rng.choice(["truncate", "flip_header", "flip_any", "random_block", "ff_block",
                       "zero_length", "truncate_header"])
    if kind == "zero_length" or not b:
        return "zero_length", b""
    if kind == "truncate":
        return kind, bytes(b[: rng.randrange(len(b))])
    if kind == "truncate_header":
        return kind, bytes(b[: rng.randrange(min(len(b), 4096))])
    if kind in ("flip_header", "flip_any"):
        span = min(len(b), 4096) if kind == "flip_header" else len(b)
        for _ in range(rng.randint(1, 16)):
            i = rng.randrange(span)
            b[i] ^= 1 << rng.randrange(8)
        return kind, bytes(b)
    n = rng.randint(8, 256)
    at = rng.randrange(len(b))
    block = bytes(rng.randrange(256) for _ in range(n)) if kind == "random_block" else b"\xff" * n
    b[at: at + n] = block[: len(b) - at]
    return kind, bytes(b)


def daemon_alive(mnt):
    out = subprocess.run(["pgrep", "-f", f"cloudify-mount .* {mnt} "], capture_output=True,
                         text=True).stdout.split()
    return bool(out)


def check_healthy(mnt, archive):
    for name in HEALTHY:
        src = archive / "healthy" / name
        store = mnt / "healthy" / (Path(name).stem + ".zarr")
        group = "Data Fields" if name.endswith(".h5") else None
        want = xr.open_dataset(src, engine="netcdf4", group=group).load()
        got = xr.open_zarr(store, group=group).load()
        xr.testing.assert_identical(got, want)


def read_store(store: Path, outcomes: Counter):
    """Read everything of one store through the mount; count outcomes by errno."""
    deadline = time.monotonic() + PER_STORE_SECONDS
    try:
        meta = json.loads((store / ".zmetadata").read_bytes())["metadata"]
    except OSError as e:
        outcomes[f"zmetadata {errno.errorcode.get(e.errno, e.errno)}"] += 1
        return
    except ValueError:
        outcomes["zmetadata not JSON (a daemon bug)"] += 1
        return
    outcomes["zmetadata ok"] += 1
    arrays = [k[: -len("/.zarray")] for k in meta if k.endswith(".zarray")]
    for a in arrays:
        try:
            names = os.listdir(store / a)
        except OSError as e:
            outcomes[f"list {errno.errorcode.get(e.errno, e.errno)}"] += 1
            continue
        for n in names:
            if time.monotonic() > deadline:
                outcomes["time budget used up"] += 1
                return
            try:
                (store / a / n).read_bytes()
                outcomes["file ok"] += 1
            except OSError as e:
                outcomes[f"file {errno.errorcode.get(e.errno, e.errno)}"] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="keep the mutants in this directory")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="cloudify-mutants-"))
    archive = args.keep or work / "archive"
    (archive / "healthy").mkdir(parents=True, exist_ok=True)
    for name in HEALTHY:
        shutil.copy(ROOT / "fixtures" / name, archive / "healthy" / name)
    srcs = sources()
    kinds = Counter()
    mutants = []
    for i in range(args.count):
        src = rng.choice(srcs)
        kind, data = mutate(src.read_bytes(), rng)
        kinds[kind] += 1
        d = archive / "mutants" / f"batch{i // 100:02d}"
        d.mkdir(parents=True, exist_ok=True)
        p = d / f"m{i:04d}_{src.name}"
        p.write_bytes(data)
        mutants.append(p)
    print(f"{args.count} mutants of {len(srcs)} sources (seed {args.seed}): {dict(kinds)}")
    mnt = work / "mnt"
    mnt.mkdir()
    log = work / "daemon.log"
    subprocess.run([str(BIN), str(archive), str(mnt), "--index-dir", "none", "--workers", "2",
                    "--worker-timeout", "20", "--cache-size", str(64 << 20),
                    "--log-file", str(log)], check=True)
    outcomes = Counter()
    failures = []
    started = time.monotonic()
    try:
        check_healthy(mnt, archive)
        for i, p in enumerate(mutants):
            rel = p.relative_to(archive)
            listing = os.listdir(mnt / rel.parent)
            stores = [n for n in listing if n.startswith(p.name.split(".")[0]) and n.endswith(".zarr")]
            if not stores:
                outcomes["not shown (not NetCDF/HDF5 any more)"] += 1
            for s in stores:
                read_store(mnt / rel.parent / s, outcomes)
                item = mnt / rel.parent / (s[: -len(".zarr")] + ".stac.json")
                try:
                    json.loads(item.read_bytes())
                    outcomes["item ok"] += 1
                except OSError as e:
                    outcomes[f"item {errno.errorcode.get(e.errno, e.errno)}"] += 1
                    if e.errno != errno.EIO:
                        print(f"  unexpected: {item}: {e}", flush=True)
            if (i + 1) % 50 == 0 or i + 1 == len(mutants):
                if not daemon_alive(mnt):
                    failures.append(f"daemon died by mutant {i} ({rel})")
                    break
                try:
                    check_healthy(mnt, archive)
                except Exception as e:  # noqa: BLE001 - any difference is a failure
                    failures.append(f"healthy data changed after mutant {i}: {e}")
                    break
                print(f"  {i + 1} mutants read, daemon alive, healthy data identical "
                      f"({time.monotonic() - started:.0f} s)", flush=True)
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)], capture_output=True)
    lost = sum(1 for line in log.read_text(errors="replace").splitlines()
               if "worker process lost" in line)
    print("outcomes:")
    for k, v in sorted(outcomes.items()):
        print(f"  {v:7d}  {k}")
    print(f"worker processes lost (crashed or timed out) and replaced: {lost}")
    if failures:
        print(f"log: {log}")
        print("FAILED:", *failures, sep="\n  ")
        return 1
    if args.keep:
        print(f"log: {log}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print("R2 passed: the daemon never died, healthy datasets stayed identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
