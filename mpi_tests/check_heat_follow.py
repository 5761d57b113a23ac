"""Check what examples/heat2d_follow.py printed and drew while heat2d ran,
against the finished store read afterwards with zarr-python (not simrec):

    check_heat_follow.py STORE_DIR LINES PNG_DIR PNG_EVERY

Every snapshot of heat/T has exactly one line, in order, after the
"following" line, and each number equals numpy's on the stored snapshot
(the same operations on the same float64 values: equal, not close). The
pictures are T_RECORD.png for each record index that is a multiple of
PNG_EVERY and for the last one, and no other: each decodes (PIL), has the
size docs/cli.md gives (each cell a k x k block, k = 256 // longer side),
the text chunks simrec:shape, simrec:min and simrec:max of its snapshot,
and viridis' ends at the cells of the snapshot's min and max."""
import os
import sys

import numpy as np
import zarr
from matplotlib import cm
from PIL import Image


def expected_lines(T, every):
    first, prev, out = None, None, []
    for i in range(T.shape[0]):
        t = T[i]
        heat = t.sum()
        first = heat if first is None else first
        change = 0.0 if prev is None else np.sqrt(((t - prev) ** 2).sum())
        prev = t
        out.append("%d %d mean=%.17g max=%.17g heat=%.17g drift=%.17g "
                   "change=%.17g" % (i, i * every, t.mean(), t.max(), heat,
                                     heat - first, change))
    return out


def check_png(path, t):
    img = Image.open(path)
    img.load()
    ny, nx = t.shape
    k = 256 // max(ny, nx)
    assert img.mode == "RGB" and img.size == (nx * k, ny * k), \
        (path, img.mode, img.size)
    assert img.info["simrec:shape"] == "%d,%d" % (ny, nx), img.info
    assert float(img.info["simrec:min"]) == t.min(), (path, img.info)
    assert float(img.info["simrec:max"]) == t.max(), (path, img.info)
    px = np.asarray(img).astype(int)
    for cell, end in ((np.unravel_index(t.argmin(), t.shape), 0.0),
                      (np.unravel_index(t.argmax(), t.shape), 1.0)):
        got = px[cell[0] * k + k // 2, cell[1] * k + k // 2]
        want = np.array(cm.viridis(end)[:3]) * 255
        assert np.abs(got - want).max() <= 6, (path, cell, got, want)


def main(store_dir, lines_path, png_dir, png_every):
    g = zarr.open_group(zarr.DirectoryStore(store_dir), mode="r")
    T = g["heat/T"][...]
    every = int(g["heat"].attrs["every"])
    with open(lines_path) as f:
        lines = f.read().splitlines()
    assert lines and lines[0].startswith("following heat/T in "), lines[:1]
    want = expected_lines(T, every)
    assert len(T) > 1, T.shape
    assert lines[1:] == want, "\n".join(
        "got  %s\nwant %s" % (g_, w) for g_, w in zip(lines[1:], want)
        if g_ != w) or (len(lines) - 1, len(want))
    n = T.shape[0]
    drawn = sorted({i for i in range(n) if i % png_every == 0} | {n - 1})
    names = ["T_%05d.png" % i for i in drawn]
    assert sorted(os.listdir(png_dir)) == names, os.listdir(png_dir)
    for i, name in zip(drawn, names):
        check_png(os.path.join(png_dir, name), T[i])
    print("heat2d follower: %d snapshots of %d x %d, %d lines equal to "
          "numpy, %d pictures" % (n, T.shape[1], T.shape[2], n, len(names)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
