"""`cloudify serve`: the tree over HTTP, read by real clients on a real loopback server.
Every fixture store read by xarray through fsspec's HTTP file system is identical to the file
(as through the mount); the static tree's HTTP behaviour (ranges, validators, 304, 404, 405,
CORS, listings, paths that try to leave the archive) checked with urllib."""
import json
import os
import urllib.error
import urllib.request

import pytest

from conftest import FIXTURES, MODES, served
from identity import compare, group_paths, opened_once
from test_corpus import LEFT_OUT as CORPUS_LEFT_OUT
from test_fixtures import ENGINE, H5PY_ONLY, LEFT_OUT, NAMES, NO_DECODE_TIMES, store_name


@pytest.fixture(scope="module", params=sorted(MODES))
def server(request):
    with served(FIXTURES, "--contiguous-chunk-size", "20000", *MODES[request.param]) as url:
        yield url


@pytest.fixture(scope="module")
def raw_server():
    with served(FIXTURES, "--contiguous-chunk-size", "20000") as url:
        yield url


def get(url, headers=None, method="GET"):
    """(status, headers, body) of one request; errors are answers too."""
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def identical(name, url, groups=None, **kw):
    """Fixture `name` read from the store at `url`: identical to the file, every group (or
    those of `groups`)."""
    src = NAMES[name]
    for group in groups or group_paths(src):
        missing = LEFT_OUT.get(name, {}).get(group, [])
        compare(src, url, group, missing, True, engine=ENGINE.get(name, "netcdf4"),
                decode_times=False if name in NO_DECODE_TIMES else None, **kw)


@pytest.mark.parametrize("name", sorted(set(NAMES) - H5PY_ONLY))
def test_fixture_identical_over_http(server, name):
    identical(name, f"{server}/{store_name(name)}")


def test_bytes_are_the_mounts(raw_server, fixtures_mount):
    """Every file of a store: the same bytes over HTTP as through the mount."""
    store = fixtures_mount / "tas_day.zarr"
    files = [p for p in store.rglob("*") if p.is_file()]
    assert len(files) > 5
    for p in files:
        status, headers, body = get(f"{raw_server}/tas_day.zarr/{p.relative_to(store)}")
        assert status == 200, p
        assert body == p.read_bytes(), p
        assert int(headers["Content-Length"]) == len(body)
    for item in ("tas_day.stac.json", "catalog.json"):
        assert get(f"{raw_server}/{item}")[2] == (fixtures_mount / item).read_bytes()


