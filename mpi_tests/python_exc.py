"""Rank 1 leaves mid-run inside ``with Recorder(..., comm=)``: run as
``python_exc.py write DIR [HOW]`` under mpiexec (np 3), HOW being
``raise`` (an exception, the default), ``exit3`` (``sys.exit(3)``),
``exitmsg`` (``sys.exit("message")``) or ``kbint`` (KeyboardInterrupt,
uncaught), the job must end (not 0, not a
hang: the caller bounds it); ``python_exc.py read DIR`` then checks that
the 3 steps flushed before are there and whole."""
import sys

import numpy as np
import simrec

FAIL_AT = 3


def value(step, r):
    return np.full((2, 3), 10.0 * step + r)


def leave(how):
    if how == "exit3":
        sys.exit(3)
    if how == "exitmsg":
        sys.exit("rank 1 gives up")
    if how == "kbint":
        raise KeyboardInterrupt
    raise RuntimeError("user bug on rank 1")


def write(store, how):
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    r, n = comm.rank, comm.size
    with simrec.Recorder("zarr+dir:" + store, mode="w", comm=comm) as rec:
        for s in range(1000):
            if s == FAIL_AT and r == 1:
                leave(how)
            rec.record_global("T", value(s, r), start=(2 * r, 0),
                              global_shape=(2 * n, 3))
            rec.flush()
    print("rank %d: never stopped" % r, file=sys.stderr)
    return 3


def read(store, nranks):
    with simrec.Recorder("zarr+dir:" + store, mode="r") as rec:
        got = rec["T"][...]
    want = np.stack([np.concatenate([value(s, r) for r in range(nranks)])
                     for s in range(FAIL_AT)])
    if got.shape != want.shape or not np.array_equal(got, want):
        print("T: shape %s, want %s; equal: %s" % (
            got.shape, want.shape, got.shape == want.shape
            and np.array_equal(got, want)), file=sys.stderr)
        return 1
    print("T: %d steps, all as written" % FAIL_AT)
    return 0


if __name__ == "__main__":
    sys.exit(write(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else
                   "raise") if sys.argv[1] == "write"
             else read(sys.argv[2], int(sys.argv[3])))
