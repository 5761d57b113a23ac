"""`simrec png`: records drawn into PNG files, read back with PIL and
checked pixel by pixel against numpy and matplotlib's viridis (the layout
is docs/cli.md's: images scaled to 256..1024 pixels on the longer side, line
plots 800 x 400 with the plot inside a frame 20 pixels from the edges)."""
import errno
import os
import subprocess

import numpy as np
import pytest
from matplotlib import cm
from PIL import Image

import simrec
from conftest import program

NAN = (255, 0, 255)
LINE = (31, 119, 180)
MARK = (214, 39, 40)
W, H, M = 800, 400, 20
X0, X1, Y0, Y1 = M + 1, W - 2 - M, M + 1, H - 2 - M


def draw(store, what, out):
    return subprocess.run([program("SIMREC_CLI"), "png", store, what,
                           str(out)], capture_output=True, text=True)


def drawn(store, what, out):
    r = draw(store, what, out)
    assert r.returncode == 0, r.stderr
    img = Image.open(out)
    assert img.mode == "RGB"
    return np.asarray(img).astype(int), img.info


def viridis(t):
    return np.array(cm.viridis(float(t))[:3]) * 255  # a float: an int indexes


def store_with(tmp_path, key, records):
    uri = "zarr:%s" % (tmp_path / "s.zarr")
    with simrec.Recorder(uri, mode="w") as rec:
        for r in records:
            rec.record(key, r)
    return uri


