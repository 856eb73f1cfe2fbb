"""Issue 21: publishing the mount to a real object store (SeaweedFS on loopback, objstore.py)
with `rclone sync`, and reading the published copy as a cloud dataset.

Zarr v2 (raw chunks) and v3 sharded mounts of the fixtures, the corpus and an archive with an
aggregated dataset (three yearly files joined along time) are synced with the flags of
docs/PUBLISHING.md: a second sync transfers nothing and `rclone check` passes; xarray reads
every published store from `s3://` as it reads the source file (identity.py; `s3.open_zarr`: s3fs, and
zarr's ObjectStore on obstore for one fixture of each kind); a
`dask.distributed.LocalCluster` of worker processes reduces the published aggregate (time mean,
monthly climatology) to what the same computation gives on the source files with netCDF4; the
published STAC catalog validates and pystac walks it over anonymous HTTP, every item's store
opening from its absolute `--public-url` href; a source file changed in the archive makes the
next sync copy exactly the objects whose bytes changed, all in the stores built on that file.
(`rsync -a` of v2 and v3 sharded mounts: test_mount_behaviour.py and test_zarr3.py.)"""
import json
import shutil
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

import objstore
import stac_expect as X
from collection_expect import compare as compare_set
from collection_expect import expected as expected_set
from conftest import CORPUS, FIXTURES, ROOT, mounted
from identity import compare, group_paths, opened_once
from test_corpus import LEFT_OUT as CORPUS_LEFT_OUT
from test_corpus import store as corpus_store
from test_fixtures import ENGINE, H5PY_ONLY, LEFT_OUT, NAMES, NO_DECODE_TIMES, store_name
from test_zarr3 import FILL_BITS

sys.path.insert(0, str(ROOT / "scripts"))
import make_collections as mc  # noqa: E402

# the mounts published: Zarr v2 with the source's chunks, Zarr v3 with the default shards
LAYOUTS = {"v2-raw": (), "v3-sharded": ("--zarr-format", "3")}
ZARR_FORMAT = {"v2-raw": 2, "v3-sharded": 3}
AGGREGATE = mc.stem("tas")
CORPUS_READ = sorted(CORPUS_LEFT_OUT)
# one fixture of each kind for the second S3 client (obstore)
OBSTORE_READ = ["contiguous.nc", "groups.nc", "nc4_codecs.nc", "netcdf3_classic.nc",
                "packed_kinds.nc", "sparse.nc", "strings_enum.nc", "tas_day.nc"]


@pytest.fixture(scope="module")
def s3():
    with objstore.started() as store:
        yield store


class Published:
    """A mount synced to `prefix`: the tree it showed ({path: size}), the first and second
    `rclone sync`, and `rclone check` of the mount against the bucket."""

    def __init__(self, s3, mnt, prefix):
        self.prefix = prefix
        self.files = {str(p.relative_to(mnt)): p.stat().st_size
                      for p in Path(mnt).rglob("*") if p.is_file()}
        self.first = s3.sync(mnt, prefix)
        self.second = s3.sync(mnt, prefix)
        self.check = s3.rclone("check", f"{mnt}/", s3.remote(prefix), "--fast-list", check=False)
        self.objects = s3.objects(prefix)


def publish(s3, archive, prefix, *mount_args):
    with mounted(archive, *mount_args) as mnt:
        return Published(s3, mnt, prefix)


def make_archive(root):
    """Two fixture files and a directory of three yearly files that the mount joins along
    time; returns the members of the joined set."""
    root.mkdir(parents=True)
    for name in ("tas_day.nc", "groups.nc"):
        shutil.copy(FIXTURES / name, root / name)
    return mc.many_small(root / "agg", 3)[AGGREGATE]


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def fixtures_published(request, s3):
    layout = request.param
    return layout, publish(s3, FIXTURES, f"fixtures-{layout}", "--contiguous-chunk-size",
                           "20000", *LAYOUTS[layout])


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def corpus_published(request, s3):
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    layout = request.param
    return layout, publish(s3, CORPUS, f"corpus-{layout}", *LAYOUTS[layout])


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("publish") / "archive"
    return root, make_archive(root)


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def archive_published(request, s3, archive):
    """The archive published with `--public-url` naming its public HTTP address."""
    layout = request.param
    root, members = archive
    prefix = f"archive-{layout}"
    s3.public_read()
    published = publish(s3, root, prefix, "--public-url", s3.url(prefix), *LAYOUTS[layout])
    return layout, published, members


# --- the sync ------------------------------------------------------------------------------

def check_sync(p):
    """The first sync copied every file of the mount and only them, the second nothing."""
    assert p.first.stats["errors"] == 0 and p.second.stats["errors"] == 0
    assert p.objects == p.files
    assert sorted(p.first.copied) == sorted(p.files)
    assert p.first.transfers == len(p.files)
    assert p.second.transfers == 0 and p.second.copied == [], p.second
    assert p.second.stats["checks"] == len(p.files) and p.second.stats["deletes"] == 0
    assert p.check.returncode == 0 and "0 differences found" in p.check.stderr, p.check.stderr


