"""The MPI Python tests' failure rule: an exception on one rank prints its
traceback and aborts the whole job (MPI_Abort, exit 1), so that the other
ranks never hang in a collective and mpiexec fails."""
import sys

from mpi4py import MPI


def install(comm=MPI.COMM_WORLD):
    def abort_on_error(kind, value, tb):
        sys.__excepthook__(kind, value, tb)
        sys.stderr.flush()
        comm.Abort(1)  # a failure on one rank must not hang the others

    sys.excepthook = abort_on_error
