"""record_global and record_joined from Python with mpi4py, under
mpiexec -n N:  python_global.py SCHEME TMPDIR STEPS

Every rank records, each step, its block of three global arrays (uneven row
slabs of a 2-D array, a 2-D block decomposition of a 3-D array, a 1-D
array where ranks past its length own nothing, a 1-D array with one
element no rank owns, which takes the key's fill value) and a variable number of
joined rows (none on some ranks, on every rank at some steps). Rank 0 then
reads the store back with simrec (get_all of a global key slices as a
dataset of shape (steps, *global_shape); get_all(key)[s] of a joined key is
step s's rows), and independently with zarr-python or h5py, and compares
everything with the formulas that made the data (numpy). A block that
overlaps another's is refused on every rank and stores nothing. The store:
memory, zarr, zarr+dir, hdf5 or redis (SIMREC_REDIS_HOST)."""
import os
import sys

import numpy as np
from mpi4py import MPI

import mpi_abort
import simrec

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()


mpi_abort.install()

SHAPE2 = (13, 7)      # rows split in uneven slabs
SHAPE3 = (5, 6, 4)    # axes 0 and 1 split over a 2-D grid of ranks
SHAPE1 = (2,)         # ranks past the second own nothing
ROW = (3,)            # joined rows of particles/xv


