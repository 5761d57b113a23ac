#!/usr/bin/python3
"""Check heat2d's output against the same computation done serially in
numpy: heat2d_check.py STORE [STORE...]

For each store: heat/T must have shape (snapshots, NY, NX); every snapshot
must match a serial numpy run of the same stencil from the same initial
field (to 1e-12: the initial exp() may differ by an ulp between libm and
numpy; the stencil itself is evaluated in the same order as heat2d.c), and
its mean must match heat/mean as the run recorded it. With several stores,
heat/T must be the same bytes in all of them (runs on other rank counts,
other stores). Exits 1 on any difference. Reads through the simrec Python
package (PYTHONPATH, SIMREC_LIBRARY)."""
import sys

import numpy as np

import simrec

TOL = 1e-12


def initial(nx, ny):
    x = np.arange(nx, dtype=np.float64) / nx - 0.5
    y = np.arange(ny, dtype=np.float64)[:, None] / ny - 0.5
    return np.exp(-40 * (x * x + y * y))


def diffuse(T, alpha):
    """one step with insulated borders: a missing neighbour is the cell"""
    P = np.pad(T, 1, mode="edge")
    n, s = P[:-2, 1:-1], P[2:, 1:-1]
    w, e = P[1:-1, :-2], P[1:-1, 2:]
    return T + alpha * (n + s + w + e - 4 * T)


def reference(nx, ny, alpha, every, snapshots):
    T, out = initial(nx, ny), []
    for k in range(snapshots):
        if k:
            for _ in range(every):
                T = diffuse(T, alpha)
        out.append(T)
    return np.stack(out)


def check(uri):
    """heat/T of uri as a numpy array, after checking it; or exit 1."""
    with simrec.Recorder(uri, mode="r") as rec:
        a = rec.attributes("heat")
        nx, ny, alpha, every = a["nx"], a["ny"], a["alpha"], a["every"]
        T = np.asarray(rec.get_all("heat/T"))
        mean = np.asarray(rec.get_all("heat/mean"))
    if T.ndim != 3 or T.shape[1:] != (ny, nx) or mean.shape != T.shape[:1]:
        sys.exit("heat2d check: %s: heat/T has shape %s, heat/mean %s; "
                 "want (steps, %d, %d) and (steps,)"
                 % (uri, T.shape, mean.shape, ny, nx))
    ref = reference(nx, ny, alpha, every, T.shape[0])
    err = float(np.max(np.abs(T - ref)))
    merr = float(np.max(np.abs(T.mean(axis=(1, 2)) - mean)))
    print("heat2d check: %s: %d snapshots of %d x %d, max |T - numpy| = %.3g, "
          "max |mean(T) - heat/mean| = %.3g" % (uri, T.shape[0], ny, nx, err,
                                                merr))
    if not err <= TOL or not merr <= TOL:
        sys.exit("heat2d check: %s differs from the serial numpy run "
                 "(tolerance %g)" % (uri, TOL))
    return T


def main(uris):
    if not uris:
        sys.exit(__doc__)
    first = check(uris[0])
    for uri in uris[1:]:
        T = check(uri)
        if T.shape != first.shape or T.tobytes() != first.tobytes():
            sys.exit("heat2d check: heat/T of %s and %s differ"
                     % (uris[0], uri))
    if len(uris) > 1:
        print("heat2d check: heat/T is the same bytes in all %d stores"
              % len(uris))


if __name__ == "__main__":
    main(sys.argv[1:])
