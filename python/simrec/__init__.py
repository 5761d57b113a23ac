"""simrec for Python: record numpy arrays from (MPI) simulations into
zarr, HDF5, redis or memory stores, and read them back lazily.

    import numpy as np, simrec
    with simrec.Recorder("zarr:run.zarr", mode="w") as rec:
        rec.record("train/loss", 0.5)
        rec.record("field/T", np.zeros((64, 64)))
    with simrec.Recorder("zarr:run.zarr", mode="r") as rec:
        T = rec.get_all("field/T")       # lazy: shape (1, 64, 64)
        print(T[-1, :3, :3])

Under MPI (mpi4py): Recorder(uri, comm=MPI.COMM_WORLD), then the collective
record_global (a field's blocks), record_joined (particles' rows) and
record_all (per-rank arrays).

A thin layer (ctypes) over the C library libsimrec; see docs/python.md.
"""
from . import errors
from ._lib import lib as _clib
from .attrs import Attributes
from .dataset import Dataset, JoinedDataset
from .errors import *  # noqa: F401,F403 (the exception classes)
from .errors import Error
from .lock import Lock, lock
from .recorder import Recorder

__version__ = "0.1.0"

__all__ = ["Recorder", "Dataset", "JoinedDataset", "Attributes", "Lock",
           "lock", "Error", "errors", "library_path"] + [
               n for n in errors.__all__ if n.endswith("Error")]


def library_path():
    """The path of the libsimrec this package loaded."""
    return _clib._name
