#!/usr/bin/python3
"""Reads test_global's global arrays with zarr-python or h5py alone and
compares them, bit for bit, with the arrays numpy builds from the formula
(independent of any decomposition).
usage: check_global.py zarr|zarr+dir|hdf5|redis PATH STEPS [CHUNKS1 CHUNKS2 CHUNKS3]
(redis: PATH is the prefix on SIMREC_REDIS_HOST, read with redis-py, a Redis
Cluster if it names several hosts)
(STEPS ">=N": as many as each array shows, at least N and at least 1)
(CHUNKSk: the expected chunk shape of key k, as "1,125" etc., optional)"""
import sys
import numpy as np

kind, path = sys.argv[1], sys.argv[2]
auto = sys.argv[3].startswith(">=")
least = max(1, int(sys.argv[3][2:])) if auto else 0
steps = 0 if auto else int(sys.argv[3])
fewest = None
chunks = sys.argv[4:7]

KEYS = [("g1", "<f8", (1000,)), ("field/g2", "<i4", (37, 23)),
        ("field/g3", "<f8", (13, 11, 7))]


def expected(dtype, shape):
    n = int(np.prod(shape))
    lin = np.arange(n, dtype=np.uint64)
    out = []
    for s in range(steps):
        if dtype == "<i4":
            v = ((s * 7919 + lin * 31) % 100003).astype("<i4")
        else:
            v = s * 100000.0 + lin.astype("<f8") + 0.25
        out.append(v.reshape(shape))
    return np.stack(out)


def open_root():
    if kind == "redis":
        import os
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from redis_root import Root
        return Root(path)
    if kind == "hdf5":
        import h5py
        return h5py.File(path, "r")
    import zarr
    if kind == "zarr":
        return zarr.open(zarr.LMDBStore(path, readonly=True, lock=False), mode="r")
    return zarr.open(path, mode="r")


root = open_root()
for i, (key, dtype, shape) in enumerate(KEYS):
    a = root[key]
    if auto:
        steps = a.shape[0]
        assert steps >= least, (key, a.shape, least)
        fewest = steps if fewest is None else min(fewest, steps)
    assert a.shape == (steps,) + shape, (key, a.shape)
    assert a.dtype == np.dtype(dtype), (key, a.dtype)
    got = a[...]
    want = expected(dtype, shape)
    if not np.array_equal(got.view(np.uint8), want.view(np.uint8)):
        bad = np.argwhere(got != want)
        raise SystemExit(f"{key}: {len(bad)} elements differ, first at {bad[0]}")
    assert a.chunks[0] == 1, (key, a.chunks)
    if chunks and chunks[i] != "-":
        want_chunks = tuple(int(c) for c in chunks[i].split(","))
        assert a.chunks == want_chunks, (key, a.chunks, want_chunks)
assert "bad" not in root, "a refused step left a dataset"
print(f"check_global {kind}: {fewest if auto else steps} steps ok")
