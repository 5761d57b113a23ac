#!/usr/bin/python3
"""Reads test_joined's joined array with zarr-python or h5py alone: the
rows dataset part/pos and its per-step counts part/pos_count (a CF
contiguous ragged array), compared bit for bit with numpy's formula.
usage: check_joined.py zarr|zarr+dir|hdf5 PATH STEPS"""
import sys
import numpy as np

kind, path, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])


def total_rows(s):
    return 0 if s % 4 == 2 else 5 + (s * 7 % 11)


if kind == "hdf5":
    import h5py
    root = h5py.File(path, "r")
else:
    import zarr
    store = zarr.LMDBStore(path, readonly=True, lock=False) if kind == "zarr" else path
    root = zarr.open(store, mode="r")
rows, count = root["part/pos"], root["part/pos_count"]
want_count = np.array([total_rows(s) for s in range(steps)], dtype="<i8")
assert np.array_equal(count[...], want_count), (count[...], want_count)
assert count.attrs["sample_dimension"] == "pos_sample"
assert rows.attrs["_simrec_joined_count"] == "part/pos_count"
parts = []
for s in range(steps):
    g = np.arange(total_rows(s), dtype="<f8")
    parts.append(np.stack([s * 1e4 + g + c * 0.1 for c in range(3)], axis=1))
want = np.concatenate(parts).astype("<f8")
got = rows[...]
assert got.shape == want.shape, (got.shape, want.shape)
assert np.array_equal(got.view(np.uint8), want.view(np.uint8))
# step s through the counts, as any CF reader does
ends = np.cumsum(want_count)
for s in range(steps):
    step = got[ends[s] - want_count[s]:ends[s]]
    assert np.array_equal(step, parts[s])
print(f"check_joined {kind}: {steps} steps ok")
