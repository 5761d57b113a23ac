"""Small series under mpiexec -n N with one writer per rank (parallel HDF5
over MPI-IO, zarr stores with several writers):
    python_small_series.py TMPDIR
1,000 steps of one scalar per rank (record_all) take under 64 KiB, and
read back exactly.
Prints "small series: ok" on rank 0."""
import os
import subprocess
import sys

import numpy as np
from mpi4py import MPI

import mpi_abort
import simrec


mpi_abort.install()

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
tmp = sys.argv[1]
N = 1000
LIMIT = 64 << 10


def energy(step, r):
    return np.float64(step * 0.5 + r)


def on_disk(scheme, path):
    if scheme == "hdf5":
        return os.path.getsize(path)
    out = subprocess.run(["du", "-sk", path], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[0]) * 1024


for scheme in ("hdf5", "zarr", "zarr+dir"):
    path = "%s/small_np%d_%s" % (tmp, size, scheme.replace("+", "_"))
    with simrec.Recorder("%s:%s" % (scheme, path), comm=comm, mode="w",
                         ranks_per_writer=1) as rec:
        for s in range(N):
            rec.record_all("energy", energy(s, rank))
    comm.Barrier()
    if rank:
        continue
    n = on_disk(scheme, path)
    assert n < LIMIT, (scheme, n)
    want = np.array([[energy(s, r) for r in range(size)] for s in range(N)])
    with simrec.Recorder("%s:%s" % (scheme, path), mode="r") as rec:
        got = rec.get_all("energy")[:]
    np.testing.assert_array_equal(got, want)
    print("%s: %d bytes" % (scheme, n))
if rank == 0:
    print("small series: ok")
