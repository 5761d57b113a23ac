#!/usr/bin/python3
"""Reads heat2d's zarr/LMDB store with zarr-python alone and checks it."""
import sys
import numpy as np
import zarr

store = zarr.LMDBStore(sys.argv[1], readonly=True, lock=False)
g = zarr.open_group(store=store, mode="r")
T = g["heat/T"]
assert T.shape == (11, 4, 12, 64), T.shape
assert g["heat"].attrs["nx"] == 64 and g["heat"].attrs["ny"] == 48
mean = g["heat/mean"][...]
assert mean.shape == (11,)
full = T[...].reshape(11, 48, 64)
# heat is conserved (insulated borders): every snapshot has the same mean
assert np.allclose(full.mean(axis=(1, 2)), mean), (full.mean(axis=(1, 2)), mean)
assert np.allclose(mean, mean[0])
# and it diffuses: the peak falls
peak = full.max(axis=(1, 2))
assert np.all(np.diff(peak) < 0), peak
print("heat check: ok")
