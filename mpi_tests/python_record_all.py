"""record_all from Python with mpi4py, under mpiexec -n N:
   python_record_all.py TMPDIR STEPS [URI...]
Every rank records its block each step into each store scheme; rank 0 then
reads the stores back serially and checks every value (the URIs given
too: a redis store, say). Prints
"python record_all: ok" on rank 0."""
import sys

import numpy as np
from mpi4py import MPI

import mpi_abort
import simrec


mpi_abort.install()
checked_memory = False

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
tmp, steps = sys.argv[1], int(sys.argv[2])
name = "np%d" % size
uris = ["zarr:%s/py_%s.zarr" % (tmp, name),
        "zarr+dir:%s/py_%s_dir.zarr" % (tmp, name),
        "hdf5:%s/py_%s.h5" % (tmp, name)] + sys.argv[3:]


def block(step, r):
    return (np.arange(6 * 5, dtype=np.float64).reshape(6, 5)
            + 1000 * step + 100 * r)


def check(rec, cols):
    """The values of rank columns cols (all of them for a reopened store)
    and rank 0's independent records, against the formula."""
    T = rec.get_all("field/T")
    assert T.shape == (steps, size, 6, 5), (rec, T.shape)
    want = np.stack([np.stack([block(s, r) for r in range(size)])
                     for s in range(steps)])
    got = np.asarray(T)
    np.testing.assert_array_equal(got[:, cols], want[:, cols])
    np.testing.assert_array_equal(T[:, cols[-1], 2, ::2],
                                  want[:, cols[-1], 2, ::2])
    ids = rec.get_all("rank/id")[:]
    assert ids.shape == (steps, size)
    assert (ids[:, cols] == np.asarray(cols)).all()
    if 0 in cols:
        np.testing.assert_array_equal(rec.get_all("global/step")[:],
                                      np.arange(steps))


for uri in uris + ["memory:"]:
    with simrec.Recorder(uri, comm=comm, mode="w") as rec:
        for step in range(steps):
            rec.record_all("field/T", block(step, rank))
            rec.record_all("rank/id", np.int32(rank))
            if rank == 0:
                rec.record("global/step", step)
        # a rank giving another shape fails the step on every rank
        bad = np.zeros((6, 5) if rank else (5, 6))
        try:
            rec.record_all("field/T", bad)
        except simrec.ShapeError:
            pass
        else:
            raise AssertionError("a mismatched shape was accepted")
        if uri == "memory:":
            # the store lives in the writer's memory: one writer (rank 0)
            # by default on one node, and it holds every rank's column
            rec.flush()
            if rank == 0:
                check(rec, list(range(size)))
                checked_memory = True
    comm.Barrier()

if rank == 0:
    assert checked_memory
    for uri in uris:
        with simrec.Recorder(uri, mode="r") as rec:
            check(rec, list(range(size)))
    print("python record_all: ok")
