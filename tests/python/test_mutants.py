"""R2: a seeded run of scripts/mutate.py with 1000 mutants (about a minute here)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mutants_never_kill_the_daemon_nor_touch_healthy_data():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "mutate.py"), "--count", "1000",
                        "--seed", "7"], capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "R2 passed" in r.stdout
    # the run did read mutant data, not only refuse it
    assert "file ok" in r.stdout and "zmetadata EIO" in r.stdout, r.stdout