def test_ranges(raw_server):
    url = f"{raw_server}/tas_day.zarr/.zmetadata"
    status, headers, whole = get(url)
    assert status == 200 and headers["Accept-Ranges"] == "bytes"
    n = len(whole)
    for spec, want in ((f"bytes=0-9", whole[:10]), ("bytes=-7", whole[-7:]),
                       (f"bytes={n - 3}-", whole[-3:]), (f"bytes=5-{n * 2}", whole[5:])):
        status, headers, body = get(url, {"Range": spec})
        assert (status, body) == (206, want), spec
        assert headers["Content-Range"].endswith(f"/{n}"), spec
    status, headers, _ = get(url, {"Range": f"bytes={n}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{n}"
    # several ranges: the whole file (documented)
    assert get(url, {"Range": "bytes=0-1,4-5"})[:3:2] == (200, whole)


def test_validators_and_conditional_requests(raw_server):
    url = f"{raw_server}/tas_day.zarr/tas/.zarray"
    status, headers, body = get(url)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert etag.startswith('"') and modified.endswith("GMT")
    assert get(url, {"If-None-Match": etag})[0] == 304
    assert get(url, {"If-Modified-Since": modified})[0] == 304
    assert get(url, {"If-None-Match": '"stale"'})[:3:2] == (200, body)
    # a Range with an If-Range that does not match: the whole file
    assert get(url, {"Range": "bytes=0-1", "If-Range": '"stale"'})[0] == 200
    assert get(url, {"Range": "bytes=0-1", "If-Range": etag})[0] == 206
    status, headers, head = get(url, method="HEAD")
    assert status == 200 and head == b"" and int(headers["Content-Length"]) == len(body)


def test_missing_writes_and_escapes(raw_server):
    assert get(f"{raw_server}/nothing.zarr/.zmetadata")[0] == 404
    assert get(f"{raw_server}/tas_day.zarr/tas/99.0.0")[0] == 404
    for method in ("PUT", "DELETE", "POST"):
        status, headers, _ = get(f"{raw_server}/tas_day.zarr/.zattrs", method=method)
        assert status == 405 and "GET" in headers["Allow"]
    # urllib normalises nothing: these reach the server as written
    for path in ("/tas_day.zarr/%2e%2e/%2e%2e/etc/passwd", "/%2e%2e/README.md",
                 "/tas_day.zarr%2F..%2F..%2Fetc", "/a%00b"):
        assert get(raw_server + path)[0] == 404, path


def test_cors(raw_server):
    status, headers, _ = get(f"{raw_server}/tas_day.zarr/.zmetadata")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Range" in headers["Access-Control-Expose-Headers"]
    status, headers, _ = get(f"{raw_server}/tas_day.zarr/.zmetadata", method="OPTIONS",
                             headers={"Origin": "https://example.org",
                                      "Access-Control-Request-Method": "GET"})
    assert status == 204 and "GET" in headers["Access-Control-Allow-Methods"]
    assert "Range" in headers["Access-Control-Allow-Headers"]


def test_directory_listings(raw_server, fixtures_mount):
    status, headers, body = get(f"{raw_server}/")
    assert status == 200 and headers["Content-Type"] == "application/json"
    listed = json.loads(body)
    names = {e["name"]: e for e in listed["entries"]}
    assert sorted(names) == sorted(p.name for p in fixtures_mount.iterdir())
    assert names["tas_day.zarr"]["type"] == "directory"
    assert names["catalog.json"]["size"] == (fixtures_mount / "catalog.json").stat().st_size
    status, headers, body = get(f"{raw_server}/tas_day.zarr/", {"Accept": "text/html"})
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'<a href=".zmetadata">' in body


def test_sigterm_stops_cleanly():
    import subprocess
    from conftest import CLOUDIFY
    with served(FIXTURES, "--index-dir", "none") as url:
        assert get(f"{url}/tas_day.zarr/.zgroup")[0] == 200
        pid = int(subprocess.run(["pgrep", "-f", f"{CLOUDIFY} serve .*--index-dir none"],
                                 capture_output=True, text=True).stdout.split()[0])
    # served() sent SIGTERM and waited: the process is gone
    import os
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# --- the cloudify/xpublish routes ------------------------------------------------------------

def dataset_id(name):
    """The id of a fixture's store: its path without .zarr, '/' written '~'."""
    return store_name(name)[: -len(".zarr")].replace("/", "~")


def kerchunk_refs(url, **kw):
    """The route read as cloudify's README does: kerchunk references (`engine="kerchunk"`)."""
    import xarray as xr
    return xr.open_dataset(url, engine="kerchunk", open_dataset_options=kw)


@pytest.mark.parametrize("api", ["zarr", "kerchunk", "kerchunk-refs"])
@pytest.mark.parametrize("name", sorted(set(NAMES) - H5PY_ONLY))
def test_dataset_routes_identical(raw_server, api, name):
    """/datasets/{id}/zarr (decoded chunks) and /kerchunk (raw chunks) read as Zarr stores, and
    /kerchunk read as kerchunk references: identical to the file."""
    route = "kerchunk" if api == "kerchunk-refs" else api
    # kerchunk references: the root group only. zarr 3.1's FsspecStore lists a subgroup of a
    # reference file system under a wrong prefix ("/g" against keys "g/…") and finds no
    # arrays in it; kerchunk's own references of the same file (SingleHdf5ToZarr) fare alike.
    kw = {"open_store": kerchunk_refs, "groups": ["/"]} if api == "kerchunk-refs" else {}
    identical(name, f"{raw_server}/datasets/{dataset_id(name)}/{route}", **kw)


def test_kerchunk_references(raw_server):
    """/kerchunk itself: metadata inline, every chunk file a reference to its own URL."""
    status, headers, body = get(f"{raw_server}/datasets/tas_day/kerchunk")
    assert status == 200 and headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    route = f"{raw_server}/datasets/tas_day/kerchunk"
    assert doc["version"] == 1 and doc["templates"] == {"u": route}
    chunks = {k: v for k, v in doc["refs"].items() if isinstance(v, list)}
    assert chunks and all(v == ["{{u}}/" + k] for k, v in chunks.items())
    for key in list(chunks)[:3]:
        assert get(f"{route}/{key}")[2] == get(f"{raw_server}/tas_day.zarr/{key}")[2]
    assert json.loads(doc["refs"]["tas/.zarray"])["compressor"]["id"] == "zlib"
    # a browser still gets the listing
    status, headers, _ = get(route, headers={"Accept": "text/html"})
    assert status == 200 and headers["Content-Type"].startswith("text/html")


def test_cloudify_notebook_calls(raw_server):
    """The calls cloudify's users make, verbatim (SERVER_URL, dataset_id)."""
    import intake
    import pystac
    import xarray as xr
    SERVER_URL, dataset_id_ = raw_server, "tas_day"
    want = xr.open_dataset(FIXTURES / "tas_day.nc", engine="netcdf4").load()
    for api in ("zarr", "kerchunk"):
        ds = xr.open_dataset(f"{SERVER_URL}/datasets/{dataset_id_}/{api}", engine="zarr",
                             chunks="auto")
        xr.testing.assert_identical(ds.load(), want)
    ds = xr.open_dataset(f"{SERVER_URL}/datasets/{dataset_id_}/kerchunk", engine="kerchunk",
                         chunks="auto")
    xr.testing.assert_identical(ds.load(), want)
    # the encodings tell the two apart: decoded chunks have no compressor, raw ones zlib
    dec = xr.open_dataset(f"{SERVER_URL}/datasets/tas_day/zarr", engine="zarr", chunks="auto")
    raw = xr.open_dataset(f"{SERVER_URL}/datasets/tas_day/kerchunk", engine="zarr", chunks="auto")
    assert not dec.tas.encoding.get("compressors") and raw.tas.encoding.get("compressors")
    cat = intake.open_catalog(SERVER_URL + "/intake.yaml")
    for api in ("kerchunk", "zarr"):
        ds = cat[dataset_id_](method=api).to_dask()
        xr.testing.assert_identical(ds.load(), want)
    stac_collection = pystac.Collection.from_file(f"{SERVER_URL}/stac-collection-all.json")
    items = list(stac_collection.get_all_items())
    _, _, ids = get(f"{SERVER_URL}/datasets")
    assert len(items) == len(json.loads(ids)) > 40
    assert "tas_day" in {i.id for i in items}


def test_dataset_ids_are_the_stores(raw_server, fixtures_mount):
    stores = sorted(str(p.relative_to(fixtures_mount))[: -len(".zarr")].replace("/", "~")
                    for p in fixtures_mount.rglob("*.zarr") if ".zarr/" not in
                    str(p.relative_to(fixtures_mount)))
    status, headers, body = get(f"{raw_server}/datasets")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert sorted(json.loads(body)) == stores
    for bad in ("nothing", "~tas_day", "tas_day~", "tas%2Fday", "..", "tas_day~..~x"):
        assert get(f"{raw_server}/datasets/{bad}/keys")[0] == 404, bad


def test_keys_info_dict_as_xarray(raw_server, fixtures_mount):
    import xarray as xr
    for name in ("tas_day.nc", "packed.nc", "netcdf3_classic.nc"):
        ds = xr.open_zarr(fixtures_mount / store_name(name))
        base = f"{raw_server}/datasets/{dataset_id(name)}"
        assert sorted(json.loads(get(base + "/keys")[2])) == sorted(ds.variables)
        info = json.loads(get(base + "/info")[2])
        assert info["dimensions"] == dict(ds.sizes)
        assert sorted(info["variables"]) == sorted(ds.variables)
        assert info["global_attributes"] == ds.attrs
        d = json.loads(get(base + "/dict")[2])
        assert sorted(d["coords"]) == sorted(ds.coords), name
        assert sorted(d["data_vars"]) == sorted(ds.data_vars), name
        for v, item in d["data_vars"].items():
            assert tuple(item["dims"]) == ds[v].dims and tuple(item["shape"]) == ds[v].shape


def test_stac_catalog_yaml_openapi_health(raw_server, fixtures_mount):
    status, headers, body = get(f"{raw_server}/datasets/stac~cal_julian/stac")
    assert status == 200
    assert body == (fixtures_mount / "stac" / "cal_julian.stac.json").read_bytes()
    status, headers, body = get(f"{raw_server}/datasets/tas_day/catalog.yaml")
    assert status == 200 and headers["Content-Type"].startswith("text/yaml")
    import yaml
    cat = yaml.safe_load(body)
    assert cat["sources"]["tas_day"]["args"]["urlpath"].endswith("/datasets/tas_day/{{ method }}")
    paths = json.loads(get(f"{raw_server}/openapi.json")[2])["paths"]
    for route in ("/datasets", "/datasets/{dataset_id}/zarr/{key}", "/intake.yaml",
                  "/stac-collection-all.json", "/health"):
        assert route in paths, route
    assert get(f"{raw_server}/health")[:3:2] == (200, b"ok\n")


# --- bad and slow clients, changing files ---------------------------------------------------

def test_slow_clients_cost_nothing_else(raw_server):
    """Clients that send half a request and wait hold a connection each, nothing more: others
    are answered meanwhile."""
    import socket
    from urllib.parse import urlparse
    u = urlparse(raw_server)
    slow = []
    for _ in range(50):
        s = socket.create_connection((u.hostname, u.port), timeout=10)
        s.sendall(b"GET /tas_day.zarr/.zmetadata HTTP/1.1\r\nHost: x\r\n")  # no end of headers
        slow.append(s)
    try:
        for _ in range(3):
            assert get(f"{raw_server}/tas_day.zarr/.zgroup")[0] == 200
        # a request line of garbage is a 400 for that client only
        s = socket.create_connection((u.hostname, u.port), timeout=10)
        s.sendall(b"\x00\x01 nonsense\r\n\r\n")
        assert s.recv(64).startswith(b"HTTP/1.1 400")
        s.close()
        assert get(f"{raw_server}/tas_day.zarr/.zgroup")[0] == 200
    finally:
        for s in slow:
            s.close()


def test_a_changed_file_is_never_served_stale(tmp_path):
    """Rewrite a source between two requests: new ETag, the new file's values."""
    import shutil
    import xarray as xr
    shutil.copy(FIXTURES / "tas_day.nc", tmp_path / "a.nc")
    with served(tmp_path, "--index-dir", "none") as url:
        _, headers, before = get(f"{url}/a.zarr/.zmetadata")
        ds = xr.open_dataset(FIXTURES / "tas_day.nc").load()
        ds["tas"] = ds.tas + 1
        ds.isel(time=slice(0, 7)).to_netcdf(tmp_path / "b.nc")
        os.replace(tmp_path / "b.nc", tmp_path / "a.nc")
        _, headers2, after = get(f"{url}/a.zarr/.zmetadata")
        assert headers2["ETag"] != headers["ETag"] and after != before
        assert get(f"{url}/a.zarr/.zmetadata", {"If-None-Match": headers["ETag"]})[0] == 200
        got = xr.open_zarr(f"{url}/a.zarr").load()
        want = xr.open_dataset(tmp_path / "a.nc", engine="netcdf4").load()
        xr.testing.assert_identical(got, want)


# --- the third-party corpus over HTTP --------------------------------------------------------

@pytest.fixture(scope="module", params=["v2", "v3-small-shards"])
def corpus_server(request):
    """The corpus served in v2, and in v3 with shards of at most 1 MB (several per array, each
    index read by a suffix range)."""
    from conftest import CORPUS
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    args = ("--zarr-format", "3", "--shard-size", "1000000") if request.param != "v2" else ()
    with served(CORPUS, *args) as url:
        yield url, (3 if args else None)


@pytest.mark.parametrize("name", sorted(CORPUS_LEFT_OUT))
def test_corpus_identical_over_http(corpus_server, name):
    """The corpus read by xarray over HTTP (a file of many groups with each opened once)."""
    from conftest import CORPUS
    url, zarr_format = corpus_server
    src = CORPUS / name
    store = f"{url}/{name.rsplit('.', 1)[0]}.zarr"
    groups = group_paths(src)
    opened = (opened_once(src, store, zarr_format=zarr_format) if len(groups) > 1
              else (None, None))
    for group in groups:
        compare(src, store, group, CORPUS_LEFT_OUT[name].get(group, []),
                zarr_format=zarr_format, open_source=opened[0], open_store=opened[1])


def test_json_documents_gzip_when_asked(raw_server, fixtures_mount):
    import gzip
    url = f"{raw_server}/tas_day.zarr/.zmetadata"
    plain_ = get(url)
    status, headers, body = get(url, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == plain_[2] == (fixtures_mount / "tas_day.zarr/.zmetadata").read_bytes()
    assert headers["ETag"] != plain_[1]["ETag"] and "Accept-Encoding" in headers["Vary"]
    assert get(url, {"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]})[0] == 304
    # chunks are never compressed again; a range is answered as it is
    _, h, _ = get(f"{raw_server}/tas_day.zarr/tas/0.0.0", {"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in h
    _, h, _ = get(url, {"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert "Content-Encoding" not in h


@pytest.mark.parametrize("path", ["/datasets", "/intake.yaml", "/stac-collection-all.json",
                                  "/openapi.json",
                                  "/datasets/tas_day/kerchunk"])
def test_generated_documents_gzip_when_asked(raw_server, path):
    import gzip
    status, headers, body = get(raw_server + path)
    assert status == 200 and "Content-Encoding" not in headers and len(body) > 1024
    status, headers, zipped = get(raw_server + path, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"] and int(headers["Content-Length"]) == len(zipped)
    assert gzip.decompress(zipped) == body and len(zipped) < len(body)


# --- Zarr v3 (sharded) over HTTP -------------------------------------------------------------

@pytest.fixture(scope="module")
def v3_server():
    with served(FIXTURES, "--contiguous-chunk-size", "20000", "--zarr-format", "3",
                "--shard-size", "100000") as url:
        yield url


@pytest.mark.parametrize("name", sorted(set(NAMES) - H5PY_ONLY))
def test_fixture_identical_over_http_v3(v3_server, name):
    """v3 with shards: zarr-python reads each shard's index by a suffix range."""
    identical(name, f"{v3_server}/{store_name(name)}", zarr_format=3)


def test_v3_routes_and_suffix_ranges(v3_server, fixtures_mount):
    import xarray as xr
    base = f"{v3_server}/datasets/tas_day"
    info = json.loads(get(base + "/info")[2])
    assert info["dimensions"] == dict(xr.open_zarr(fixtures_mount / "tas_day.zarr").sizes)
    want = xr.open_dataset(FIXTURES / "tas_day.nc", engine="netcdf4").load()
    for api in ("zarr", "kerchunk"):
        ds = xr.open_dataset(f"{base}/{api}", engine="zarr", chunks="auto", zarr_format=3)
        xr.testing.assert_identical(ds.load(), want)
    # kerchunk references describe Zarr v2 only: a v3 server says so
    status, _, body = get(f"{base}/kerchunk")
    assert status == 404 and b"Zarr v2" in body
    # a shard's index (16 bytes per inner chunk and a CRC-32C) comes by a suffix range
    path = "tas_day.zarr/tas/c"
    while True:
        entries = json.loads(get(f"{v3_server}/{path}/")[2])["entries"]
        first = entries[0]
        path = f"{path}/{first['name']}"
        if first["type"] == "file":
            break
    whole = get(f"{v3_server}/{path}")[2]
    assert len(whole) == first["size"] > 20
    status, headers, tail = get(f"{v3_server}/{path}", {"Range": "bytes=-20"})
    assert (status, tail) == (206, whole[-20:])


# --- the systemd unit ----------------------------------------------------------------------------

def test_systemd_serve_unit_verifies_and_its_command_works(tmp_path):
    """systemd/cloudify-serve@.service: systemd-analyze accepts it; its ExecStart with the
    example configuration (test paths), under the unit's capability bounding set and
    no_new_privs, serves, tells READY=1 and, on SIGTERM, STOPPING=1, and exits 0."""
    import shutil
    import signal
    import socket
    import subprocess
    from conftest import CLOUDIFY, ROOT, daemon_env
    from systemd_unit import env_file, expand, unit_settings
    unit = ROOT / "systemd" / "cloudify-serve@.service"
    text = unit.read_text()
    if shutil.which("systemd-analyze"):
        installed = tmp_path / "cloudify-serve@example.service"
        installed.write_text(text.replace("ExecStart=cloudify ", f"ExecStart={CLOUDIFY} "))
        r = subprocess.run(["systemd-analyze", "verify", str(installed)], capture_output=True,
                           text=True)
        assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    s = unit_settings(text)
    assert s["Type"] == ["notify"] and s["EnvironmentFile"] == ["/etc/cloudify-serve/%i.conf"]
    env = env_file(ROOT / "systemd" / "serve-example.conf")
    assert set(env) == {"ARCHIVE", "LISTEN", "OPTIONS"}
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    env.update(ARCHIVE=str(FIXTURES), LISTEN=f"127.0.0.1:{port}",
               OPTIONS=env["OPTIONS"] + " --index-dir none")
    start = expand(s["ExecStart"][0], env, "example")
    assert start[:2] == ["cloudify", "serve"]
    caps = ",".join("+" + c.lower().removeprefix("cap_")
                    for c in s["CapabilityBoundingSet"][0].split())
    setpriv = ["setpriv", "--no-new-privs", f"--bounding-set=-all,{caps}"]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(30)
    p = subprocess.Popen([*setpriv, str(CLOUDIFY), *start[1:]], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL,
                         env=daemon_env({"NOTIFY_SOCKET": str(tmp_path / "notify.sock")}))
    try:
        assert sock.recv(64) == b"READY=1"
        status, _, body = get(f"http://127.0.0.1:{port}/datasets/tas_day/keys")
        assert status == 200 and "tas" in json.loads(body)
        p.send_signal(signal.SIGTERM)
        assert sock.recv(64) == b"STOPPING=1"
        assert p.wait(timeout=60) == 0
    finally:
        if p.poll() is None:
            p.kill()
        sock.close()
