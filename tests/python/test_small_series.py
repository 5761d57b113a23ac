"""Small series cost little: 1,000 scalar records and a few small series
take under 64 KiB on every store (the chunk rule of src/common/chunking.c),
and read back exactly."""
import os
import subprocess

import numpy as np
import pytest

import simrec
from conftest import SCHEMES, uri_for

DISK = [s for s in SCHEMES if s != "memory"]  # memory: nothing stored

LIMIT = 64 << 10
N = 1000


def series():
    """name -> the N records of a small series."""
    i = np.arange(N)
    return {"energy": (i * 0.25 - 3.0).astype(np.float64),
            "step": i.astype(np.int32),
            "ok": (i % 3 == 0),
            "xy": np.stack([i * 0.5, -i * 1.5], axis=1).astype(np.float32)}


def redis_bytes(prefix):
    import redis
    host, port = os.environ["SIMREC_REDIS_HOST"].split(":")
    r = redis.Redis(host=host, port=int(port))
    keys = list(r.scan_iter(match=prefix + "*", count=1000))
    assert keys, "no redis keys under %r" % prefix
    return sum(r.memory_usage(k, samples=0) for k in keys)


def stored_bytes(uri):
    """Bytes the store takes: du of a zarr store, the HDF5 file's size,
    the redis keys' MEMORY USAGE."""
    scheme, _, rest = uri.partition(":")
    if scheme == "redis":
        prefix = rest.split("prefix=")[1]
        return redis_bytes(prefix)
    if scheme == "hdf5":
        return os.path.getsize(rest)
    out = subprocess.run(["du", "-sk", rest], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[0]) * 1024


@pytest.mark.parametrize("scheme", DISK)
@pytest.mark.parametrize("names", [["energy"], ["energy", "step", "ok",
                                                 "xy"]])
def test_small_series_size(scheme, tmp_path, names):
    want = series()
    uri = uri_for(scheme, tmp_path, "small%d" % len(names))
    with simrec.Recorder(uri, mode="w") as rec:
        for i in range(N):
            for k in names:
                rec.record(k, want[k][i])
    size = stored_bytes(uri)
    # a directory store takes a file system block per file: one series'
    # files (.zarray, .zattrs, a chunk) and directory are 16 KiB of it
    assert size < LIMIT * (len(names) if scheme == "zarr+dir" else 1), size
    with simrec.Recorder(uri, mode="r") as rec:
        for k in names:
            got = rec.get_all(k)[:]
            assert got.dtype == want[k].dtype and np.array_equal(got, want[k])


def test_small_series_chunks(tmp_path):
    """The rule itself: a scalar series gets 1,024-record chunks, a large
    record keeps a target-sized chunk."""
    uri = uri_for("zarr", tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        rec.record("e", np.float64(1.0))
        rec.record("big", np.zeros((64, 1024), np.float64))  # 512 KiB
    with simrec.Recorder(uri, mode="r") as rec:
        assert rec.get_all("e").chunks == (1024,)
        assert rec.get_all("big").chunks == (2, 64, 1024)  # 1 MiB


def test_info_ratio(tmp_path):
    """simrec info shows a ratio that says something for a small series."""
    cli = os.environ.get("SIMREC_CLI")
    if not cli:
        pytest.skip("SIMREC_CLI not set (run through ctest)")
    uri = uri_for("hdf5", tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        for i in range(11):
            rec.record("energy", np.float64(i))
    out = subprocess.run([cli, "info", uri, "energy"], check=True,
                         capture_output=True, text=True).stdout
    line = [x for x in out.splitlines() if x.startswith("ratio:")][0]
    ratio = float(line.split()[1])
    stored = 1024 * 8  # one 1,024-record chunk of float64, uncompressed
    assert abs(ratio - 11 * 8 / stored) < 0.01 * ratio, out