def test_fixture_tree_syncs_and_resync_transfers_nothing(fixtures_published):
    check_sync(fixtures_published[1])


def test_corpus_tree_syncs_and_resync_transfers_nothing(corpus_published):
    check_sync(corpus_published[1])


def test_aggregate_tree_syncs_and_resync_transfers_nothing(archive_published):
    _layout, p, _members = archive_published
    check_sync(p)
    assert any(k.startswith(f"agg/{AGGREGATE}.zarr/") for k in p.objects)


# --- reading the published stores ----------------------------------------------------------

@pytest.mark.parametrize("name", sorted(set(NAMES) - H5PY_ONLY))
def test_fixture_identical_from_s3(s3, fixtures_published, name):
    layout, p = fixtures_published
    src = NAMES[name]
    url = s3.s3_url(f"{p.prefix}/{store_name(name)}")
    for group in group_paths(src):
        missing = LEFT_OUT.get(name, {}).get(group, [])
        compared = compare(src, url, group, missing, engine=ENGINE.get(name, "netcdf4"),
                           decode_times=False if name in NO_DECODE_TIMES else None,
                           zarr_format=ZARR_FORMAT[layout], open_store=s3.open_zarr,
                           fill_bits=FILL_BITS.get(name, ()) if layout == "v3-sharded" else ())
        assert not set(missing) & set(compared)


@pytest.mark.parametrize("name", OBSTORE_READ)
def test_fixture_identical_through_obstore(s3, fixtures_published, name):
    """The same stores through zarr's ObjectStore on obstore (another S3 client)."""
    layout, p = fixtures_published
    src = NAMES[name]
    for group in group_paths(src):
        compare(src, s3.zarr_store(f"{p.prefix}/{store_name(name)}"), group,
                LEFT_OUT.get(name, {}).get(group, []), zarr_format=ZARR_FORMAT[layout],
                fill_bits=FILL_BITS.get(name, ()) if layout == "v3-sharded" else ())


@pytest.mark.parametrize("name", CORPUS_READ)
def test_corpus_identical_from_s3(s3, corpus_published, name):
    layout, p = corpus_published
    src = CORPUS / name
    url = s3.s3_url(f"{p.prefix}/{corpus_store(Path(''), name)}")
    groups = group_paths(src)
    # a file of many groups (S5P's 1,318): every group opened once on each side
    opened = (opened_once(src, url, zarr_format=ZARR_FORMAT[layout],
                          storage_options=s3.storage_options())
              if len(groups) > 1 else (None, s3.open_zarr))
    for group in groups:
        missing = CORPUS_LEFT_OUT[name].get(group, [])
        compared = compare(src, url, group, missing, zarr_format=ZARR_FORMAT[layout],
                           open_source=opened[0], open_store=opened[1])
        assert not set(missing) & set(compared)


def test_aggregate_from_s3_is_open_mfdataset(s3, archive_published):
    import zarr
    layout, p, members = archive_published
    store = zarr.storage.FsspecStore.from_url(
        s3.s3_url(f"{p.prefix}/agg/{AGGREGATE}.zarr"), storage_options=s3.storage_options(),
        read_only=True)
    compare_set(store, members, zarr_format=ZARR_FORMAT[layout])


# --- dask.distributed ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as c:
        yield c


def reductions(tas):
    """A time mean and a monthly climatology, in float64 (the same sums whatever the chunks)."""
    tas = tas.astype("float64")
    return tas.mean("time"), tas.groupby("time.month").mean()


def test_dask_cluster_reduces_the_published_aggregate(s3, archive_published, cluster):
    """Worker processes read the chunks from the object store; the results equal the same
    reductions over the source files opened with netCDF4 (open_mfdataset, no cluster)."""
    import os
    from distributed import Client, get_task_stream
    from collection_expect import MF_OPTIONS
    layout, p, members = archive_published
    src = xr.open_mfdataset([str(f) for f in members], engine="netcdf4", concat_dim="time",
                            **MF_OPTIONS)
    want = [r.compute(scheduler="synchronous") for r in reductions(src.tas)]
    ds = xr.open_zarr(s3.s3_url(f"{p.prefix}/agg/{AGGREGATE}.zarr"),
                      storage_options=s3.storage_options(), zarr_format=ZARR_FORMAT[layout])
    assert ds.tas.chunks is not None and ds.sizes["time"] == 3 * 365
    with Client(cluster) as client, get_task_stream(client) as stream:
        got = [r.compute() for r in reductions(ds.tas)]
        pids = set(client.run(os.getpid).values())
        workers = set(client.scheduler_info()["workers"])
    # two worker processes, not this one, ran the tasks
    assert len(pids) == 2 and os.getpid() not in pids
    assert stream.data and {t["worker"] for t in stream.data} <= workers
    assert got[1].sizes["month"] == 12
    for g, w in zip(got, want):
        xr.testing.assert_allclose(g, w, rtol=1e-12, atol=0)
        assert g.dims == w.dims and g.dtype == w.dtype == np.float64


