#!/usr/bin/python3
"""docs/redis_decode.py reads what simrec wrote to redis, element by element
(SIMREC_REDIS_HOST with several hosts: a Redis Cluster, read with RedisCluster)."""
import json, os, sys
import numpy as np
import redis
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.dirname(__file__))
from redis_decode import read_dataset, attributes  # noqa: E402
from interop_zarr import DTYPES, sample, check  # noqa: E402

prefix = sys.argv[2]
hosts = [h.rsplit(":", 1) for h in os.environ["SIMREC_REDIS_HOST"].split(",")]
if len(hosts) > 1:
    from redis.cluster import ClusterNode, RedisCluster
    r = RedisCluster(startup_nodes=[ClusterNode(h, int(p)) for h, p in hosts])
else:
    r = redis.Redis(host=hosts[0][0], port=int(hosts[0][1]))
for dt in DTYPES:
    for s, shp in enumerate([(6, 7), (1, 5), (42, 1)]):
        a = read_dataset(r, prefix, f"types/{dt}/s{s}")
        want = sample(dt, 9 * shp[0] * shp[1]).reshape((9,) + shp)
        check(a.shape == want.shape and np.array_equal(a, want), f"{dt} s{s}")
check(np.array_equal(read_dataset(r, prefix, "small/scalar"), sample("float64", 1000000)), "scalars")
text = read_dataset(r, prefix, "deep/nested/key/config")
check(text[7] == json.dumps({"step": 7, "name": "é7"}, ensure_ascii=False), "text")
check(read_dataset(r, prefix, "deep/raw")[9] == text[9].encode()[:2], "bytes")
check(np.array_equal(read_dataset(r, prefix, "deep/value"), sample("float32", 24).reshape(2, 3, 4)), "value")
check(attributes(r, prefix, "small/scalar")["dt"] == 0.125, "attr")
check(float(read_dataset(r, prefix, "more/zero_d")) == 2.5, "0-d value")
a = attributes(r, prefix, "more")
check(a["u64max"] == 2**64 - 1 and a["ai"] == [-1, 0, 7] and a["none"] is None, "attribute kinds")
# the script's own listing prints every key, 0-d values included
import subprocess  # noqa: E402
out = subprocess.run([sys.executable, os.path.join(sys.argv[1], "redis_decode.py"), prefix,
                      os.environ["SIMREC_REDIS_HOST"]], capture_output=True, text=True)
check(out.returncode == 0 and "more/zero_d ()" in out.stdout, "redis_decode.py listing: " + out.stderr[-300:])
print("decode: ok")
