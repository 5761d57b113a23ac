"""A writer of an HDF5 file in SWMR mode (?swmr=1), serial or under
mpiexec (one writer rank: SIMREC_WRITERS=1):

    swmr_writer.py URI STEPS FIFO... [--mpi] [--refused]

Each step records its rows of the global array f/T (rows split over the
ranks) and, per rank, f/n (record_all), then flushes; after every flush
rank 0 writes the number of steps flushed, one line, to every FIFO (the
readers' signal), and "end" after the close. The values are the formulas
of swmr_reader.py (value(), count()). --refused: the open must fail with
ConfigError on every rank (?swmr=1 with several writers)."""
import os
import sys

import numpy as np

import simrec

ROWS, COLS = 48, 160


def value(s):
    i, j = np.indices((ROWS, COLS))
    return s * 1e6 + i * 1000.0 + j


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    uri, steps, fifos = args[0], int(args[1]), args[2:]
    comm, rank, size = None, 0, 1
    if "--mpi" in sys.argv:
        from mpi4py import MPI
        comm = MPI.COMM_WORLD
        rank, size = comm.Get_rank(), comm.Get_size()
    if "--refused" in sys.argv:
        try:
            simrec.Recorder(uri, mode="w", comm=comm)
        except simrec.ConfigError as e:
            assert "swmr" in str(e) and "lock=" in str(e), e
            print("rank %d refused: %s" % (rank, e))
            return 0
        raise AssertionError("?swmr=1 with %d writers was not refused" % size)
    out = [open(f, "w") for f in fifos] if rank == 0 else []
    lo, hi = rank * ROWS // size, (rank + 1) * ROWS // size
    rec = simrec.Recorder(uri, mode="w", comm=comm)
    for s in range(steps):
        rec.record_global("f/T", value(s)[lo:hi], start=(lo, 0),
                          global_shape=(ROWS, COLS))
        rec.record_all("f/n", np.int64(s * 10 + rank))
        rec.flush()
        for f in out:
            f.write("%d\n" % (s + 1))
            f.flush()
    rec.close()
    for f in out:
        f.write("end\n")
        f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
