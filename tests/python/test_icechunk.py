"""Issue 21: `cloudify icechunk ARCHIVE REPO --virtual-prefix URL`, a virtual Icechunk
repository of the archive, read with the Python `icechunk` package and xarray.

The archive's files are uploaded unchanged with `rclone copy` to a real S3 store (SeaweedFS on
loopback, objstore.py); the repository is written to the same store, its chunks virtual
references under the uploaded prefix where the source's stored chunks are Zarr chunks, native
chunks where the Zarr view generates them. Every variable of every dataset (deflate+shuffle,
contiguous, NetCDF-3 with record variables, strings, groups, an aggregated dataset of three
files) read through `repo.readonly_session("main")` equals the netcdf4 engine's (identity.py;
open_mfdataset for the aggregate). A file added to the archive makes the next run commit a
second snapshot holding only the new dataset (Repository.diff: nothing else changed); a run
with nothing new commits nothing; `--stac` items carry the repository and the snapshot.
(Local repositories, every fixture and corpus file, changes and bad files:
test_icechunk_local.py.)"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import icechunk
import pytest
import xarray as xr
import zarr

import objstore
import stac_expect as X
from collection_expect import compare as compare_set
from collection_expect import expected as expected_set
from conftest import CLOUDIFY, FIXTURES, ROOT
from identity import compare, group_paths
from test_fixtures import LEFT_OUT

sys.path.insert(0, str(ROOT / "scripts"))
import make_collections as mc  # noqa: E402

# deflate+shuffle, contiguous, NetCDF-3 (record variables), strings, codecs, groups
FILES = ["tas_day.nc", "contiguous.nc", "netcdf3_classic.nc", "strings_enum.nc",
         "nc4_codecs.nc", "groups.nc"]
ADDED = "sparse.nc"  # the file added before the second run
AGGREGATE = f"agg/{mc.stem('tas')}"
BUCKET_ARCHIVE, BUCKET_REPO = "archive", "repo"


def cloudify_icechunk(archive, repo, prefix, env=None, check=True, extra=()):
    """Run `cloudify icechunk`; (snapshot id, the completed process)."""
    r = subprocess.run([str(CLOUDIFY), "icechunk", str(archive), repo, "--virtual-prefix", prefix,
                        "--index-dir", "none", "--workers", "0", *extra],
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, **(env or {})})
    if check:
        assert r.returncode == 0, r.stderr[-4000:]
    return r.stdout.strip(), r


@pytest.fixture(scope="module")
def s3():
    with objstore.started() as store:
        yield store


def aws_env(s3):
    return {"AWS_ACCESS_KEY_ID": objstore.KEY, "AWS_SECRET_ACCESS_KEY": objstore.SECRET,
            "AWS_ENDPOINT_URL": s3.endpoint, "AWS_REGION": "us-east-1"}


def open_repo(s3):
    storage = icechunk.s3_storage(bucket=s3.bucket, prefix=BUCKET_REPO, endpoint_url=s3.endpoint,
                                  region="us-east-1", allow_http=True, force_path_style=True,
                                  access_key_id=objstore.KEY, secret_access_key=objstore.SECRET)
    creds = icechunk.containers_credentials({s3.s3_url(BUCKET_ARCHIVE) + "/": icechunk.s3_credentials(
        access_key_id=objstore.KEY, secret_access_key=objstore.SECRET)})
    return icechunk.Repository.open(storage, authorize_virtual_chunk_access=creds)


class Published:
    """The archive uploaded, the repository written twice (the second time after a file was
    added), and once more with nothing new."""

    def __init__(self, s3, root):
        self.root = root
        upload = lambda: s3.rclone("copy", f"{root}/", s3.remote(BUCKET_ARCHIVE),  # noqa: E731
                                   *objstore.SYNC_FLAGS)
        upload()
        repo, prefix = s3.s3_url(BUCKET_REPO), s3.s3_url(BUCKET_ARCHIVE) + "/"
        self.first, self.first_run = cloudify_icechunk(root, repo, prefix, aws_env(s3))
        shutil.copy(FIXTURES / ADDED, root / ADDED)
        upload()
        self.stac = root.parent / "stac"
        self.second, self.second_run = cloudify_icechunk(root, repo, prefix, aws_env(s3),
                                                         extra=("--stac", str(self.stac)))
        self.third, self.third_run = cloudify_icechunk(root, repo, prefix, aws_env(s3))
        self.repo = open_repo(s3)
        self.session = self.repo.readonly_session("main")


@pytest.fixture(scope="module")
def published(s3, tmp_path_factory):
    root = tmp_path_factory.mktemp("icechunk") / "archive"
    root.mkdir()
    for name in FILES:
        shutil.copy(FIXTURES / name, root / name)
    members = mc.many_small(root / "agg", 3)[mc.stem("tas")]
    p = Published(s3, root)
    p.members = members
    return p


def open_group(session, dataset):
    """xr.open_zarr of a group of the repository, the file's group below the dataset's."""
    def opener(store, group=None, **kw):
        path = dataset if not group else f"{dataset}/{group}"
        return xr.open_zarr(session.store, group=path, consolidated=False, **kw)
    return opener


@pytest.mark.parametrize("name", FILES + [ADDED])
def test_dataset_identical_to_the_file(published, name):
    src = FIXTURES / name
    dataset = name.removesuffix(".nc")
    for decode_cf in (True, False):
        for group in group_paths(src):
            missing = LEFT_OUT.get(name, {}).get(group, [])
            compared = compare(src, published.session.store, group, missing, decode_cf,
                               zarr_format=3, open_store=open_group(published.session, dataset))
            assert not set(missing) & set(compared)


def test_aggregate_is_open_mfdataset(published):
    compare_set(published.session.store, published.members, zarr_format=3,
                expected_ds=expected_set(published.members), group=AGGREGATE, consolidated=False)


def test_stored_chunks_are_virtual_and_generated_ones_native(published, s3):
    s = published.session
    virtual, native = icechunk.ChunkType.VIRTUAL, (icechunk.ChunkType.NATIVE,
                                                   icechunk.ChunkType.INLINE)
    assert s.chunk_type("/tas_day/tas", [0, 0, 0]) == virtual
    assert s.chunk_type("/contiguous/field", [0, 0, 0]) == virtual
    assert s.chunk_type(f"/{AGGREGATE}/tas", [0, 0, 0]) == virtual
    # NetCDF-3 records interleaved with the other record variables: assembled, native
    assert s.chunk_type("/netcdf3_classic/temp", [0, 0]) in native
    # vlen strings are decoded into Zarr's vlen-utf8: native
    assert s.chunk_type("/strings_enum/names", [0, 0]) in native
    prefix = s3.s3_url(BUCKET_ARCHIVE) + "/"
    locations = set(s.all_virtual_chunk_locations())
    files = {loc.removeprefix(prefix) for loc in locations}
    assert all(loc.startswith(prefix) for loc in locations), locations
    assert {"tas_day.nc", "contiguous.nc", ADDED} <= files
    assert {str(Path(m).relative_to(published.root)) for m in published.members} <= files


def test_added_file_makes_a_snapshot_of_only_the_new_dataset(published):
    first, second = published.first, published.second
    assert first and second and first != second
    assert published.third == second, published.third_run.stderr  # nothing new: no commit
    assert "nothing changed" in published.third_run.stderr
    ancestry = [snap.id for snap in published.repo.ancestry(branch="main")]
    assert ancestry[:2] == [second, first]
    diff = published.repo.diff(from_snapshot_id=first, to_snapshot_id=second)
    dataset = "/" + ADDED.removesuffix(".nc")
    assert dataset in diff.new_groups
    assert all(a.startswith(dataset + "/") for a in diff.new_arrays) and diff.new_arrays
    assert not diff.deleted_groups and not diff.deleted_arrays and not diff.updated_arrays
    # the root group's record of the datasets is the only group that changed
    assert diff.updated_groups == {"/"}
    assert all(a.startswith(dataset + "/") for a in diff.updated_chunks), diff.updated_chunks
    # the first snapshot still reads as it did
    old = published.repo.readonly_session(snapshot_id=first)
    assert dataset.strip("/") not in dict(zarr.open_group(old.store, mode="r").groups())


def test_stac_items_carry_the_repository_and_snapshot(published, s3):
    """As cloudify's build_stac_item_from_icechunk: the asset <id>@<snapshot>, its
    `icechunk:snapshot_id` and `version` the snapshot, the group to open."""
    catalog = json.loads((published.stac / "catalog.json").read_text())
    assert X.validate_catalog(catalog) == []
    hrefs = sorted(link["href"] for link in catalog["links"] if link["rel"] == "item")
    # the tree shows the members as stores of their own too (--members show)
    members = [str(Path(m).relative_to(published.root)).removesuffix(".nc")
               for m in published.members]
    datasets = sorted([n.removesuffix(".nc") for n in FILES + [ADDED]] + [AGGREGATE] + members)
    assert hrefs == [f"./{d}.stac.json" for d in datasets]
    for d in datasets:
        item = json.loads((published.stac / f"{d}.stac.json").read_text())
        assert X.schema_errors(item, X.ITEM_SCHEMA) + X.schema_errors(item, X.DATACUBE) == []
        base = d.rsplit("/", 1)[-1]
        asset = item["assets"][f"{base}@{published.second}"]
        assert asset["href"] == s3.s3_url(BUCKET_REPO)
        assert asset["type"] == "application/vnd.zarr+icechunk"
        assert asset["icechunk:snapshot_id"] == asset["version"] == published.second
        assert "virtual" in asset["roles"] and asset["icechunk:group"] == d
        source = item["assets"][asset["vrt:hrefs"][0]["key"]]
        assert source["href"] == s3.s3_url(BUCKET_ARCHIVE) + "/"
        scheme = item["storage:schemes"][asset["storage:refs"][0]]
        assert scheme["platform"] == s3.endpoint and scheme["bucket"] == s3.bucket
        session = published.repo.readonly_session(snapshot_id=asset["version"])
        ds = xr.open_zarr(session.store, **asset["xarray:open_kwargs"])
        # (variables of sub-groups are named by their path in the item)
        root_vars = {v for v in item["properties"]["cube:variables"] if "/" not in v}
        assert root_vars and root_vars <= set(ds.variables), d


def test_references_check_the_published_objects(s3, tmp_path):
    """Each reference carries its object's ETag: an object replaced after the run fails to
    read (no other bytes returned); a file not uploaded is not referenced (its dataset is
    reported, the others written)."""
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(FIXTURES / "tas_day.nc", archive / "tas_day.nc")
    s3.rclone("copy", f"{archive}/", s3.remote("etag-archive"), *objstore.SYNC_FLAGS)
    shutil.copy(FIXTURES / "contiguous.nc", archive / "contiguous.nc")  # not uploaded
    prefix = s3.s3_url("etag-archive") + "/"
    _, r = cloudify_icechunk(archive, s3.s3_url("etag-repo"), prefix, aws_env(s3), check=False)
    assert r.returncode == 1 and "contiguous.nc" in r.stderr and "not written" in r.stderr
    storage = icechunk.s3_storage(bucket=s3.bucket, prefix="etag-repo", endpoint_url=s3.endpoint,
                                  region="us-east-1", allow_http=True, force_path_style=True,
                                  access_key_id=objstore.KEY, secret_access_key=objstore.SECRET)
    creds = icechunk.containers_credentials({prefix: icechunk.s3_credentials(
        access_key_id=objstore.KEY, secret_access_key=objstore.SECRET)})
    repo = icechunk.Repository.open(storage, authorize_virtual_chunk_access=creds)
    assert sorted(dict(zarr.open_group(repo.readonly_session("main").store, mode="r").groups())) \
        == ["tas_day"]
    read = lambda: xr.open_zarr(repo.readonly_session("main").store, group="tas_day",  # noqa
                                zarr_format=3, consolidated=False).tas.values
    read()
    # the object replaced by other bytes of the same size: references into it must fail
    data = bytearray((FIXTURES / "tas_day.nc").read_bytes())
    data[-1000:] = bytes(1000)
    (tmp_path / "tas_day.nc").write_bytes(bytes(data))
    s3.rclone("copyto", str(tmp_path / "tas_day.nc"), s3.remote("etag-archive/tas_day.nc"))
    with pytest.raises(Exception, match="(?i)modified|precondition|etag|match"):
        read()
