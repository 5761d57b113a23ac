"""Standalone check (not part of the suite): simrec_joined_step should
refuse a key that is not a joined array (SIMREC_EKIND), also when a plain
key "n" has a sibling "n_count" of int64 records; it reads n_count as the
counts of "n". Run: SIMREC_LIBRARY=... PYTHONPATH=python python3 THIS"""
import ctypes
import sys

import numpy as np

import simrec
from simrec._lib import lib

with simrec.Recorder("memory:", mode="w") as rec:
    for s in range(3):
        rec.record("n", np.float64(s))
        rec.record("n_count", np.int64(1))
    row0, nrows = ctypes.c_size_t(), ctypes.c_size_t()
    rc = lib.simrec_joined_step(rec._handle(), b"n", 1, ctypes.byref(row0),
                                ctypes.byref(nrows))
    print("simrec_joined_step(plain key 'n', step 1) = %d (%s), row0 %d, "
          "nrows %d" % (rc, lib.simrec_err_name(rc).decode() if rc else "0",
                        row0.value, nrows.value))
    sys.exit(0 if rc == simrec.KindError.code else 1)
