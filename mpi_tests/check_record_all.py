#!/usr/bin/python3
"""Reads test_record_all's output with h5py or zarr-python alone.
usage: check_record_all.py PATH NRANKS STEPS none|deflate|blosclz|zarr|zarr-lz4
(zarr-lz4: also field/u is lz4 in chunks of one rank's block)"""
import sys
import numpy as np

path, nranks, steps, codec = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if codec in ("zarr", "zarr-lz4"):
    import zarr
    f = zarr.open(path, mode="r")
    if codec == "zarr-lz4":
        u = f["field/u"]
        assert u.chunks == (1, 1, 3, 5), u.chunks
        assert u.compressor.cname == "lz4", u.compressor
        codec = "zarr"
else:
    import h5py
    f = h5py.File(path, "r")
u = f["field/u"]
assert u.shape == (steps, nranks, 3, 5), u.shape
if codec == "blosclz":
    # blosc is HDF5 filter 32001: h5py without hdf5plugin cannot decode it
    # (documented); the filter and its cd_values are as hdf5plugin expects
    plist = u.id.get_create_plist()
    fid, _, cd, _ = plist.get_filter(0)
    assert fid == 32001 and len(cd) == 7 and cd[2] == 8, (fid, cd)
    # (unless a system plugin is installed: Debian's hdf5-filter-plugin-blosc-serial)
    if not h5py.h5z.filter_avail(32001):
        try:
            u[...]
            sys.exit("h5py decoded blosc without a plugin?")
        except OSError:
            pass
    print("check_record_all: ok")
    sys.exit(0)
s, r, i = np.meshgrid(np.arange(steps), np.arange(nranks), np.arange(15), indexing="ij")
want = (s * 1000.0 + r * 10.0 + i * 0.5).reshape(steps, nranks, 3, 5)
assert np.array_equal(u[...], want), "field/u differs"
n = f["field/n"][...]
assert np.array_equal(n, np.arange(steps)[:, None] * 100 + np.arange(nranks)[None, :]), n
assert np.array_equal(f["global/time"][...], 0.25 * np.arange(steps))
assert f["field"].attrs["ranks"] == nranks
if codec != "zarr" and codec != "blosclz":  # blosc needs hdf5plugin in h5py
    filters = u.id.get_create_plist().get_nfilters()
    assert (filters > 0) == (codec == "deflate"), (codec, filters)
print("check_record_all: ok")
