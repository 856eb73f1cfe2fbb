"""Quick-look plots over HTTP (issue 22): `/datasets/{id}/plot/{var}/{kind}/{cmap}/{selection…}`
on a real `cloudify serve`. The PNG is decoded here: its size, colours that follow a field of
known gradient (west low, east high), masked cells in the background colour; selections by
index and by value, SVG, 400s for what is not allowed, 413 over the size limit, a changed source
drawn anew."""
import re
import struct
import urllib.error
import urllib.request
import zlib

import netCDF4
import numpy as np
import pytest

from conftest import FIXTURES, served

VIRIDIS_LOW, VIRIDIS_HIGH = (68, 1, 84), (253, 231, 37)
WHITE = (255, 255, 255)


def make_gradient(path, offset=0.0):
    """tas(time 3, lat 30, lon 60) = 200 + lon index + 100 × time index, a fill-valued block
    in the middle (lat 12–17, lon 25–34); noleap days since 2000-01-01."""
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("time", 3)
        ds.createDimension("lat", 30)
        ds.createDimension("lon", 60)
        t = ds.createVariable("time", "f8", ("time",))
        t.units, t.calendar = "days since 2000-01-01", "noleap"
        t[:] = [0, 31, 59]
        lat = ds.createVariable("lat", "f4", ("lat",))
        lat.units, lat.standard_name = "degrees_north", "latitude"
        lat[:] = np.arange(-87, 90, 6)
        lon = ds.createVariable("lon", "f4", ("lon",))
        lon.units, lon.standard_name = "degrees_east", "longitude"
        lon[:] = np.arange(3, 360, 6)
        height = ds.createVariable("height", "f4", ())
        height.units = "m"
        height.assignValue(2.0)
        v = ds.createVariable("tas", "f4", ("time", "lat", "lon"), fill_value=np.float32(-999))
        v.units, v.long_name = "K", "gradient field"
        field = 200 + np.arange(60)[None, None, :] + 100 * np.arange(3)[:, None, None] + offset
        data = np.broadcast_to(field, (3, 30, 60)).astype("f4").copy()
        data[:, 12:18, 25:35] = -999
        v[:] = data


