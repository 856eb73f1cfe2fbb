"""FUSE requests the kernel sends to one mount while a command runs, by opcode: the
`fuse_request_send` trace event in a tracefs instance of our own (other tracing on the
machine is not touched), filtered by the mount's connection (its `st_dev`). Needs root and
tracefs at /sys/kernel/tracing (mounted there when it is not: a fresh boot may not have it);
`count` returns None where either is missing.

    .venv/bin/python scripts/fuse_requests.py MOUNTPOINT COMMAND [ARG...]
"""
import collections
import os
import re
import subprocess
import sys
from pathlib import Path

TRACING = Path("/sys/kernel/tracing")


def mount_tracefs():
    """Mount tracefs at its place if nothing is there yet (root only; quietly not otherwise)."""
    if TRACING.is_dir() and not (TRACING / "events").is_dir() and os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tracefs", "tracefs", str(TRACING)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def count(mountpoint, cmd):
    """Run `cmd`; the requests the mount at `mountpoint` got meanwhile, as {opcode name: n}."""
    mount_tracefs()
    if not (TRACING / "events" / "fuse").is_dir():
        return None
    inst = TRACING / "instances" / f"cloudify-count-{os.getpid()}"
    try:
        inst.mkdir()
    except OSError:
        return None
    try:
        (inst / "buffer_size_kb").write_text("8192\n")  # per CPU: ~200,000 requests
        event = inst / "events" / "fuse" / "fuse_request_send"
        (event / "filter").write_text(f"connection == {os.stat(mountpoint).st_dev}\n")
        (event / "enable").write_text("1\n")
        try:
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        finally:
            (event / "enable").write_text("0\n")
        trace = (inst / "trace").read_text()
        if "LOST" in trace:
            raise RuntimeError("trace buffer overflowed: requests were not counted")
        return collections.Counter(re.findall(r"\(FUSE_(\w+)\)", trace))
    finally:
        inst.rmdir()


if __name__ == "__main__":
    counts = count(sys.argv[1], sys.argv[2:])
    if counts is None:
        sys.exit("cannot count: needs root and tracefs with the fuse events")
    print(sum(counts.values()), dict(counts.most_common()))
