#!/usr/bin/python3
"""HDF5 interoperability with Debian's python3-h5py and h5dump.

  interop_hdf5.py EXE DIR
EXE (tests/interop.c) writes the sample with simrec; h5py reads every
dtype, shape, attribute and nested key and compares element by element;
`h5dump -H` must succeed. Then h5py writes a file (chunked,
maxshape=(None, ...)) that EXE reads and appends to.
"""
import json, os, subprocess, sys
import numpy as np
import h5py
sys.path.insert(0, os.path.dirname(__file__))
from interop_zarr import DTYPES, sample, check  # noqa: E402  (shared sample)

def check_simrec_file(path):
    with h5py.File(path, "r") as f:
        shapes = [(6, 7), (1, 5), (42, 1)]
        for dt in DTYPES:
            for s, shp in enumerate(shapes):
                a = f[f"types/{dt}/s{s}"]
                check(a.dtype == np.dtype(dt), f"h5 dtype {dt}: {a.dtype}")
                check(a.shape == (9,) + shp, f"h5 shape {a.shape}")
                check(a.maxshape[0] is None, "unlimited first dimension")
                want = sample(dt, 9 * shp[0] * shp[1]).reshape((9,) + shp)
                check(np.array_equal(a[...], want), f"h5 values {dt} s{s}")
        sc = f["small/scalar"]
        check(sc.shape == (1000000,) and np.array_equal(sc[...], sample("float64", 1000000)), "scalars")
        # a series of scalars: 1,024 records per chunk (h5py's guess for an
        # unlimited dimension), batched, not one chunk per record
        check(sc.chunks == (1024,), f"scalar chunks {sc.chunks}: not 1,024 records")
        cfg = f["deep/nested/key/config"]
        for i in range(50):
            want = json.dumps({"step": i, "name": f"é{i}"}, ensure_ascii=False)
            check(cfg.asstr()[i] == want, f"text {i}")
            check(bytes(f["deep/raw"][i]) == want.encode()[: i % 7], f"bytes {i}")
        check(np.array_equal(f["deep/value"][...], sample("float32", 24).reshape(2, 3, 4)), "set value")
        check(f.attrs["title"] == "simrec interop", "root attr")
        check(f["types"].attrs["count"] == 11, "group attr")
        check(f["small/scalar"].attrs["dt"] == 0.125, "dataset attr")
        check(f["deep/nested"].attrs["unit"] == "K", "nested attr")
    out = subprocess.run(["h5dump", "-H", path], capture_output=True, text=True)
    check(out.returncode == 0 and "small" in out.stdout, "h5dump -H: " + out.stderr)

def write_h5py_file(path):
    with h5py.File(path, "w") as f:
        for name, dt, comp in [("f4", "float32", "gzip"), ("f8", "float64", None), ("i2", "int16", "lzf")]:
            d = f.create_dataset(f"py/{name}", shape=(0, 3, 7), maxshape=(None, 3, 7), chunks=(4, 2, 7), dtype=dt, compression=comp)
            data = sample(dt, 210).reshape(10, 3, 7)
            for r in range(10):
                d.resize(r + 1, axis=0)
                d[r] = data[r]
        f.create_dataset("py/u8", data=sample("uint8", 100), chunks=(16,), maxshape=(None,))
        f.create_dataset("py/b", data=sample("bool", 100), chunks=(30,), maxshape=(None,))
        sp = f.create_dataset("py/sparse", shape=(20,), chunks=(5,), dtype="i4", fillvalue=-1, maxshape=(None,))
        sp[0] = 5
        t = f.create_dataset("py/text", shape=(5,), dtype=h5py.string_dtype(), chunks=(2,), maxshape=(None,))
        t[:] = [f"text {i} é" for i in range(5)]
        f["py"].attrs["origin"] = "zarr-python"  # the C reader shares its checks with the zarr test

def main():
    exe, d = sys.argv[1], sys.argv[2]
    for comp in ["", "?codec=deflate&level=4"]:
        path = os.path.join(d, "simrec.h5")
        subprocess.run([exe, "write", f"hdf5:{path}{comp}"], check=True)
        check_simrec_file(path)
    path = os.path.join(d, "h5py.h5")
    write_h5py_file(path)
    # lzf is an h5py-only filter: the C reader cannot decode it; drop it
    with h5py.File(path, "a") as f:
        data = f["py/i2"][...]
        del f["py/i2"]
        f.create_dataset("py/i2", data=data, maxshape=(None, 3, 7), chunks=(4, 2, 7))
    subprocess.run([exe, "read", f"hdf5:{path}"], check=True)
    with h5py.File(path, "r") as f:
        check(f["py/f4"].shape == (11, 3, 7), "append after h5py")
        check(np.array_equal(f["py/f4"][...], sample("float32", 231).reshape(11, 3, 7)), "appended values")
    print("interop hdf5: ok")

if __name__ == "__main__":
    main()
