#!/usr/bin/python3
"""Decode a simrec redis store with nothing but redis-py and numpy
(docs/redis-format.md). usage: redis_decode.py [PREFIX] [HOST:PORT]"""
import json, os, struct, sys
import numpy as np
import redis

DTYPES = ["<i1", "<i2", "<i4", "<i8", "<u1", "<u2", "<u4", "<u8", "<f4", "<f8", "?", "bytes", "str"]

def element(r, prefix, key, col0, k):
    """Decode element k of the list of columns from col0: (dtype, array or list)."""
    v = r.lindex(f"{prefix}:d:{key}:{col0}", k)
    magic, dt, comp, ndim, flags = struct.unpack_from("<4sBBBB", v)
    assert magic == b"SRR1", "not a simrec value"
    shape = struct.unpack_from(f"<{ndim}Q", v, 8)
    (raw,) = struct.unpack_from("<Q", v, 8 + 8 * ndim)
    data = v[16 + 8 * ndim:]
    if flags & 1:  # large element: its bytes are in a parts list
        data = b"".join(r.lrange(f"{prefix}:p:{key}:{col0}:{k}", 0, -1))
    if comp:  # one blosc frame
        from numcodecs import blosc
        data = blosc.decompress(data)
    assert len(data) == raw
    if DTYPES[dt] in ("bytes", "str"):  # u32 count, then (u32 len, bytes)
        n, off, items = struct.unpack_from("<I", data)[0], 4, []
        for _ in range(n):
            (ln,) = struct.unpack_from("<I", data, off)
            b = data[off + 4: off + 4 + ln]
            items.append(b.decode() if DTYPES[dt] == "str" else b)
            off += 4 + ln
        return items
    return np.frombuffer(data, dtype=DTYPES[dt]).reshape(shape)

def read_dataset(r, prefix, key):
    m = {k.decode(): v.decode() for k, v in r.hgetall(f"{prefix}:m:{key}").items()}
    shape = [int(x) for x in m["shape"].split()]
    if m["value"] == "1":
        return element(r, prefix, key, 0, 0)
    # a step counts once every list holds it; a list may be declared
    # (rows:C = 0) before it holds any element
    rows = min((int(v) for k, v in m.items() if k.startswith("rows:")), default=0)
    if m["dtype"] in ("bytes", "string"):
        items = []
        for k in range(r.llen(f"{prefix}:d:{key}:0")):
            items += element(r, prefix, key, 0, k)
        return items[:rows]
    if rows == 0:
        return np.zeros([0] + shape[1:], dtype=m["dtype"])
    cols = int(m.get("cols", shape[1] if len(shape) > 1 else 1))
    groups = range(0, shape[1], cols) if len(shape) > 1 else [0]
    parts = []
    for col0 in groups:  # one list per writer column group
        n = r.llen(f"{prefix}:d:{key}:{col0}")
        parts.append(np.concatenate([element(r, prefix, key, col0, k) for k in range(n)])[:rows])
    return np.concatenate(parts, axis=1) if len(shape) > 1 else parts[0]

def attributes(r, prefix, key):
    return {k.decode(): json.loads(v) for k, v in r.hgetall(f"{prefix}:a:{key}").items()}

if __name__ == "__main__":
    prefix = sys.argv[1] if len(sys.argv) > 1 else "simrec"
    host, port = (sys.argv[2] if len(sys.argv) > 2 else os.environ.get("SIMREC_REDIS_HOST", "127.0.0.1:6379")).split(":")
    r = redis.Redis(host=host, port=int(port))
    for key in sorted(k.decode() for k in r.smembers(f"{prefix}:keys")):
        a = read_dataset(r, prefix, key)
        # a 0-d value has a shape () but no len()
        shape = a.shape if hasattr(a, "shape") else len(a)
        print(key, shape, getattr(a, "dtype", "text"), attributes(r, prefix, key))
