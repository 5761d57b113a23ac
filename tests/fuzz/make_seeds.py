"""Writes the seed corpora of the fuzz targets (run with the system python,
which has numpy, numcodecs and zarr): real metadata and chunks as
zarr-python 2.x writes them, and redis elements as simrec writes them.
    /usr/bin/python3 tests/fuzz/make_seeds.py tests/fuzz"""
import json
import os
import struct
import sys

import numcodecs
import numpy as np

out = sys.argv[1]


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


blosc = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)


def meta(dtype, shape, chunks, comp=True, filters=None, fill=0, **kw):
    m = {"chunks": chunks, "compressor": blosc.get_config() if comp else None,
         "dtype": dtype, "fill_value": fill, "filters": filters,
         "order": "C", "shape": shape, "zarr_format": 2}
    m.update(kw)
    return json.dumps(m, indent=4, sort_keys=True)


# zarr metadata
put("fuzz_zarr_meta", "f8", meta("<f8", [10, 3], [5, 3], fill=0.0))
put("fuzz_zarr_meta", "i4nan", meta("<i4", [4], [4], fill="NaN"))
put("fuzz_zarr_meta", "f4inf", meta("<f4", [4], [2], fill="-Infinity"))
put("fuzz_zarr_meta", "bool", meta("|b1", [2, 2], [1, 2], comp=False,
                                   fill=False))
put("fuzz_zarr_meta", "vlen", meta("|O", [3], [2],
                                   filters=[{"id": "vlen-utf8"}]))
put("fuzz_zarr_meta", "slash", meta("<u2", [4, 4], [2, 2],
                                    dimension_separator="/"))
put("fuzz_zarr_meta", "zero_d", meta("<i8", [], [], comp=False))

# chunks: selector byte then the chunk
a = np.arange(128, dtype="<f8")
put("fuzz_chunk", "blosc_f8", b"\0" + blosc.encode(a))
put("fuzz_chunk", "blosc_f8_noshuffle",
    b"\0" + numcodecs.Blosc(cname="zstd", shuffle=0).encode(a))
put("fuzz_chunk", "raw_i2", b"\1" + np.arange(128, dtype="<i2").tobytes())
vb = numcodecs.VLenBytes().encode(np.array([b"a", b"bc", b"", b"def"],
                                           dtype=object))
put("fuzz_chunk", "blosc_vlen", b"\2" + blosc.encode(vb))
vu = numcodecs.VLenUTF8().encode(np.array(["x", "yz", "", "w"], dtype=object))
put("fuzz_chunk", "raw_vlen", b"\3" + bytes(vu))


# redis elements: selector byte then header + payload
def element(dtype, shape, payload, raw, comp=0):
    h = b"SRR1" + bytes([dtype, comp, len(shape), 0])
    h += b"".join(struct.pack("<Q", s) for s in shape)
    return h + struct.pack("<Q", raw) + payload


e = np.arange(24, dtype="<f8")
put("fuzz_redis_decode", "raw_f8", b"\0" + element(9, (2, 4, 3), e.tobytes(),
                                                   192))
put("fuzz_redis_decode", "blosc_f8", b"\0" + element(
    9, (2, 4, 3), blosc.encode(e), 192, comp=1))
put("fuzz_redis_decode", "raw_i2", b"\1" + element(
    1, (2,), np.arange(2, dtype="<i2").tobytes(), 4))
put("fuzz_redis_decode", "vlen", b"\2" + element(10, (2,), bytes(
    numcodecs.VLenBytes().encode(np.array([b"ab", b"c"], dtype=object))),
    len(numcodecs.VLenBytes().encode(np.array([b"ab", b"c"], dtype=object)))))


# directory stores: (u8 name length, name, u16 data length, data)*
def files(pairs):
    b = b""
    for n, d in pairs:
        d = d if isinstance(d, bytes) else d.encode()
        b += bytes([len(n)]) + n.encode() + struct.pack("<H", len(d)) + d
    return b


g = '{"zarr_format": 2}'
put("fuzz_dir_store", "f8", files([
    (".zgroup", g), ("a/.zgroup", g),
    ("a/x/.zarray", meta("<f8", [3, 4], [2, 4])),
    ("a/x/0.0", blosc.encode(np.arange(8.0))),
    ("a/x/1.0", blosc.encode(np.arange(8.0)))]))
put("fuzz_dir_store", "vlen_and_attrs", files([
    (".zgroup", g), ("s/.zarray", meta("|O", [2], [2], comp=False,
                                       filters=[{"id": "vlen-bytes"}])),
    ("s/.zattrs", '{"_simrec_value": false, "u": "m"}'),
    ("s/0", bytes(numcodecs.VLenBytes().encode(
        np.array([b"q", b"rs"], dtype=object))))]))
put("fuzz_dir_store", "slash", files([
    (".zgroup", g), ("y/.zarray", meta("<i4", [2, 2], [1, 2], comp=False,
                                       dimension_separator="/")),
    ("y/0/0", np.arange(2, dtype="<i4").tobytes()),
    ("y/1/0", np.arange(2, dtype="<i4").tobytes())]))
