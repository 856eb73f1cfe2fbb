"""Issue 21: `cloudify icechunk` into a local repository whose references point at the files
where they lie (`file://` prefix): every fixture and corpus file (S5P included) read through
Python icechunk equals the netcdf4 engine's; a changed file replaces only its group, a deleted
one's group goes; a file that cannot be read is reported and the others are written. (The S3
workflow: test_icechunk.py.)"""
import shutil

import icechunk
import pytest
import zarr

from conftest import CORPUS, FIXTURES
from identity import compare, group_paths, opened_once
from test_corpus import LEFT_OUT as CORPUS_LEFT_OUT
from test_fixtures import ENGINE, H5PY_ONLY, LEFT_OUT, NAMES, NO_DECODE_TIMES, store_name
from test_icechunk import cloudify_icechunk, open_group
from test_zarr3 import FILL_BITS


def test_changed_file_replaces_its_group_and_a_removed_one_goes(tmp_path):
    """A local repository: a file replaced by another (same name) → its group rewritten from
    the new file, nothing else touched; a file deleted → its group removed."""
    archive = tmp_path / "archive"
    archive.mkdir()
    for name in ("tas_day.nc", "contiguous.nc"):
        shutil.copy(FIXTURES / name, archive / name)
    repo, prefix = tmp_path / "repo", f"file://{archive}/"
    first, _ = cloudify_icechunk(archive, str(repo), prefix)
    shutil.copy(FIXTURES / "sparse.nc", archive / "contiguous.nc")
    second, r = cloudify_icechunk(archive, str(repo), prefix)
    assert "changed contiguous" in r.stderr and "added" not in r.stderr.replace("0 added", "")
    (archive / "tas_day.nc").unlink()
    third, r = cloudify_icechunk(archive, str(repo), prefix)
    assert "removed tas_day" in r.stderr
    storage = icechunk.local_filesystem_storage(str(repo))
    ic = icechunk.Repository.open(
        storage, authorize_virtual_chunk_access=icechunk.containers_credentials({prefix: None}))
    diff = ic.diff(from_snapshot_id=first, to_snapshot_id=second)
    # the group replaced whole (deleted and created again), the root's record updated
    assert diff.updated_groups == {"/"} and diff.deleted_groups <= {"/contiguous"}
    assert diff.new_groups <= {"/contiguous"}
    touched = set(diff.new_arrays) | set(diff.deleted_arrays) | set(diff.updated_arrays) \
        | set(diff.updated_chunks)
    assert touched and all(a.startswith("/contiguous/") for a in touched), touched
    compare(FIXTURES / "sparse.nc", ic.readonly_session(snapshot_id=second).store, "/",
            zarr_format=3, open_store=open_group(ic.readonly_session(snapshot_id=second),
                                                 "contiguous"))
    diff = ic.diff(from_snapshot_id=second, to_snapshot_id=third)
    assert diff.deleted_groups == {"/tas_day"} and not diff.new_arrays
    groups = dict(zarr.open_group(ic.readonly_session("main").store, mode="r").groups())
    assert sorted(groups) == ["contiguous"]


def test_unreadable_file_is_reported_and_the_others_written(tmp_path):
    """A local repository, references to the files where they lie (file://)."""
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(FIXTURES / "tas_day.nc", archive / "tas_day.nc")
    (archive / "broken.nc").write_bytes((FIXTURES / "tas_day.nc").read_bytes()[:2000])
    repo = tmp_path / "repo"
    snapshot, r = cloudify_icechunk(archive, str(repo), f"file://{archive}/", check=False)
    assert r.returncode == 1, r.stderr
    assert "broken" in r.stderr and "not written" in r.stderr, r.stderr
    storage = icechunk.local_filesystem_storage(str(repo))
    creds = icechunk.containers_credentials({f"file://{archive}/": None})
    session = icechunk.Repository.open(storage, authorize_virtual_chunk_access=creds) \
        .readonly_session("main")
    assert session.snapshot_id == snapshot
    compare(FIXTURES / "tas_day.nc", session.store, "/", zarr_format=3,
            open_store=open_group(session, "tas_day"))


# --- every fixture, a local repository referencing the files in place ------------------------

@pytest.fixture(scope="module")
def fixtures_repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("icechunk-fixtures") / "repo"
    prefix = f"file://{FIXTURES}/"
    _, r = cloudify_icechunk(FIXTURES, str(repo), prefix,
                             extra=("--contiguous-chunk-size", "20000"))
    storage = icechunk.local_filesystem_storage(str(repo))
    creds = icechunk.containers_credentials({prefix: None})
    repo = icechunk.Repository.open(storage, authorize_virtual_chunk_access=creds)
    return repo.readonly_session("main"), r.stderr


# NaN/±Infinity attributes are strings in the repository (Icechunk stores strict JSON only;
# xarray's own to_zarr into Icechunk fails on them): file -> variables holding one
QUOTED = {"packed.nc": {"dbl"}}
SPECIAL = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def unquoting(opener, found):
    """`opener`, its variables' "NaN"/"Infinity" string attributes made floats again (the
    variables in `found`)."""
    def open_(store, **kw):
        ds = opener(store, **kw)
        for name, var in ds.variables.items():
            for k, v in list(var.attrs.items()):
                if isinstance(v, str) and v in SPECIAL:
                    var.attrs[k] = SPECIAL[v]
                    found.add(name)
        return ds
    return open_


@pytest.mark.parametrize("name", sorted(set(NAMES) - H5PY_ONLY))
def test_every_fixture_identical_from_a_local_repository(fixtures_repo, name):
    session, stderr = fixtures_repo
    src = NAMES[name]
    dataset = store_name(name).removesuffix(".zarr")
    found = set()
    for decode_cf in (True, False):
        for group in group_paths(src):
            missing = LEFT_OUT.get(name, {}).get(group, [])
            compared = compare(src, session.store, group, missing, decode_cf,
                               engine=ENGINE.get(name, "netcdf4"),
                               decode_times=False if name in NO_DECODE_TIMES else None,
                               zarr_format=3, fill_bits=FILL_BITS.get(name, ()),
                               open_store=unquoting(open_group(session, dataset), found))
            assert not set(missing) & set(compared)
    assert found == QUOTED.get(name, set())
    if found:
        assert f'group="{dataset}"' in stderr and "written as strings" in stderr


@pytest.fixture(scope="module")
def corpus_repo(tmp_path_factory):
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    repo = tmp_path_factory.mktemp("icechunk-corpus") / "repo"
    prefix = f"file://{CORPUS}/"
    cloudify_icechunk(CORPUS, str(repo), prefix)
    storage = icechunk.local_filesystem_storage(str(repo))
    creds = icechunk.containers_credentials({prefix: None})
    return icechunk.Repository.open(storage, authorize_virtual_chunk_access=creds) \
        .readonly_session("main")


@pytest.mark.parametrize("name", sorted(CORPUS_LEFT_OUT))
def test_corpus_identical_from_a_local_repository(corpus_repo, name):
    src = CORPUS / name
    dataset = name.rsplit(".", 1)[0]
    groups = group_paths(src)
    # a file of many groups (S5P's 1,318): every group opened once on each side
    opened = (opened_once(src, corpus_repo.store, zarr_format=3, group=dataset,
                          consolidated=False)
              if len(groups) > 1 else (None, open_group(corpus_repo, dataset)))
    for group in groups:
        missing = CORPUS_LEFT_OUT[name].get(group, [])
        compared = compare(src, corpus_repo.store, group, missing, zarr_format=3,
                           open_source=opened[0], open_store=opened[1])
        assert not set(missing) & set(compared)
