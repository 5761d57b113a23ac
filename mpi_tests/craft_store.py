#!/usr/bin/python3
"""Damages test_faults' "run/u" the way a crash does, with zarr-python or
h5py alone. usage: craft_store.py zarr|zarr+dir|hdf5 PATH ACTION STEP[,STEP...]
  delete   remove the chunk holding each STEP (zarr: rank block 0; hdf5:
           the dataset is written again without those chunk rows, which
           stay unallocated)
  truncate cut the chunk holding each STEP (rank block 0) to half its bytes
  grow     set the shape's first extent to STEP (no data written)"""
import json
import sys

kind, path, action = sys.argv[1], sys.argv[2], sys.argv[3]
steps = [int(s) for s in sys.argv[4].split(",")]


def hdf5():
    import h5py
    with h5py.File(path, "r+") as f:
        d = f["run/u"]
        c0 = d.chunks[0]
        if action == "grow":
            d.resize(steps[0], axis=0)
        elif action == "truncate":
            for s in steps:
                off = (s // c0 * c0,) + (0,) * (d.ndim - 1)
                mask, b = d.id.read_direct_chunk(off)
                d.id.write_direct_chunk(off, b[: len(b) // 2], mask)
        elif action == "delete":
            data, attrs = d[...], dict(d.attrs)
            shape, chunks, maxshape, dtype = d.shape, d.chunks, d.maxshape, d.dtype
            assert not d.compression, "hdf5 delete: unfiltered only"
            del f["run/u"]
            n = f["run"].create_dataset("u", shape=shape, dtype=dtype,
                                        chunks=chunks, maxshape=maxshape)
            n.attrs.update(attrs)
            gone = {s // c0 for s in steps}
            for r in range((shape[0] + c0 - 1) // c0):
                if r not in gone:
                    n[r * c0:(r + 1) * c0] = data[r * c0:(r + 1) * c0]


def zarr_store():
    import zarr
    store = zarr.LMDBStore(path) if kind == "zarr" else zarr.DirectoryStore(path)
    meta = json.loads(bytes(store["run/u/.zarray"]))
    c0 = meta["chunks"][0]
    for step in steps:
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


hdf5() if kind == "hdf5" else zarr_store()
