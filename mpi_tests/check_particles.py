#!/usr/bin/python3
"""Check the particles example's output against a serial recomputation of
its formula (numpy): check_particles.py URI NP [SCHEME PATH]

Every step holds each of the N particles once (the count is conserved),
at the place and velocity the formula gives; particles/count gives each
rank's rows, and the rows of rank r, in rank order, all lie in r's slab.
With SCHEME zarr or zarr+dir (PATH), zarr-python reads the same steps from
the joined arrays' layout, with no simrec code."""
import sys

import numpy as np

import simrec

G = (0.6180339887498949, 0.7548776662466927, 0.5698402909980532)


def start(n):
    """the initial particles, as examples/particles.c makes them"""
    i = np.arange(n, dtype=np.int64).astype(np.float64)
    x = np.fmod(i * G[0], 1.0)
    return (x * x, np.fmod(i * G[1], 1.0), np.fmod(i * G[2], 1.0) - 0.5,
            np.full(n, 0.25))


def wrap(x):
    x = np.where(x >= 1, x - 1, x)
    return np.where(x < 0, x + 1, x)


def owner(x, size):
    return np.minimum((x * size).astype(np.int64), size - 1)


def check_step(s, ids, state, counts, want, size):
    n = len(want[0])
    assert ids.shape == (n,) and state.shape == (n, 4), (s, ids.shape,
                                                         state.shape)
    assert np.array_equal(np.sort(ids), np.arange(n)), "step %d: ids" % s
    assert counts.shape == (size,) and counts.sum() == n, (s, counts)
    expect = np.stack([w[ids] for w in want], axis=1)
    assert np.array_equal(state, expect), (
        "step %d: max difference %g" % (s, np.max(np.abs(state - expect))))
    # rank order: the rows of rank r lie in r's slab
    ranks = np.repeat(np.arange(size), counts)
    assert np.array_equal(owner(state[:, 0], size), ranks), "step %d" % s


def main():
    uri, size = sys.argv[1], int(sys.argv[2])
    with simrec.Recorder(uri, mode="r") as rec:
        a = rec.attributes("particles")
        n, dt = a["n"], a["dt"]
        ids, states = rec.get_all("particles/id"), rec.get_all(
            "particles/state")
        counts = np.asarray(rec.get_all("particles/count"))
        steps = len(ids)
        assert len(states) == steps and counts.shape == (steps, size), (
            len(states), counts.shape)
        x, y, vx, vy = start(n)
        for s in range(steps):
            check_step(s, ids[s], states[s], counts[s], (x, y, vx, vy), size)
            x, y = wrap(x + dt * vx), wrap(y + dt * vy)
        last = (ids[steps - 1], states[steps - 1])
    if len(sys.argv) > 4:
        check_zarr(sys.argv[3], sys.argv[4], steps, last)
    print("particles check: %s np=%d: %d steps of %d particles ok"
          % (uri, size, steps, n))


def check_zarr(scheme, path, steps, last):
    import zarr
    store = zarr.LMDBStore(path, readonly=True, lock=False) \
        if scheme == "zarr" else zarr.DirectoryStore(path)
    root = zarr.open_group(store=store, mode="r")
    for key, want in zip(("particles/id", "particles/state"), last):
        # a CF contiguous ragged array: the rows, and KEY_count per step
        c = root[key + "_count"][...]
        assert c.shape == (steps,), (key, c.shape)
        rows = root[key][int(c[:-1].sum()):]
        assert rows.shape[0] == c[-1] and np.array_equal(rows, want), key


main()
