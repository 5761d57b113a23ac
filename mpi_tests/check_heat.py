#!/usr/bin/python3
"""Reads heat2d's zarr/LMDB store (100 steps, 64 x 48, any rank count) with
zarr-python alone and checks it: heat/T is the field itself, of shape
(steps, NY, NX), with no padding."""
import sys
import numpy as np
import zarr

store = zarr.LMDBStore(sys.argv[1], readonly=True, lock=False)
g = zarr.open_group(store=store, mode="r")
T = g["heat/T"]
assert T.shape == (11, 48, 64), T.shape
assert g["heat"].attrs["nx"] == 64 and g["heat"].attrs["ny"] == 48
mean = g["heat/mean"][...]
assert mean.shape == (11,)
full = T[...]
# the field's mean is the one the run recorded (to rounding of the sums)
assert np.allclose(full.mean(axis=(1, 2)), mean, rtol=0, atol=1e-12), (
    full.mean(axis=(1, 2)), mean)
# heat is conserved (insulated borders): every snapshot has the same mean
assert np.allclose(mean, mean[0])
# and it diffuses: the peak falls
peak = full.max(axis=(1, 2))
assert np.all(np.diff(peak) < 0), peak
print("heat check: ok")
