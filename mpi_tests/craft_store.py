#!/usr/bin/python3
"""Damages test_faults' "run/u" the way a crash does, with zarr-python or
h5py alone. usage: craft_store.py zarr|zarr+dir|hdf5 PATH ACTION STEP
  delete   remove the chunk holding STEP (rank block 0)
  truncate cut that chunk to half its bytes
  grow     set the shape's first extent to STEP (no data written)"""
import json
import sys

kind, path, action, step = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if kind == "hdf5":
    import h5py
    with h5py.File(path, "r+") as f:
        d = f["run/u"]
        assert action == "grow", "hdf5: only grow"
        d.resize(step, axis=0)
    sys.exit(0)
import zarr
store = zarr.LMDBStore(path) if kind == "zarr" else zarr.DirectoryStore(path)
meta = json.loads(bytes(store["run/u/.zarray"]))
c0 = meta["chunks"][0]
key = "run/u/" + ".".join([str(step // c0)] + ["0"] * (len(meta["chunks"]) - 1))
if action == "delete":
    del store[key]
elif action == "truncate":
    b = bytes(store[key])
    store[key] = b[: len(b) // 2]
elif action == "grow":
    meta["shape"][0] = step
    store["run/u/.zarray"] = json.dumps(meta, indent=4).encode()
if kind == "zarr":
    store.close()
