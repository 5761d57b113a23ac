"""A redis store (one server or a Redis Cluster) read with redis-py alone,
through docs/redis_decode.py, as a root of datasets that the checks index
like a zarr group or an HDF5 file: root[key][...], .shape, .dtype,
.chunks, .attrs, `key in root`. SIMREC_REDIS_HOST gives the server, or the
cluster's seeds (several HOST:PORT, comma-separated: RedisCluster);
SIMREC_REDIS_PASSWORD the password, if any."""
import json
import os
import sys

import numpy as np
import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs"))
from redis_decode import attributes, names, read_dataset  # noqa: E402


def connect():
    hosts = [h.rsplit(":", 1) for h in os.environ["SIMREC_REDIS_HOST"].split(",")]
    pw = os.environ.get("SIMREC_REDIS_PASSWORD")
    if len(hosts) > 1:
        from redis.cluster import ClusterNode, RedisCluster
        return RedisCluster(startup_nodes=[ClusterNode(h, int(p)) for h, p in hosts], password=pw)
    return redis.Redis(host=hosts[0][0], port=int(hosts[0][1]), password=pw)


class Dataset:
    def __init__(self, r, prefix, key):
        self.array = np.asarray(read_dataset(r, prefix, key))
        m = {k.decode(): v.decode() for k, v in r.hgetall(names(r, prefix, key)[0]).items()}
        self.chunks = tuple(int(c) for c in m["chunks"].split())
        self.shape, self.dtype = self.array.shape, self.array.dtype
        self.attrs = attributes(r, prefix, key)

    def __getitem__(self, sel):
        return self.array[sel]


class Group:
    def __init__(self, r, prefix, key):
        self.attrs = attributes(r, prefix, key)


class Root:
    def __init__(self, prefix):
        self.r, self.prefix = connect(), prefix
        self.keys = {k.decode() for k in self.r.smembers(f"{prefix}:keys")}
        self.groups = {k.decode() for k in self.r.smembers(f"{prefix}:groups")}

    def __contains__(self, key):
        return key in self.keys or key in self.groups

    def __getitem__(self, key):
        if key in self.keys:
            return Dataset(self.r, self.prefix, key)
        if key in self.groups:
            return Group(self.r, self.prefix, key)
        raise KeyError(key)


if __name__ == "__main__":  # the store as JSON: key -> list of values
    root = Root(sys.argv[1])
    print(json.dumps({k: root[k][...].tolist() for k in sorted(root.keys)}))