# --- STAC from the object store ------------------------------------------------------------

def test_published_stac_validates_and_pystac_walks_it_over_http(s3, archive_published):
    """Every STAC document, fetched anonymously over HTTP, is schema-valid; pystac walks the
    catalog from its URL and finds one item per store; each item's data asset (the absolute
    `--public-url` href) opens anonymously and reads as the source."""
    import pystac
    layout, p, members = archive_published
    base = s3.url(p.prefix)
    stac = [k for k in p.objects if k.endswith("catalog.json") or k.endswith(".stac.json")]
    stores = sorted({k.split(".zarr/")[0] for k in p.objects if ".zarr/" in k})
    assert len(stac) == len(stores) + 2  # an item per store, the root and agg/ catalogs
    errors = []
    for key in stac:
        status, body = objstore.get(f"{base}/{key}")
        assert status == 200, (key, status)
        doc = json.loads(body)
        errs = X.validate_catalog(doc) if key.endswith("catalog.json") else X.validate_item(doc)
        errors += [f"{key}: {e}" for e in errs]
    assert not errors, "\n".join(errors[:20])
    # listing stays private: a client finds everything by following the catalog's links
    assert objstore.get(f"{s3.endpoint}/{s3.bucket}?list-type=2")[0] == 403
    catalog = pystac.Catalog.from_file(f"{base}/catalog.json")
    items = list(catalog.get_items(recursive=True))
    assert sorted(i.id for i in items) == stores
    sources = {"tas_day": FIXTURES / "tas_day.nc", "groups": FIXTURES / "groups.nc"}
    for item in items:
        href = item.assets["data"].href
        assert href == f"{base}/{item.id}.zarr"
        if item.id == f"agg/{AGGREGATE}":
            compare_set(href, members, zarr_format=ZARR_FORMAT[layout])
        elif item.id in sources:
            for group in group_paths(sources[item.id]):
                compare(sources[item.id], href, group, zarr_format=ZARR_FORMAT[layout])
        else:  # a member of the aggregate: its own file
            src = next(m for m in members if f"agg/{Path(m).stem}" == item.id)
            compare(src, href, "/", zarr_format=ZARR_FORMAT[layout])


# --- a changed source file ------------------------------------------------------------------

def store_of(key):
    """The store (or STAC document's store) a published key belongs to."""
    if ".zarr/" in key:
        return key.split(".zarr/")[0]
    return key.removesuffix(".stac.json")


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_changed_file_resyncs_exactly_what_changed(s3, tmp_path, layout):
    """One value of the last member changes: the next sync copies exactly the objects whose
    bytes differ from the published ones (compared here object by object), all in that
    member's store and the aggregate's; every other store is not touched at all."""
    import fsspec
    root = tmp_path / "archive"
    members = make_archive(root)
    prefix = f"changes-{layout}"
    changed_stores = {f"agg/{Path(members[-1]).stem}", f"agg/{AGGREGATE}"}
    fs = fsspec.filesystem("s3", **s3.storage_options())
    with mounted(root, *LAYOUTS[layout]) as mnt:
        s3.sync(mnt, prefix)
        with netCDF4.Dataset(members[-1], "a") as ds:
            ds["tas"][200, 1, 2] = ds["tas"][200, 1, 2] + 1
        differ = set()
        for path in sorted(Path(mnt).rglob("*")):
            if path.is_file():
                key = str(path.relative_to(mnt))
                if path.read_bytes() != fs.cat(f"{s3.bucket}/{prefix}/{key}"):
                    differ.add(key)
        assert {store_of(k) for k in differ} == changed_stores, differ
        again = s3.sync(mnt, prefix)
        assert sorted(again.copied) == sorted(differ), again.copied
        assert again.deleted == [] and again.stats["errors"] == 0
        touched = {store_of(e["object"]) for e in again.lines if e.get("object")}
        assert touched <= changed_stores, touched - changed_stores
        check = s3.rclone("check", f"{mnt}/", s3.remote(prefix), "--fast-list", check=False)
        assert check.returncode == 0, check.stderr
        assert s3.sync(mnt, prefix).transfers == 0
    ds = xr.open_zarr(s3.s3_url(f"{prefix}/agg/{AGGREGATE}.zarr"),
                      storage_options=s3.storage_options(), zarr_format=ZARR_FORMAT[layout])
    with netCDF4.Dataset(members[-1]) as src:
        want = src["tas"][200, 1, 2]
    assert ds.tas.isel(time=2 * 365 + 200, lat=1, lon=2).values == want
