"""The picture `simrec watch --png` left: record STEP of follow_data.h's
field/T (s * 10000 + i * 100 + j on 12 x 10), drawn as docs/cli.md says
(`simrec png`): each value a k x k block, k = 256 // 12, coloured by
matplotlib's viridis from the record's min to its max, with the text
chunks simrec:shape, simrec:min, simrec:max.
    check_watch_png.py PNG STEP"""
import sys

import numpy as np
from matplotlib import cm
from PIL import Image

NY, NX = 12, 10


def main(path, step):
    a = step * 10000.0 + np.arange(NY)[:, None] * 100.0 + np.arange(NX)
    img = Image.open(path)
    img.load()
    assert img.mode == "RGB", img.mode
    k = 256 // max(NY, NX)
    assert img.size == (NX * k, NY * k), img.size
    info = img.info
    assert info["simrec:shape"] == "%d,%d" % (NY, NX), info
    assert float(info["simrec:min"]) == a.min(), info
    assert float(info["simrec:max"]) == a.max(), info
    px = np.asarray(img).astype(int)
    lo, hi = a.min(), a.max()
    for i in range(NY):
        for j in range(NX):
            want = np.array(cm.viridis(float((a[i, j] - lo) / (hi - lo)))[:3])
            block = px[i * k:(i + 1) * k, j * k:(j + 1) * k]
            assert (block == block[0, 0]).all(), (i, j)
            assert np.abs(block[0, 0] - want * 255).max() <= 6, \
                (i, j, block[0, 0], want * 255)
    print("png of record %d: ok" % step)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
