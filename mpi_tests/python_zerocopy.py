"""The zero-copy step from Python, under mpiexec -n N:
python_zerocopy.py TMPDIR STEPS

A Recorder(zero_copy='check', comm=...) on zarr+dir (raw blocks) borrows
the arrays given to record_all and record_global: each is marked read-only
while lent (writing into it raises ValueError) and writeable again after
wait(); a step recorded from a lent array raises InvalidArgumentError on
every rank and stores nothing; flush() and close() give the arrays back;
an array that had to be converted (not C-contiguous) is not marked. Rank 0
reads the store back with zarr-python and compares every element with
the formulas that made the data (numpy)."""
import os
import sys

import numpy as np
from mpi4py import MPI

import mpi_abort
import simrec

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()


mpi_abort.install()

R, C = 32, 9      # record_all: every rank's block
R2, C2 = 6, 5     # record_global: every rank's row slab


def local(step, r=None):
    r = rank if r is None else r
    return step * 1000.0 + r * 10.0 + np.arange(R * C).reshape(R, C) * 0.5


def glob(step):
    rows = np.arange(R2 * size)[:, None] * 100 + np.arange(C2)[None, :]
    return (step * 100000 + rows).astype(np.int32)


def expect_readonly(a):
    assert not a.flags.writeable
    try:
        a[0, 0] = -1
    except ValueError:
        return
    raise AssertionError("a lent array was writeable")


def main():
    tmp, steps = sys.argv[1], int(sys.argv[2])
    path = os.path.join(tmp, "python_zerocopy_np%d" % size)
    uri = "zarr+dir:%s?codec=none" % path
    rec = simrec.Recorder(uri, mode="w", comm=comm, zero_copy="check")
    bufs = [np.empty((R, C)), np.empty((R, C))]
    gbufs = [np.empty((R2, C2), np.int32), np.empty((R2, C2), np.int32)]
    gshape = (R2 * size, C2)
    for s in range(steps):
        u, g = bufs[s % 2], gbufs[s % 2]
        u[...] = local(s)
        g[...] = glob(s)[rank * R2:(rank + 1) * R2]
        rec.record_all("zc/u", u)
        rec.record_global("zc/g", g, start=(rank * R2, 0),
                          global_shape=gshape)
        expect_readonly(u)
        expect_readonly(g)
        if s == 1:
            # the same array again while lent: refused on every rank
            try:
                rec.record_all("zc/u", u)
            except simrec.InvalidArgumentError:
                pass
            else:
                raise AssertionError("a lent array was recorded again")
        if s == 2:
            rec.flush()  # waits, gives back
            assert u.flags.writeable and g.flags.writeable
        elif s % 2 == 1:
            rec.wait()
            for a in bufs + gbufs:
                assert a.flags.writeable
            # simrec wrote nothing into them
            assert np.array_equal(bufs[0], local(s - 1))
            assert np.array_equal(bufs[1], local(s))
    # a converted array (Fortran order) is the library's copy: not marked
    f = np.asfortranarray(local(steps))
    rec.record_all("zc/f", f)
    assert f.flags.writeable
    last = bufs[(steps - 1) % 2]
    rec.close()  # waits for the lent arrays, gives them back
    assert last.flags.writeable
    comm.Barrier()
    if rank == 0:
        import zarr
        z = zarr.open_group(zarr.DirectoryStore(path), mode="r")
        want = np.stack([np.stack([local(s, r) for r in range(size)])
                         for s in range(steps)])
        assert np.array_equal(z["zc/u"][...], want)
        wantg = np.stack([glob(s) for s in range(steps)])
        assert np.array_equal(z["zc/g"][...], wantg)
        wantf = np.stack([local(steps, r) for r in range(size)])[None]
        assert np.array_equal(z["zc/f"][...], wantf)
        print("python_zerocopy np=%d: ok" % size)


main()
