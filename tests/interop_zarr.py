#!/usr/bin/python3
"""zarr interoperability, Python side (Debian's python3-zarr, zarr 2.x).

  interop_zarr.py EXE DIR
runs EXE (tests/interop_zarr.c) to write with simrec, checks the stores with
zarr-python element by element (LMDB and directory stores), then writes a
store with zarr-python and has EXE read it back.
"""
import json, os, shutil, subprocess, sys
import numpy as np
import zarr, numcodecs
from zarr.util import json_dumps

DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "float32", "float64", "bool"]

def sample(dtype, n, k0=0):
    """Mirror of tests/sample.h."""
    k = np.arange(k0, k0 + n, dtype=np.int64)
    v = (k * 7 + 3) % 100 - 50
    f = k.astype(np.float64) * 0.5 - 3.0
    return {
        "int8": lambda: v.astype(np.int8),
        "int16": lambda: (v * 300).astype(np.int16),
        "int32": lambda: (v * 70000).astype(np.int32),
        "int64": lambda: v * 5000000000,
        "uint8": lambda: (v + 50).astype(np.uint8),
        "uint16": lambda: ((v + 50) * 600).astype(np.uint16),
        "uint32": lambda: ((v + 50) * 40000000).astype(np.uint32),
        "uint64": lambda: ((v + 50).astype(np.uint64) * np.uint64(100000000000)),
        "float32": lambda: f.astype(np.float32),
        "float64": lambda: f / 3.0,
        "bool": lambda: (k % 3 == 0),
    }[dtype]()

def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)

def check_simrec_store(store, kind):
    g = zarr.open_group(store=store, mode="r")
    shapes = [(6, 7), (1, 5), (42, 1)]
    for dt in DTYPES:
        for s, shp in enumerate(shapes):
            a = g[f"types/{dt}/s{s}"]
            check(a.dtype == np.dtype(dt), f"{kind} dtype {dt}")
            check(a.shape == (9,) + shp, f"{kind} shape {a.shape}")
            want = sample(dt, 9 * shp[0] * shp[1]).reshape((9,) + shp)
            check(np.array_equal(a[...], want), f"{kind} values {dt} s{s}")
    sc = g["small/scalar"]
    check(sc.shape == (1000000,), "scalar shape")
    check(np.array_equal(sc[...], sample("float64", 1000000) / 1.0), "scalar values")
    nchunks = sum(1 for k in store.keys() if k.startswith("small/scalar/") and not k.endswith((".zarray", ".zattrs")))
    check(nchunks == -(-1000000 // 1024), f"a million scalars made {nchunks} chunks, not 1,024 records each")
    cfg = g["deep/nested/key/config"]
    check(cfg.dtype == object and cfg.shape == (50,), "text dataset")
    for i in range(50):
        want = json.dumps({"step": i, "name": f"é{i}"}, ensure_ascii=False)
        check(cfg[i] == want, f"text {i}: {cfg[i]!r} != {want!r}")
        check(json.loads(cfg[i])["step"] == i, "json text")
        raw = g["deep/raw"][i]
        check(isinstance(raw, bytes) and raw == want.encode()[: i % 7], f"bytes {i}")
    v = g["deep/value"]
    check(v.shape == (2, 3, 4) and np.array_equal(v[...], sample("float32", 24).reshape(2, 3, 4)), "set value")
    check(g.attrs["title"] == "simrec interop", "root attr")
    check(g["types"].attrs["count"] == 11, "group attr")
    check(g["small/scalar"].attrs["dt"] == 0.125, "dataset attr")
    check(g["deep/nested"].attrs["unit"] == "K", "nested attr")
    # metadata is byte for byte what zarr-python writes
    for k in store.keys():
        if k.endswith((".zarray", ".zgroup", ".zattrs")):
            raw = bytes(store[k])
            check(raw == json_dumps(json.loads(raw)), f"{kind} metadata {k} differs from zarr-python's formatting")
    # a slice through zarr-python
    a = g["types/float32/s0"]
    want = sample("float32", 9 * 42).reshape(9, 6, 7)
    check(np.array_equal(a[2:5, 1, 3:6], want[2:5, 1, 3:6]), "slice")

def write_python_store(path):
    if os.path.exists(path):
        shutil.rmtree(path)
    store = zarr.LMDBStore(path)
    g = zarr.group(store=store)
    comp = numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE)
    for name, dt, c in [("f4", "float32", comp), ("f8", "float64", numcodecs.Blosc("lz4", 5, 1)), ("i2", "int16", None)]:
        a = g.create_dataset(f"py/{name}", shape=(0, 3, 7), chunks=(4, 2, 7), dtype=dt, compressor=c)
        data = sample(dt, 210).reshape(10, 3, 7)
        for r in range(10):
            a.append(data[r:r + 1])
    g.create_dataset("py/u8", data=sample("uint8", 100), chunks=(16,))
    g.create_dataset("py/b", data=sample("bool", 100), chunks=(30,))
    sp = g.create_dataset("py/sparse", shape=(20,), chunks=(5,), dtype="i4", fill_value=-1)
    sp[0] = 5
    t = g.create_dataset("py/text", shape=(5,), dtype=object, object_codec=numcodecs.VLenUTF8(), chunks=(2,))
    t[:] = [f"text {i} é" for i in range(5)]
    g["py"].attrs["origin"] = "zarr-python"
    store.close()

def main():
    exe, d = sys.argv[1], sys.argv[2]
    for kind, scheme in [("lmdb", "zarr"), ("dir", "zarr+dir")]:
        path = os.path.join(d, f"simrec-{kind}.zarr")
        subprocess.run([exe, "write", f"{scheme}:{path}"], check=True)
        store = zarr.LMDBStore(path, readonly=True, lock=False) if kind == "lmdb" else zarr.DirectoryStore(path)
        check_simrec_store(store, kind)
        if kind == "dir":  # zarr.open(path) works unchanged on directory stores
            check(zarr.open(path, mode="r")["types/int8/s0"].shape == (9, 6, 7), "zarr.open(path)")
        else:
            store.close()
    path = os.path.join(d, "python.zarr")
    write_python_store(path)
    subprocess.run([exe, "read", f"zarr:{path}"], check=True)
    g = zarr.open_group(store=zarr.LMDBStore(path, readonly=True, lock=False), mode="r")
    check(g["py/f4"].shape == (11, 3, 7), "append after zarr-python")
    check(np.array_equal(g["py/f4"][...], sample("float32", 231).reshape(11, 3, 7)), "appended values")
    print("interop zarr: ok")

if __name__ == "__main__":
    main()
