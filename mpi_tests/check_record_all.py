#!/usr/bin/python3
"""Reads test_record_all's output with h5py or zarr-python alone.
usage: check_record_all.py PATH NRANKS STEPS none|deflate|blosclz|zarr
       check_record_all.py PATH NRANKS STEPS zarr-lz4 [K]
       check_record_all.py PATH NRANKS STEPS h5-lz4|h5-zstd K
       check_record_all.py PREFIX NRANKS STEPS redis
(redis: the store of PREFIX on SIMREC_REDIS_HOST, read with redis-py, a Redis
Cluster if it names several hosts; zarr-lz4: also field/u is lz4 in chunks of K rank blocks (1, K, 3, 5), K 1 if
not given; h5-CNAME: field/u is blosc CNAME (filter 32001), read by h5py with
hdf5plugin and by h5dump, in chunks of K rank blocks unless K is 0, every chunk
stored with filter mask 0)"""
import os
import re
import subprocess
import sys
import numpy as np

path, nranks, steps, codec = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def check_h5_blosc(u, cname, k):
    """field/u: blosc cname as hdf5plugin expects, every chunk a whole
    frame stored with filter mask 0; h5dump (with Debian's blosc plugin,
    hdf5-filter-plugin-blosc-serial: hdf5plugin's fails inside h5dump)
    prints the values h5py reads."""
    fid, _, cd, _ = u.id.get_create_plist().get_filter(0)
    codes = {"lz4": 1, "zstd": 5}
    assert fid == 32001 and len(cd) == 7 and cd[2] == 8, (fid, cd)
    assert cd[6] == codes[cname], cd
    if k:
        assert u.chunks == (1, k, 3, 5), u.chunks
    for s in range(u.shape[0]):
        for r in range(0, u.shape[1], u.chunks[1]):
            mask, raw = u.id.read_direct_chunk((s, r, 0, 0))
            assert mask == 0, (s, r, mask)
            # a blosc frame: version 2, its cbytes field is the chunk's size
            assert raw[0] == 2 and int.from_bytes(raw[12:16], "little") == len(raw)
    env = {k: v for k, v in os.environ.items() if k != "HDF5_PLUGIN_PATH"}
    s, r = u.shape[0] - 1, u.shape[1] - 1
    out = subprocess.run(["h5dump", "-d", "/field/u", "-s", f"{s},{r},2,0",
                          "-c", "1,1,1,5", path], env=env, check=True,
                         capture_output=True, text=True).stdout
    data = out[out.index("DATA {"):]
    vals = [float(v) for v in re.findall(r"(?<=[ :])-?[0-9.]+(?=[,\n])", data)]
    assert vals == list(u[s, r, 2, :]), (vals, u[s, r, 2, :])


if codec == "redis":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from redis_root import Root
    f = Root(path)
elif codec in ("zarr", "zarr-lz4"):
    import zarr
    f = zarr.open(path, mode="r")
    if codec == "zarr-lz4":
        u = f["field/u"]
        k = int(sys.argv[5]) if len(sys.argv) > 5 else 1
        assert u.chunks == (1, k, 3, 5), u.chunks
        assert u.compressor.cname == "lz4", u.compressor
        codec = "zarr"
else:
    import h5py
    if codec.startswith("h5-"):
        import hdf5plugin
    f = h5py.File(path, "r")
u = f["field/u"]
if codec.startswith("h5-"):
    check_h5_blosc(u, codec[3:], int(sys.argv[5]))
    codec = "h5-blosc"
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
    # with hdf5plugin's blosc filter, the values themselves
    import hdf5plugin  # noqa: F401 (registers filter 32001)
    assert h5py.h5z.filter_avail(32001)
s, r, i = np.meshgrid(np.arange(steps), np.arange(nranks), np.arange(15), indexing="ij")
want = (s * 1000.0 + r * 10.0 + i * 0.5).reshape(steps, nranks, 3, 5)
assert np.array_equal(u[...], want), "field/u differs"
n = f["field/n"][...]
assert np.array_equal(n, np.arange(steps)[:, None] * 100 + np.arange(nranks)[None, :]), n
assert np.array_equal(f["global/time"][...], 0.25 * np.arange(steps))
assert f["field"].attrs["ranks"] == nranks
if codec in ("none", "deflate"):
    filters = u.id.get_create_plist().get_nfilters()
    assert (filters > 0) == (codec == "deflate"), (codec, filters)
print("check_record_all: ok")
