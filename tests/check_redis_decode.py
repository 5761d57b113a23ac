#!/usr/bin/python3
"""docs/redis_decode.py reads what simrec wrote to redis, element by element."""
import json, os, sys
import numpy as np
import redis
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.dirname(__file__))
from redis_decode import read_dataset, attributes  # noqa: E402
from interop_zarr import DTYPES, sample, check  # noqa: E402

prefix = sys.argv[2]
host, port = os.environ["SIMREC_REDIS_HOST"].split(":")
r = redis.Redis(host=host, port=int(port))
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
print("decode: ok")