def split(n, parts, i):
    """[start, start + count) of part i of n split in uneven parts."""
    count = n // parts + (1 if i < n % parts else 0)
    return i * (n // parts) + min(i, n % parts), count


def full2(step):
    j, i = np.indices(SHAPE2)
    return step + j * 0.125 + i * 1e-3


def full3(step):
    a, b, c = np.indices(SHAPE3)
    return (step * 100000 + a * 1000 + b * 10 + c).astype(np.int32)


def full1(step):
    return np.array([step * 2 + 1, step * 2 + 2], dtype=np.uint16)


def nrows(step, r):
    """joined rows of rank r at step: 0 on some ranks; at np 1 none at
    step 0 and 3 (a step with no row at all)."""
    return (r + step) % 3


def rows_of(step, r):
    k = np.arange(nrows(step, r), dtype=np.float64)[:, None]
    return step * 1000.0 + r * 100.0 + k + np.array([0.0, 0.25, 0.5])


def ids_of(step, r):
    return np.arange(nrows(step, r), dtype=np.int64) + 10 * r + 1000 * step


def joined(step, fn, row_shape, dtype):
    parts = [fn(step, r) for r in range(size)]
    return np.concatenate(parts) if parts else np.empty((0,) + row_shape,
                                                        dtype)


def record_step(rec, step):
    r0, nr = split(SHAPE2[0], size, rank)
    rec.record_global("field/T2", full2(step)[r0:r0 + nr],
                      start=(r0, 0), global_shape=SHAPE2)
    pa, pb = MPI.Compute_dims(size, 2)
    (a0, na), (b0, nb) = split(SHAPE3[0], pa, rank // pb), \
        split(SHAPE3[1], pb, rank % pb)
    rec.record_global("field/U3", full3(step)[a0:a0 + na, b0:b0 + nb],
                      start=(a0, b0, 0), global_shape=SHAPE3)
    s0, ns = split(SHAPE1[0], size, rank)
    rec.record_global("field/E1", full1(step)[s0:s0 + ns], start=(s0,),
                      global_shape=SHAPE1)
    # rank r owns element r of size + 1: the last one takes the fill value
    rec.record_global("field/F1", np.array([step + rank / 8.0]),
                      start=(rank,), global_shape=(size + 1,))
    rec.record_joined("parts/xv", rows_of(step, rank))
    rec.record_joined("parts/id", ids_of(step, rank))


def refused_overlap(rec):
    """Every rank claims row 0 of a 2 x 3 array: refused on every rank."""
    try:
        rec.record_global("bad/overlap", np.ones((1 if size > 1 else 3, 3)),
                          start=(0, 0), global_shape=(2, 3))
    except simrec.Error as e:
        code = e.code
    else:
        code = 0
    codes = comm.allgather(code)
    assert all(c != 0 for c in codes) and len(set(codes)) == 1, codes
    # a Python-side mistake on one rank only: every rank raises
    try:
        rec.record_global("bad/args", np.ones(3), start=(0, 0) if rank == 0
                          else (0,), global_shape=(3 * size,))
    except simrec.InvalidArgumentError as e:
        assert "rank 0" in str(e), e
    else:
        raise AssertionError("start of the wrong length accepted")


def check_simrec(rec, steps):
    T = rec.get_all("field/T2")
    assert T.shape == (steps,) + SHAPE2 and T.dtype == np.float64, T
    want = np.stack([full2(s) for s in range(steps)])
    assert np.array_equal(np.asarray(T), want)
    assert np.array_equal(T[-1, 3:11:2, ::-1], want[-1, 3:11:2, ::-1])
    assert np.array_equal(T[:, 5], want[:, 5])
    U = rec.get_all("field/U3")
    assert U.shape == (steps,) + SHAPE3 and U.dtype == np.int32
    want3 = np.stack([full3(s) for s in range(steps)])
    assert np.array_equal(U[:], want3)
    assert np.array_equal(U[1:, 2, 1:5, -1], want3[1:, 2, 1:5, -1])
    E = rec.get_all("field/E1")
    assert E.shape == (steps,) + SHAPE1 and E.dtype == np.uint16
    assert np.array_equal(E[:], np.stack([full1(s) for s in range(steps)]))
    F = rec.get_all("field/F1")
    assert F.shape == (steps, size + 1)
    assert np.array_equal(F[:], [[s + r / 8.0 for r in range(size)] + [-1.0]
                                 for s in range(steps)])
    J = rec.get_all("parts/xv")
    assert len(J) == steps, (len(J), steps)
    for s in range(steps):
        want = joined(s, rows_of, ROW, np.float64)
        got = J[s]
        assert isinstance(got, np.ndarray) and got.dtype == np.float64
        assert got.shape == want.shape and np.array_equal(got, want), (s, got)
    assert np.array_equal(J[-1], joined(steps - 1, rows_of, ROW, np.float64))
    ids = rec.get_all("parts/id")
    assert [len(x) for x in ids] == [sum(nrows(s, r) for r in range(size))
                                     for s in range(steps)]
    for s in range(steps):
        assert np.array_equal(ids[s], joined(s, ids_of, (), np.int64))
    assert "bad/overlap" not in rec, "a refused step left a key"


def check_independent(scheme, path, steps):
    """The same store through zarr-python or h5py, no simrec code."""
    if scheme in ("zarr", "zarr+dir"):
        import zarr
        store = zarr.LMDBStore(path, readonly=True, lock=False) \
            if scheme == "zarr" else zarr.DirectoryStore(path)
        root = zarr.open_group(store=store, mode="r")
    elif scheme == "hdf5":
        import h5py
        root = h5py.File(path, "r")
    elif scheme == "redis":
        root = RedisRoot(path)
    else:
        return
    assert np.array_equal(root["field/T2"][...],
                          np.stack([full2(s) for s in range(steps)]))
    assert np.array_equal(root["field/U3"][...],
                          np.stack([full3(s) for s in range(steps)]))
    assert np.array_equal(root["field/E1"][...],
                          np.stack([full1(s) for s in range(steps)]))
    for key, fn, shape in (("parts/xv", rows_of, ROW),
                           ("parts/id", ids_of, ())):
        for s in range(steps):
            want = joined(s, fn, shape, np.float64)
            assert np.array_equal(read_joined_step(root, key, s), want)
    if scheme == "hdf5":
        root.close()


class RedisRoot:
    """A redis store's datasets through docs/redis_decode.py (redis-py and
    numpy only), indexed like a zarr group."""

    def __init__(self, prefix):
        sys.path.insert(0, os.path.join(os.path.dirname(
            os.path.abspath(__file__)), "..", "docs"))
        import redis
        import redis_decode
        host, port = os.environ["SIMREC_REDIS_HOST"].rsplit(":", 1)
        self.r, self.prefix = redis.Redis(host=host, port=int(port)), prefix
        self.decode = redis_decode

    def __getitem__(self, key):
        return np.asarray(self.decode.read_dataset(self.r, self.prefix, key))


def read_joined_step(root, key, s):
    """Step s of a joined key from its documented layout (docs/format.md,
    a CF contiguous ragged array): the rows of every step under key, the
    row count of each step under KEY_count."""
    counts = root[key + "_count"][...]
    start = int(counts[:s].sum())
    return root[key][start:start + int(counts[s])]


def main():
    scheme, tmp, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    name = "py_global_%s_np%d" % (scheme.replace("+", "_"), size)
    path = name if scheme == "redis" else os.path.join(
        tmp, name + (".h5" if scheme == "hdf5" else ".zarr"))
    uri = {"memory": "memory:", "redis": "redis://?prefix=" + name}.get(
        scheme, "%s:%s" % (scheme, path))
    with simrec.Recorder(uri, comm=comm, mode="w") as rec:
        rec.global_fill("field/F1", -1.0)
        for step in range(steps):
            record_step(rec, step)
        refused_overlap(rec)
        if scheme == "memory":
            rec.flush()
            if rank == 0:  # the store lives as long as its recorder
                check_simrec(rec, steps)
                print("python global memory np=%d: ok" % size)
        comm.Barrier()
    if rank == 0 and scheme != "memory":
        with simrec.Recorder(uri, mode="r") as rec:
            check_simrec(rec, steps)
        check_independent(scheme, path, steps)
        print("python global %s np=%d: ok" % (scheme, size))


main()
