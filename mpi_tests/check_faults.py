#!/usr/bin/python3
"""Reads test_faults' keys ("run/u", "run/u1", ..., "indep/e") with
zarr-python or h5py alone: every visible step must hold what was recorded
(no zero-filled or torn rank); "meta/state", if there, must be
one step's value (SIMREC_TEST_SET).
usage: check_faults.py zarr|zarr+dir|hdf5 PATH [=N|>=N]
prints "steps S torn T max M keys K" as test_faults check does (S the
fewest steps of a key, M the most); exits 1 if a step is torn or S
differs from N (=N) or is below N (>=N)."""
import sys
import numpy as np


def value(s, r, i, k):
    """What test_faults records (value() in test_faults.c)."""
    u = np.uint64
    with np.errstate(over="ignore"):
        x = (s.astype(u) << u(40)) ^ (r.astype(u) << u(32)) ^ \
            (u(k & 0xFFFFFFFFFFFFFFFF) << u(28)) ^ i.astype(u)
        x ^= x >> u(30)
        x *= u(0xBF58476D1CE4E5B9)
        x ^= x >> u(27)
        x *= u(0x94D049BB133111EB)
        x ^= x >> u(31)
    noise = (x >> u(12)).astype(np.float64) * 2.0**-53
    return 1.0 + s * 1e4 + r * 100.0 + (i % 100) + noise


def torn_steps(a, k):
    if a.ndim == 2:  # an independent record: rank 0's
        a = a[:, None, :]
    if not a.shape[0]:
        return 0
    s, r, i = np.meshgrid(np.arange(a.shape[0]), np.arange(a.shape[1]),
                          np.arange(a.shape[2]), indexing="ij")
    want = value(s, r, i, k)
    return int(np.sum(np.any(a != want, axis=(1, 2))))


kind, path = sys.argv[1], sys.argv[2]
if kind == "hdf5":
    import h5py
    f = h5py.File(path, "r")
else:
    import zarr
    store = zarr.LMDBStore(path, readonly=True, lock=False) if kind == "zarr" else path
    f = zarr.open(store, mode="r")
keys = []
if "run" in f and "u" in f["run"]:
    keys.append(("run/u", 0))
    while "u%d" % len(keys) in f["run"]:
        keys.append(("run/u%d" % len(keys), len(keys)))
    if "indep" in f and "e" in f["indep"]:
        keys.append(("indep/e", -1))
steps = [f[name].shape[0] for name, _ in keys]
torn = sum(torn_steps(f[name][...], k) for name, k in keys)
if "meta" in f and "state" in f["meta"]:  # SIMREC_TEST_SET: one step's value
    v = f["meta/state"][...]
    s = np.full(v.shape, int((v[0] - 1.0) // 1e4))
    i = np.arange(v.shape[0])
    torn += int(np.any(v != value(s, np.zeros_like(i), i, -2)))
lo, hi = (min(steps), max(steps)) if steps else (0, 0)
print(f"steps {lo} torn {torn} max {hi} keys {len(keys)}")
bad = torn > 0
if len(sys.argv) > 3 and sys.argv[3].startswith("="):
    bad |= lo != int(sys.argv[3][1:])
elif len(sys.argv) > 3 and sys.argv[3].startswith(">="):
    bad |= lo < int(sys.argv[3][2:])
sys.exit(1 if bad else 0)
