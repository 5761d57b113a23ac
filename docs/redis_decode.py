#!/usr/bin/python3
"""Decode a simrec redis store with nothing but redis-py and numpy
(docs/redis-format.md). usage: redis_decode.py [PREFIX] [HOST:PORT[,HOST:PORT...]]
Several hosts are the seeds of a Redis Cluster (?cluster=1 of the writer)."""
import json, os, struct, sys
import numpy as np
import redis
from redis.cluster import ClusterNode, RedisCluster

def names(r, prefix, key, col0=0):
    """The keys of list col0 of a dataset: (metadata, list, parts prefix,
    row counter); a cluster tags a list's keys with {P:KEY:C}, the
    metadata with list 0's tag, and counts rows in a counter per list."""
    if isinstance(r, RedisCluster):
        t = f"{{{prefix}:{key}:{col0}}}"
        return (f"{prefix}:m:{{{prefix}:{key}:0}}", f"{prefix}:d:{t}", f"{prefix}:p:{t}:", f"{prefix}:r:{t}")
    return f"{prefix}:m:{key}", f"{prefix}:d:{key}:{col0}", f"{prefix}:p:{key}:{col0}:", None

DTYPES = ["<i1", "<i2", "<i4", "<i8", "<u1", "<u2", "<u4", "<u8", "<f4", "<f8", "?", "bytes", "str"]

def element(r, prefix, key, col0, k):
    """Decode element k of the list of columns from col0: (dtype, array or list)."""
    _, lk, pk, _ = names(r, prefix, key, col0)
    v = r.lindex(lk, k)
    magic, dt, comp, ndim, flags = struct.unpack_from("<4sBBBB", v)
    assert magic == b"SRR1", "not a simrec value"
    shape = struct.unpack_from(f"<{ndim}Q", v, 8)
    (raw,) = struct.unpack_from("<Q", v, 8 + 8 * ndim)
    data = v[16 + 8 * ndim:]
    if flags & 1:  # large element: its bytes are in a parts list
        data = b"".join(r.lrange(f"{pk}{k}", 0, -1))
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

def rows_of(r, prefix, key, m, shape):
    """A step counts once every list holds it: the fewest rows of the
    lists. One server: the rows:C fields (a list may be declared with 0
    before it holds any element); a cluster: each list's counter (absent
    = 0), the lists being 0, cols, 2 cols... below dimension 1."""
    if not isinstance(r, RedisCluster):
        return min((int(v) for k, v in m.items() if k.startswith("rows:")), default=0)
    cols = int(m.get("cols", 0))
    starts = range(0, shape[1], cols) if len(shape) > 1 and cols else [0]
    return min(int(r.get(names(r, prefix, key, c)[3]) or 0) for c in starts)

def read_dataset(r, prefix, key):
    m = {k.decode(): v.decode() for k, v in r.hgetall(names(r, prefix, key)[0]).items()}
    shape = [int(x) for x in m["shape"].split()]
    if m["value"] == "1":
        return element(r, prefix, key, 0, 0)
    rows = rows_of(r, prefix, key, m, shape)
    if m["dtype"] in ("bytes", "string"):
        items = []
        for k in range(r.llen(names(r, prefix, key)[1])):
            items += element(r, prefix, key, 0, k)
        return items[:rows]
    if rows == 0:
        return np.zeros([0] + shape[1:], dtype=m["dtype"])
    cols = int(m.get("cols", shape[1] if len(shape) > 1 else 1))
    groups = range(0, shape[1], cols) if len(shape) > 1 else [0]
    parts = []
    for col0 in groups:  # one list per writer column group
        n = r.llen(names(r, prefix, key, col0)[1])
        parts.append(np.concatenate([element(r, prefix, key, col0, k) for k in range(n)])[:rows])
    # the last list of a global array is padded to a whole chunk row
    return np.concatenate(parts, axis=1)[:, :shape[1]] if len(shape) > 1 else parts[0]

def attributes(r, prefix, key):
    return {k.decode(): json.loads(v) for k, v in r.hgetall(f"{prefix}:a:{key}").items()}

if __name__ == "__main__":
    prefix = sys.argv[1] if len(sys.argv) > 1 else "simrec"
    hosts = [h.rsplit(":", 1) for h in (sys.argv[2] if len(sys.argv) > 2 else
             os.environ.get("SIMREC_REDIS_HOST", "127.0.0.1:6379")).split(",")]
    pw = os.environ.get("SIMREC_REDIS_PASSWORD")
    if len(hosts) > 1:  # the seeds of a Redis Cluster
        r = RedisCluster(startup_nodes=[ClusterNode(h, int(p)) for h, p in hosts], password=pw)
    else:
        r = redis.Redis(host=hosts[0][0], port=int(hosts[0][1]), password=pw)
    for key in sorted(k.decode() for k in r.smembers(f"{prefix}:keys")):
        a = read_dataset(r, prefix, key)
        # a 0-d value has a shape () but no len()
        shape = a.shape if hasattr(a, "shape") else len(a)
        print(key, shape, getattr(a, "dtype", "text"), attributes(r, prefix, key))
