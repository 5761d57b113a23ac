#!/usr/bin/python3
"""Reads test_faults' "run/u" with zarr-python or h5py alone: every
visible step must hold what was recorded (no zero-filled rank).
usage: check_faults.py zarr|zarr+dir|hdf5 PATH [=N]
prints "steps S torn T"; exits 1 if a step is torn or S differs from N."""
import sys
import numpy as np

kind, path = sys.argv[1], sys.argv[2]
if kind == "hdf5":
    import h5py
    f = h5py.File(path, "r")
else:
    import zarr
    store = zarr.LMDBStore(path, readonly=True, lock=False) if kind == "zarr" else path
    f = zarr.open(store, mode="r")
if "run" not in f or "u" not in f["run"]:
    steps, torn = 0, 0
else:
    u = f["run/u"][...]
    steps = u.shape[0]
    s, r, i = np.meshgrid(np.arange(steps), np.arange(u.shape[1]),
                          np.arange(u.shape[2]), indexing="ij")
    want = 1.0 + s * 1e4 + r * 100.0 + (i % 100)
    torn = int(np.sum(np.any(u != want, axis=(1, 2)))) if steps else 0
print(f"steps {steps} torn {torn}")
bad = torn > 0
if len(sys.argv) > 3 and sys.argv[3].startswith("="):
    bad |= steps != int(sys.argv[3][1:])
sys.exit(1 if bad else 0)
