"""The daemon's inode table follows the kernel's cache of the mount (issue 4, bounded memory):
a node the kernel forgets (here: `drop_caches` evicting every unused inode) leaves the table,
what the kernel still holds (an open file, a directory handle) keeps working, and walking the
tree again reads the same bytes as before."""
import hashlib
import os
import signal
import time

from conftest import FIXTURES, foreground, summaries


def nodes_now(p, log):
    """The daemon's node count, from the summary SIGUSR1 makes it log."""
    seen = len(summaries(log.read_text()))
    p.send_signal(signal.SIGUSR1)
    for _ in range(200):
        lines = summaries(log.read_text())
        if len(lines) > seen:
            return lines[-1]["nodes"]
        time.sleep(0.02)
    raise AssertionError("no summary after SIGUSR1")


def walk(mnt):
    """Every file of the tree (stat'ed and read) by path: its size and digest."""
    out = {}
    for top, dirs, files in os.walk(mnt):
        for name in dirs + files:
            path = os.path.join(top, name)
            st = os.stat(path)
            if name in files:
                with open(path, "rb") as f:
                    data = f.read()
                assert len(data) == st.st_size, path
                out[os.path.relpath(path, mnt)] = hashlib.sha256(data).hexdigest()
    return out


def test_forgotten_nodes_leave_the_table_and_held_ones_keep_working(tmp_path):
    log = tmp_path / "daemon.log"
    with foreground(FIXTURES, "--log-file", str(log), "--index-dir", "none") as (p, mnt):
        assert nodes_now(p, log) == 1, "the root only"
        before = walk(mnt)
        walked = nodes_now(p, log)
        assert walked > len(before) > 300, (walked, len(before))

        # in use, so the kernel keeps them: an open chunk file and an array directory
        array = mnt / "tas_day.zarr" / "tas"
        chunk = sorted(n for n in os.listdir(array) if not n.startswith("."))[0]
        held = open(array / chunk, "rb")
        dir_fd = os.open(array, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("2\n")  # dentries and inodes: every unused one is evicted
            for _ in range(100):
                left = nodes_now(p, log)
                if left < 10:
                    break
                time.sleep(0.1)
            # the root, the two held nodes and the directories above them
            assert 4 <= left < 10, left

            assert hashlib.sha256(held.read()).hexdigest() == before[f"tas_day.zarr/tas/{chunk}"]
            fd = os.open(".zarray", os.O_RDONLY, dir_fd=dir_fd)
            try:
                zarray = os.read(fd, 1 << 20)
            finally:
                os.close(fd)
            assert hashlib.sha256(zarray).hexdigest() == before["tas_day.zarr/tas/.zarray"]
        finally:
            held.close()
            os.close(dir_fd)

        # walked again, with new numbers where needed: the same tree, the same bytes, and as
        # many nodes as the first walk left (none leaked, none lost)
        assert walk(mnt) == before
        assert nodes_now(p, log) == walked
