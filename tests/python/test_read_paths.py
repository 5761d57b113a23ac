"""Reads of every store: whole datasets and slices (steps, partial edge
chunks, chunks decoded straight into the caller's buffer or through a
scratch chunk) give numpy's values, and many decoding threads give the same
bytes as one."""
import numpy as np
import pytest

import simrec
from conftest import uri_for

SHAPE = (13, 7, 50)  # records of (7, 50) float64: 2,800 bytes


def data(dtype):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((SHAPE[0],) + SHAPE[1:]) * 100
    return a.astype(dtype)


SELECTIONS = [
    (slice(None),),
    (slice(2, 11), slice(None), slice(None)),       # whole inner dims
    (slice(None, None, 3), 4, slice(5, 45, 7)),     # steps, a point
    (slice(12, 13), slice(6, 7), slice(49, 50)),    # the last element
    (5, slice(None), slice(None)),                  # one record
    (slice(1, 12, 5), slice(0, 7, 2), slice(None)),  # steps, edge chunks
    (slice(None), 3, 17),                           # one column
]


@pytest.mark.parametrize("codec", ["lz4", "none"])
@pytest.mark.parametrize("chunk_bytes", [1200, 6000, 1 << 20])
def test_reads_match_numpy_and_threads(scheme, tmp_path, codec, chunk_bytes):
    want = {dt: data(dt) for dt in ("float64", "int16")}
    uri = uri_for(scheme, tmp_path)
    opts = dict(codec=codec, chunk_bytes=chunk_bytes)
    rec = simrec.Recorder(uri, mode="w", **opts)
    for dt, a in want.items():
        for r in a:
            rec.record("x/" + dt, r)
    if scheme == "memory":
        readers = [rec]
    else:
        rec.close()
        readers = [simrec.Recorder(uri, mode="r", nthreads=n)
                   for n in (1, 2, 8)]
    try:
        for dt, a in want.items():
            got = []
            for r in readers:
                ds = r.get_all("x/" + dt)
                assert ds.shape == a.shape
                one = [np.asarray(ds)] + [ds[s] for s in SELECTIONS]
                for s, g in zip([(slice(None),)] + SELECTIONS, one):
                    np.testing.assert_array_equal(g, a[s], err_msg=str(s))
                got.append([g.tobytes() for g in one])
            assert all(g == got[0] for g in got), "threads differ"
    finally:
        for r in readers:
            r.close()
