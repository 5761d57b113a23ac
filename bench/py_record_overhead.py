"""Overhead of Recorder.record from Python against the same loop in C.

    SIMREC_LIBRARY=build/src/libsimrec.so PYTHONPATH=python \
        /usr/bin/python3 bench/py_record_overhead.py [URI] [N] [REPEATS]

Both loops run in this process on the same library: the "C" loop calls
simrec_record with every argument prepared in advance (what a C loop
passes), the Python loop calls Recorder.record(key, array), which checks
and converts per call. Repeats alternate which loop goes first; the figure
is the median of the per-repeat ratios. The Python layer's own cost per
call (conversion and checks, without the C call) is printed too: on a
shared machine it is the steadier figure. Default: memory: store, 1 MiB
float64 records, N = 200.
"""
import ctypes
import statistics
import sys
import time

import numpy as np

import simrec
from simrec import _lib

uri = sys.argv[1] if len(sys.argv) > 1 else "memory:"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 7
arr = np.random.default_rng(0).standard_normal(131072)  # 1 MiB


def py_loop():
    with simrec.Recorder(uri, mode="w") as rec:
        t0 = time.perf_counter()
        for _ in range(n):
            rec.record("bench/x", arr)
        rec.flush()
        return time.perf_counter() - t0


def raw_loop():
    with simrec.Recorder(uri, mode="w") as rec:
        f, h, key = _lib.lib.simrec_record, rec._h, b"bench/x"
        shape = (ctypes.c_size_t * 1)(arr.size)
        ptr = ctypes.c_void_p(arr.ctypes.data)
        t0 = time.perf_counter()
        for _ in range(n):
            f(h, key, 9, 1, shape, ptr)
        rec.flush()
        return time.perf_counter() - t0


py, raw, ratios = [], [], []
for i in range(repeats):
    if i % 2:
        b, a = py_loop(), raw_loop()
    else:
        a, b = raw_loop(), py_loop()
    raw.append(a)
    py.append(b)
    ratios.append(b / a)
p, r = statistics.median(py), statistics.median(raw)
from simrec._util import as_record_array, data_ptr, encode, shape_arg
m = 20000
t0 = time.perf_counter()
for _ in range(m):
    as_record_array(arr, "bench/x"), shape_arg(arr.shape), data_ptr(arr), \
        encode("bench/x")
layer = (time.perf_counter() - t0) / m
print("%s, %d records of 1 MiB: python %.1f us/record, C-prepared %.1f "
      "us/record, median ratio %.3f (overhead %.1f%%); Python layer alone "
      "%.2f us/record = %.2f%% of a record" % (
          uri, n, 1e6 * p / n, 1e6 * r / n, statistics.median(ratios),
          100 * (statistics.median(ratios) - 1), 1e6 * layer,
          100 * layer / (r / n)))
