"""zarr-python 2.18 (with the newest xarray that supports it) reads the mount identically too."""
import subprocess
import sys

from conftest import FIXTURES, ROOT

PY = ROOT / ".venv-zarr2" / "bin" / "python"


def test_zarr2_reads_every_fixture(fixtures_mount):
    from test_fixtures import H5PY_ONLY  # netCDF-C cannot open them: no reference to compare
    files = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*")
                   if p.is_file() and p.suffix != ".md" and p.name not in H5PY_ONLY)
    r = subprocess.run([str(PY), str(ROOT / "tests/python/zarr2_identity.py"), str(fixtures_mount),
                        str(FIXTURES), *files],
                       capture_output=True, text=True, timeout=600)
    sys.stdout.write(r.stdout)
    assert r.returncode == 0, r.stderr[-4000:]
    assert r.stdout.count("identical with zarr 2.") == len(files)


def test_zarr2_reads_the_corpus(corpus_mount):
    from conftest import CORPUS
    # S5P's 1317 groups are covered by the zarr 3 test; they would double the suite's time here
    files = sorted(p.name for p in CORPUS.iterdir()
                   if p.suffix not in (".md", "") and p.name != "SHA256SUMS" and "S5P" not in p.name)
    r = subprocess.run([str(PY), str(ROOT / "tests/python/zarr2_identity.py"), str(corpus_mount),
                        str(CORPUS), *files],
                       capture_output=True, text=True, timeout=900)
    sys.stdout.write(r.stdout)
    assert r.returncode == 0, r.stderr[-4000:]
    assert r.stdout.count("identical with zarr 2.") == len(files) == 8
