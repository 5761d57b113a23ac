"""record_all appending to an existing dataset with another codec, under
mpiexec -n N (N >= 2):   python_codec_append.py TMPDIR
Each rank's block is one chunk, (1, 1, 128) float64, so the ranks compress
their own blocks before the gather (docs/mpi.md). A first run writes with
lz4; two more runs append with zstd and with no codec. The dataset keeps
lz4: its .zarray says so and every chunk's blosc header says so, and
zarr-python reads every step. A dataset new in a later run takes that
run's codec. Prints "codec append: ok" on rank 0."""
import os
import sys

import numpy as np
from mpi4py import MPI

import mpi_abort
import simrec


mpi_abort.install()

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
tmp = sys.argv[1]
paths = {"zarr": "%s/codec_np%d.zarr" % (tmp, size),
         "zarr+dir": "%s/codec_np%d_dir.zarr" % (tmp, size)}


def block(step, r):
    return np.arange(128, dtype=np.float64) + 1000 * step + 100 * r


def chunks(scheme, path, key):
    if scheme == "zarr+dir":
        d = os.path.join(path, key)
        return {n: open(os.path.join(d, n), "rb").read()
                for n in os.listdir(d) if not n.startswith(".")}
    import zarr
    s = zarr.LMDBStore(path, readonly=True, lock=False)
    try:
        return {k: bytes(s[k]) for k in s.keys()
                if k.startswith(key + "/") and "/." not in k}
    finally:
        s.close()


runs = [("w", "lz4"), ("a", "zstd"), ("a", "none")]
for scheme, path in paths.items():
    step = 0
    for i, (mode, codec) in enumerate(runs):
        with simrec.Recorder("%s:%s" % (scheme, path), comm=comm, mode=mode,
                             codec=codec, chunk_bytes=1024) as rec:
            for _ in range(2):
                rec.record_all("field/T", block(step, rank))
                step += 1
            if i == 1:
                rec.record_all("field/new", block(0, rank))
        comm.Barrier()
    if rank:
        continue
    import numcodecs.blosc as nb
    import zarr
    store = zarr.LMDBStore(path, lock=False) if scheme == "zarr" else path
    g = zarr.open_group(store, mode="r")
    for key, codec, n in [("field/T", "lz4", step), ("field/new", "zstd", 1)]:
        a = g[key]
        assert a.chunks == (1, 1, 128), (scheme, key, a.chunks)
        assert a.compressor.cname == codec, (scheme, key, a.compressor)
        got = chunks(scheme, path, key)
        assert len(got) == n * size, (scheme, key, sorted(got))
        for k, b in got.items():
            assert nb.cbuffer_complib(b).lower() == codec, (scheme, k)
        want = np.stack([np.stack([block(s, r) for r in range(size)])
                         for s in range(n)])
        np.testing.assert_array_equal(a[:], want)
    if scheme == "zarr":
        store.close()
if rank == 0:
    print("codec append: ok")