def png(body):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB PNG."""
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, w, h = 8, b"", 0, 0
    while at < len(body):
        n, kind = struct.unpack(">I4s", body[at:at + 8])
        data = body[at + 8:at + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color = struct.unpack(">IIBB", data[:10])
            assert (depth, color) == (8, 2), (depth, color)
        elif kind == b"IDAT":
            idat += data
        at += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * 3, [], bytearray(w * 3)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, 3)])
        prev = line
    return w, h, rows


def near(a, b, tol=24):
    return sum(abs(x - y) for x, y in zip(a, b)) <= tol


def get(u, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(u, headers=headers or {})) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("plots")
    make_gradient(root / "gradient.nc")
    return root


@pytest.fixture(scope="module")
def url(archive):
    with served(archive) as u:
        yield f"{u}/datasets/gradient/plot/tas"


@pytest.mark.parametrize("selection", ["", "/time/2000-02", "/time/1_2", "/time/0_1"])
def test_map_colours_follow_the_data_and_masked_cells_are_background(url, selection):
    status, headers, body = get(f"{url}/map/viridis{selection}")
    assert status == 200 and headers["Content-Type"] == "image/png", body[:200]
    w, h, rows = png(body)
    assert (w, h) == (900, 450)
    row = rows[h // 2]  # through the masked block (lat 12–17 of 30)
    low = [x for x, c in enumerate(row) if near(c, VIRIDIS_LOW)]
    high = [x for x, c in enumerate(row) if near(c, VIRIDIS_HIGH)]
    assert low and high and low[0] < high[-1] - 400, (low[:3], high[-3:])
    west, east = low[0], high[-1]
    # the block's columns (25–34 of 60) are the background; the same columns far from it are not
    middle = west + (east - west) * 30 // 60
    assert row[middle] == WHITE
    assert rows[h // 5][middle] != WHITE
    # colours rise from west to the block: viridis' green channel grows
    greens = [row[x][1] for x in range(west, west + (east - west) * 24 // 60)]
    assert all(b + 2 >= a for a, b in zip(greens, greens[1:])) and greens[-1] > greens[0] + 60


def test_coolwarm_runs_from_moreland_blue_through_white_to_red(url):
    """coolwarm is computed (Moreland's Msh interpolation, as matplotlib's table was made):
    the field's west end in its blue (59, 76, 192), the east end in its red (180, 4, 38),
    the middle of the range near white-grey (221, 221, 221)."""
    status, _, body = get(f"{url}/map/coolwarm/time/0_1")
    assert status == 200
    w, h, rows = png(body)
    row = rows[h // 5]  # clear of the masked block
    blue = [x for x, c in enumerate(row) if near(c, (59, 76, 192), 12)]
    red = [x for x, c in enumerate(row) if near(c, (180, 4, 38), 12)]
    assert blue and red and blue[0] < red[-1] - 400, (blue[:3], red[-3:])
    middle = row[(blue[0] + red[-1]) // 2]
    assert near(middle, (221, 221, 221), 30), middle
    reversed_ = png(get(f"{url}/map/coolwarm_r/time/0_1")[2])[2][h // 5]
    assert near(reversed_[blue[0]], (180, 4, 38), 12)


def test_line_hist_and_svg(url):
    for path in ("/line/RdBu_r", "/line/viridis/lat/10_20/lon/0_5", "/hist/magma"):
        status, headers, body = get(url + path)
        assert status == 200 and headers["Content-Type"] == "image/png", (path, body[:200])
        assert png(body)[:2] == (900, 450)
    status, headers, body = get(url + "/map/viridis.svg")
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"
    assert body.startswith(b"<svg") and body.count(b"<rect") > 1700  # a rectangle per cell
    status, headers, body = get(url + "/map/viridis", {"Accept": "image/svg+xml"})
    assert headers["Content-Type"] == "image/svg+xml" and body.startswith(b"<svg")


@pytest.mark.parametrize("path,words", [
    ("/map/jet", b"known: viridis"),
    ("/contour/viridis", b"map, line or hist"),
    ("/map/viridis/lev/850", b"no dimension \"lev\""),
    ("/map/viridis/time/0_2", b"select one step"),
    ("/map/viridis/time/2_1", b"lo < hi"),
    ("/map/viridis/time/0_9", b"has 3 steps"),
    ("/map/viridis/time", b"pairs"),
])
def test_bad_requests_are_400(url, path, words):
    status, _, body = get(url + path)
    assert status == 400 and words in body, (status, body)


def test_unknown_variable_and_a_scalar_line_are_400(archive):
    with served(archive) as u:
        status, _, body = get(f"{u}/datasets/gradient/plot/nothing/map/viridis")
        assert status == 400 and b"tas" in body
        status, _, body = get(f"{u}/datasets/gradient/plot/height/line/viridis")
        assert status == 400 and b"no dimension" in body, body
        status, _, body = get(f"{u}/datasets/gradient/plot/height/map/viridis")
        assert status == 400 and b"two dimensions" in body, body
        status, headers, _ = get(f"{u}/datasets/gradient/plot/height/hist/viridis")
        assert status == 200 and headers["Content-Type"] == "image/png"


def test_over_the_size_limit_is_413(archive):
    with served(archive, "--max-derived-size", "8000") as u:
        status, _, body = get(f"{u}/datasets/gradient/plot/tas/line/viridis")
        assert status == 413, body
        # one step of 30 × 60 values is within 8000 bytes / 8
        status, _, _ = get(f"{u}/datasets/gradient/plot/tas/map/viridis/lat/0_10")
        assert status == 200


def test_a_changed_source_is_drawn_anew(tmp_path):
    import os
    make_gradient(tmp_path / "gradient.nc")
    with served(tmp_path, "--index-dir", "none") as u:
        first = get(f"{u}/datasets/gradient/plot/tas/hist/viridis")[2]
        assert get(f"{u}/datasets/gradient/plot/tas/hist/viridis")[2] == first  # cached
        make_gradient(tmp_path / "gradient.nc", offset=0.5)
        st = os.stat(tmp_path / "gradient.nc")
        os.utime(tmp_path / "gradient.nc", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        assert get(f"{u}/datasets/gradient/plot/tas/hist/viridis")[2] != first


def test_a_rotated_pole_grid_is_drawn_on_true_longitude_and_latitude():
    """rotated_pole.nc has only rlat/rlon and a rotated_latitude_longitude grid mapping: the map
    is drawn as quadrilaterals on true longitude/latitude, its axes spanning the grid's true
    bbox (cell centres 4.01–31.99°E, 45.14–55.75°N, as test_stac has it), the pole named."""
    with served(FIXTURES / "stac") as u:
        status, _, body = get(f"{u}/datasets/rotated_pole/plot/tas/map/viridis.svg")
    assert status == 200
    texts = [(float(x), float(y), t.strip()) for x, y, t in
             re.findall(r'<text x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', body.decode())]
    assert texts[0][2] == "tas, rotated pole at 39.25°N 162°W"
    words = {t for _, _, t in texts}
    assert {"longitude", "latitude"} <= words
    bottom = max(y for x, y, t in texts if t == "5" or t == "10")  # the x axis' tick row
    xs = [float(t) for x, y, t in texts if y == bottom and re.fullmatch(r"-?[\d.]+", t)]
    ys = [float(t) for x, y, t in texts if x == 60 and re.fullmatch(r"-?[\d.]+", t)]
    assert xs and ys
    # ticks at round numbers inside the drawn cells (centres ± half a cell), spanning them
    assert all(0 <= v <= 36 for v in xs) and min(xs) <= 9 and max(xs) >= 27, xs
    assert all(43 <= v <= 58 for v in ys) and min(ys) <= 47 and max(ys) >= 54, ys
    assert body.count(b"<polygon") == 6 * 5  # one quadrilateral per cell