def check_cells(px, a):
    """Each cell of the 2-d array a, at the centre of its block of pixels,
    has viridis' colour of its place between the finite min and max."""
    rows, cols = a.shape
    k = 256 // max(rows, cols)
    assert px.shape == (rows * k, cols * k, 3)
    v = np.abs(a.astype(np.complex128)) if a.dtype.kind == "c" \
        else a.astype(np.float64)
    lo, hi = np.nanmin(v), np.nanmax(v)
    for i in range(rows):
        for j in range(cols):
            got = px[i * k + k // 2, j * k + k // 2]
            if np.isnan(v[i, j]):
                assert tuple(got) == NAN
                continue
            t = (v[i, j] - lo) / (hi - lo) if hi > lo else 0.5
            assert np.abs(got - viridis(t)).max() <= 6, (i, j, got, t)


def test_2d_last_record_with_nan(tmp_path):
    recs = [np.arange(32, dtype=np.float64).reshape(4, 8) * (s + 1)
            for s in range(3)]
    recs[2][1, 3] = np.nan
    uri = store_with(tmp_path, "f/T", recs)
    px, info = drawn(uri, "f/T", tmp_path / "t.png")
    check_cells(px, recs[2])
    assert float(info["simrec:min"]) == np.nanmin(recs[2])
    assert float(info["simrec:max"]) == np.nanmax(recs[2])
    assert info["simrec:shape"] == "4,8"
    # an earlier record through a slice
    px, _ = drawn(uri, "f/T[0]", tmp_path / "t0.png")
    check_cells(px, recs[0])
    assert sorted(os.listdir(tmp_path)) == ["s.zarr", "t.png", "t0.png"]


def test_3d_mid_plane(tmp_path):
    a = (np.arange(5 * 6 * 7, dtype=np.int32).reshape(5, 6, 7) % 11) * \
        np.arange(1, 6, dtype=np.int32)[:, None, None]
    uri = store_with(tmp_path, "cube", [a])
    r = draw(uri, "cube", tmp_path / "c.png")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "cube[0,2,:,:] -> %s" % (tmp_path / "c.png")
    px = np.asarray(Image.open(tmp_path / "c.png")).astype(int)
    check_cells(px, a[2])
    # a sliced plane is printed as the ranges it read
    r = draw(uri, "cube[0,1,1:5,::3]", tmp_path / "d.png")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "cube[0,1,1:5,0:7:3] -> %s" % (
        tmp_path / "d.png")
    check_cells(np.asarray(Image.open(tmp_path / "d.png")).astype(int),
                a[1, 1:5, ::3])


@pytest.mark.parametrize("dtype", ["float16", "float32", "complex64",
                                   "complex128", "uint8", "int64", "bool",
                                   "int8", "uint64"])
def test_dtypes(tmp_path, dtype):
    base = np.array([[0, 1, 2], [-3, 5, 7]])
    if dtype == "bool":
        a = (base > 1)
    elif dtype.startswith("complex"):
        a = (base + 1j * base[::-1]).astype(dtype)
    elif dtype.startswith("u"):
        a = np.abs(base).astype(dtype)
    else:
        a = base.astype(dtype)
    uri = store_with(tmp_path, "x", [a])
    px, _ = drawn(uri, "x", tmp_path / "x.png")
    check_cells(px, a)


def test_constant(tmp_path):
    uri = store_with(tmp_path, "c", [np.full((3, 5), 7.5)])
    px, info = drawn(uri, "c", tmp_path / "c.png")
    assert (px == viridis(0.5).round().astype(int)).all()
    assert info["simrec:min"] == info["simrec:max"] == "7.5"
    uri = store_with(tmp_path, "l", [np.full(9, -2.0)])
    px, _ = drawn(uri, "l", tmp_path / "l.png")
    rows = {y for y in range(H) for x in range(X0, X1 + 1)
            if tuple(px[y, x]) == LINE}
    assert rows == {(Y0 + Y1) // 2}


def test_1d_line(tmp_path):
    n = 50
    y = np.sin(np.linspace(0, 3 * np.pi, n))
    y[17] = np.nan
    uri = store_with(tmp_path, "line", [y])
    px, info = drawn(uri, "line", tmp_path / "l.png")
    assert px.shape == (H, W, 3)
    lo, hi = np.nanmin(y), np.nanmax(y)
    for i in range(n):
        x = X0 + int(round(i * (X1 - X0) / (n - 1)))
        if np.isnan(y[i]):
            assert tuple(px[Y1, x]) == MARK
            continue
        row = Y1 - int(round((y[i] - lo) / (hi - lo) * (Y1 - Y0)))
        assert tuple(px[row, x]) == LINE, (i, x, row)
    # the line is joined between points: every plot column but those
    # next to the NaN has a line pixel
    nan_x = X0 + round(17 * (X1 - X0) / (n - 1))
    step = (X1 - X0) / (n - 1)
    for x in range(X0, X1 + 1):
        if abs(x - nan_x) <= step + 1:
            continue
        assert (px[Y0:Y1 + 1, x] == LINE).all(axis=1).any(), x
    # the frame
    assert tuple(px[M, W // 2]) == (160, 160, 160)
    assert float(info["simrec:max"]) == hi


def test_large_image_is_scaled(tmp_path):
    a = np.arange(300 * 2000, dtype=np.float32).reshape(300, 2000)
    uri = store_with(tmp_path, "big", [a])
    px, _ = drawn(uri, "big", tmp_path / "b.png")
    assert px.shape == (154, 1024, 3)
    assert np.abs(px[0, 0] - viridis(0)).max() <= 1
    # the nearest value: pixel (y, x) shows a[y * 300 // 154, x * 2000 // 1024]
    for y, x in ((153, 1023), (77, 500), (10, 3)):
        t = a[y * 300 // 154, x * 2000 // 1024] / a.max()
        assert np.abs(px[y, x] - viridis(t)).max() <= 6


def test_refused(tmp_path):
    """Shapes too large to draw, text, empty datasets and an unwritable
    target are refused with a message and no file left behind."""
    import zarr
    d = tmp_path / "h.zarr"
    g = zarr.open_group(str(d), mode="w")
    for name, shape in (("huge", (1, 100000, 100000)),
                        ("long", (1, 1 << 27)), ("none", (0, 4))):
        chunks = (1,) + tuple(min(s, 1000) for s in shape[1:])
        z = g.create_dataset(name, shape=shape, chunks=chunks, dtype="f4")
        z.attrs["_ARRAY_DIMENSIONS"] = ["step"] + \
            ["d%d" % i for i in range(1, len(shape))]
    g.create_dataset("text", data=np.array(["a", "b"], dtype=object),
                     object_codec=__import__("numcodecs").VLenUTF8())
    g["text"].attrs["_ARRAY_DIMENSIONS"] = ["step"]
    uri = "zarr+dir:%s" % d
    limit = "over the limit of %d: give a slice" % (1 << 26)
    for what, why in (("huge", "spans %d elements, " % (100000 * 100000)
                       + limit),
                      ("long", "spans %d elements, " % (1 << 27) + limit),
                      ("none", "holds no records"),
                      ("text", "string values are not numbers")):
        r = draw(uri, what, tmp_path / "o.png")
        assert r.returncode == 1, (what, r)
        assert why in r.stderr, (what, r.stderr)
        # the size is the problem, not the dtype
        assert "float32" not in r.stderr, (what, r.stderr)
    # a slice of it draws (chunks never written read as the fill, 0)
    px, _ = drawn(uri, "huge[0,:3,:4]", tmp_path / "o.png")
    assert px.shape == (192, 256, 3)
    r = draw(uri, "huge[5]", tmp_path / "o.png")
    assert r.returncode == 2 and "bad slice" in r.stderr
    uri = store_with(tmp_path, "ok", [np.ones(3)])
    # the cause is named (the C library's strerror text)
    r = draw(uri, "ok", tmp_path / "missing" / "o.png")
    assert r.returncode == 1 and "cannot write" in r.stderr
    assert os.strerror(errno.ENOENT) in r.stderr, r.stderr
    # the rename over a directory fails: the temporary file is removed
    (tmp_path / "d.png").mkdir()
    r = draw(uri, "ok", tmp_path / "d.png")
    assert r.returncode == 1 and "cannot write" in r.stderr
    assert os.strerror(errno.EISDIR) in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "d.png", "h.zarr", "o.png", "s.zarr"]


def test_corrupt_chunk_names_the_cause(tmp_path):
    """A chunk that does not decode: png says what cat says, the chunk
    and why, not only the status."""
    uri = "zarr+dir:%s" % (tmp_path / "c.zarr")
    with simrec.Recorder(uri, mode="w") as rec:
        rec.record("k", np.arange(6.0).reshape(2, 3))
    chunk = tmp_path / "c.zarr" / "k" / "0.0.0"
    assert chunk.is_file()
    chunk.write_bytes(b"garbage, not blosc")
    r = draw(uri, "k", tmp_path / "o.png")
    assert r.returncode == 1, r
    assert "chunk 'k/0.0.0'" in r.stderr and "corrupt" in r.stderr, r.stderr
    assert not (tmp_path / "o.png").exists()


def test_extremes(tmp_path):
    """The largest finite doubles and infinities: the scale's differences
    do not overflow; infinities go to the ends of the scale."""
    big = np.finfo(np.float64).max
    a = np.array([-big, big, np.inf, -np.inf, 0.0])
    uri = store_with(tmp_path, "x", [a])
    px, info = drawn(uri, "x", tmp_path / "l.png")
    assert float(info["simrec:min"]) == -big
    xs = [X0 + int(round(i * (X1 - X0) / 4)) for i in range(5)]
    assert tuple(px[Y1, xs[0]]) == LINE and tuple(px[Y0, xs[1]]) == LINE
    assert tuple(px[Y0, xs[2]]) == LINE and tuple(px[Y1, xs[3]]) == LINE
    assert tuple(px[(Y0 + Y1) // 2, xs[4]]) == LINE
    uri = store_with(tmp_path, "y", [a.reshape(1, 5)])
    px, _ = drawn(uri, "y", tmp_path / "i.png")
    k = 256 // 5
    for j, t in enumerate((0, 1, 1, 0, 0.5)):
        assert np.abs(px[k // 2, j * k + k // 2] - viridis(t)).max() <= 6



LONG = 1 << 26  # elements of the record of long_store
SPIKE = 12345678


@pytest.fixture(scope="module")
def long_store(tmp_path_factory):
    """A (1, 2^26) float64 record (512 MB), zeros but for two values; its
    chunks are all stored (zeros compress to a few bytes)."""
    import zarr
    d = tmp_path_factory.mktemp("long") / "x.zarr"
    g = zarr.open_group(str(d), mode="w")
    z = g.create_dataset("long", shape=(1, LONG), chunks=(1, 1 << 20),
                         dtype="f8", fill_value=0.0)
    z.attrs["_ARRAY_DIMENSIONS"] = ["step", "x"]
    z[0, :] = 0.0
    z[0, SPIKE] = 5.0
    z[0, LONG - 1] = -3.0
    g.attrs["_simrec_finished"] = True  # `watch` ends after its records
    return "zarr+dir:%s" % d


def peak_rss(*args):
    """Run the CLI with args: its exit status, stdout and peak RSS in KB
    (a driver of its own waits for it, so nothing else is counted)."""
    import sys
    driver = ("import resource, subprocess, sys\n"
              "r = subprocess.run(sys.argv[1:], capture_output=True, "
              "text=True)\n"
              "print(r.stdout + r.stderr, end='')\n"
              "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
              "sys.exit(r.returncode)\n")
    r = subprocess.run([sys.executable, "-c", driver, program("SIMREC_CLI")]
                       + list(args), capture_output=True, text=True,
                       timeout=300)
    out = r.stdout.splitlines()
    return r.returncode, "\n".join(out[:-1]), int(out[-1])


def test_extreme_shape_memory_is_bounded(long_store, tmp_path):
    """The (1, 2^26) record is drawn with a peak RSS far below its size:
    the selection is read by blocks and only what the picture shows is
    kept (the whole array in memory made 1 GB). The picture still shows
    the one spike and the range of every value."""
    out = tmp_path / "long.png"
    rc, said, kb = peak_rss("png", long_store, "long", str(out))
    assert rc == 0, said
    assert kb < 256 * 1024, "peak RSS %d KB" % kb
    img = Image.open(out)
    px = np.asarray(img).astype(int)
    assert px.shape == (H, W, 3)
    assert float(img.info["simrec:min"]) == -3.0
    assert float(img.info["simrec:max"]) == 5.0
    x = X0 + int(round(SPIKE * (X1 - X0) / (LONG - 1)))
    assert tuple(px[Y0, x]) == LINE  # the spike reaches the top
    assert tuple(px[Y1, X1]) == LINE  # the last value the bottom
    # as an image (1 x 2^26 values: 1 x 1024 pixels), bounded the same
    rc, said, kb = peak_rss("png", long_store, "long[:,:]", str(out))
    assert rc == 0 and kb < 256 * 1024, (said, kb)
    assert np.asarray(Image.open(out)).shape == (1, 1024, 3)


def test_cat_of_a_stepped_slice_reads_by_blocks(long_store):
    """`cat` of 8 elements whose steps span the whole 2^26: memory bounded
    by a block, not by the box that holds them (512 MB), and the values
    are numpy's."""
    step = SPIKE // 2 + 1
    rc, said, kb = peak_rss("cat", long_store, "long", "0,::%d" % step)
    assert rc == 0, said
    assert kb < 256 * 1024, "peak RSS %d KB" % kb
    want = np.zeros(LONG)
    want[SPIKE] = 5.0
    want[-1] = -3.0
    got = [float(v) for v in said.split()]
    assert got == list(want[::step]), said


def test_watch_png_of_an_extreme_shape_is_bounded(long_store, tmp_path):
    """`watch --png` of the (1, 2^26) record: its summary and picture are
    made block by block (reading the record whole made 1 GB)."""
    out = tmp_path / "w.png"
    rc, said, kb = peak_rss("watch", long_store, "long", "--png", str(out))
    assert rc == 0, said
    assert kb < 256 * 1024, "peak RSS %d KB" % kb
    assert said.splitlines()[0] == "0 min=-3 max=5 mean=%.9g" % (2.0 / LONG)
    img = Image.open(out)
    assert float(img.info["simrec:max"]) == 5.0


def test_watch_of_a_hostile_shape_ends(tmp_path):
    """A .zarray that claims (3, 2^40) elements of fill value: watch says
    each record is too large to summarise instead of reading 2^40 values
    (hours), and ends with the finished writer."""
    import json
    path = tmp_path / "h.zarr"
    uri = "zarr+dir:%s" % path
    with simrec.Recorder(uri, mode="w") as rec:
        for s in range(3):
            rec.record("line", np.arange(4.) + s)
    meta_p = path / "line" / ".zarray"
    meta = json.loads(meta_p.read_text())
    meta["shape"] = [3, 2 ** 40]
    meta["chunks"] = [1, 2 ** 20]
    meta["fill_value"] = 0
    meta_p.write_text(json.dumps(meta))
    for f in (path / "line").iterdir():
        if not f.name.startswith("."):
            f.unlink()
    r = subprocess.run([program("SIMREC_CLI"), "watch", uri, "line",
                        "--timeout", "5"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == [
        "%d %d elements: not summarised (more than %d)" % (i, 2 ** 40, 2 ** 30)
        for i in range(3)], r.stdout
