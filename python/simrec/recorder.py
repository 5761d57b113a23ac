"""simrec.Recorder: SimRecorder's Recorder over libsimrec."""
import atexit
import ctypes
import itertools
import os
import sys
import weakref

import numpy as np

from . import _lib
from ._collective import agreed, global_args, joined_args
from ._util import (NP_TO_DT, Closing, as_record_array, check, data_ptr,
                    decode_name, encode, masked, shape_arg)
from .attrs import Attributes
from .dataset import Dataset, JoinedDataset
from . import errors
from .errors import error_for

lib = _lib.lib

_ERANGE = errors.RangeError.code
_JOINED_MARK = "_simrec_joined_count"  # on a joined array's rows
_MODES = {"a": 0, "append": 0, "w": 1, "create": 1, "r": 2, "readonly": 2}
_SHUFFLE = {"none": 0, "byte": 1, "bit": 2}
# zero_copy= as SIMREC_ZERO_COPY_OFF / _ON / _CHECK
_ZERO_COPY = {False: 0, True: 1, 0: 0, 1: 1, 2: 2, "check": 2}
_INT_OPTIONS = ("level", "nthreads", "ranks_per_writer", "writers",
                "io_summary")

# every open Recorder by creation number: closed at interpreter exit, the
# newest first, so that no buffered record is lost without a word
_live = weakref.WeakValueDictionary()
_serial = itertools.count()


def _close_all():
    for n in sorted(_live.keys(), reverse=True):
        r = _live.get(n)
        if r is None:
            continue
        try:
            r.close()
        except Exception as e:  # no caller left to raise to
            print("simrec: closing %r at exit failed: %s" % (r.uri, e),
                  file=sys.stderr)


def _multi_rank(r):
    return r.comm is not None and r.comm.Get_size() > 1


def _exit_status(exc_type, exc):
    """The process status a SystemExit asks for (None: not a SystemExit):
    sys.exit() and sys.exit(0) are 0, an int is itself, anything else
    (a message) is 1, as Python's own exit does."""
    if not issubclass(exc_type, SystemExit):
        return None
    code = getattr(exc, "code", None)
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _end_job(exc_type, exc, tb):
    """sys.excepthook while a recorder with a communicator of several
    ranks is open: an uncaught exception on one rank must not leave the
    other ranks waiting forever in a collective call (nor this one in
    MPI_Finalize, which waits for them): print the traceback, abandon
    this rank's collective recorders and end the job with MPI_Abort, as
    ``python -m mpi4py`` does."""
    _previous_hook(exc_type, exc, tb)
    comm = None
    for n in sorted(_live.keys(), reverse=True):
        r = _live.get(n)
        if r is not None and _multi_rank(r):
            r._abandon()
            comm = comm or r.comm
    comm = comm or _abandoned_comm[0]
    if comm is not None:
        # Ctrl-C may reach one rank only: the others would wait for it;
        # 130 is the shell's status of a SIGINT
        code = 130 if issubclass(exc_type, KeyboardInterrupt) else 1
        print("simrec: rank %d ends the job (MPI_Abort %d): uncaught %s "
              "with a collective recorder open" % (comm.Get_rank(), code,
                                                  exc_type.__name__),
              file=sys.stderr, flush=True)
        comm.Abort(code)


_previous_hook = sys.excepthook
_abandoned_comm = [None]  # a communicator of an abandoned recorder


def _register_exit():
    """(Re-)register _close_all as the newest exit handler: atexit runs
    handlers last-in first-out, so it runs before those registered
    earlier, including an MPI finalization set up by importing mpi4py
    before this Recorder was made."""
    atexit.unregister(_close_all)
    atexit.register(_close_all)


def _options(kw):
    o = _lib.Options()
    lib.simrec_options_init(ctypes.byref(o))
    keep = None
    for name, v in kw.items():
        if v is None:
            continue
        if name == "mode":
            if v not in _MODES:
                raise ValueError("mode: one of 'a', 'w', 'r' (append, create, "
                                 "readonly), not %r" % (v,))
            o.mode = _MODES[v]
        elif name == "shuffle":
            o.shuffle = _SHUFFLE[v] if isinstance(v, str) else int(v)
        elif name == "codec":
            keep = encode(v, "codec")
            o.codec = keep
        elif name == "chunk_bytes":
            o.chunk_bytes = int(v)
        elif name == "zero_copy":
            if v not in _ZERO_COPY:
                raise ValueError("zero_copy: False, True or 'check', not %r"
                                 % (v,))
            o.zero_copy = _ZERO_COPY[v]
        elif name in _INT_OPTIONS:
            setattr(o, name, int(v))
        else:
            raise TypeError("Recorder: unknown option %r" % name)
    return o, keep


def _comm_handle(comm):
    """(ctypes type, value) of the C MPI_Comm behind an mpi4py communicator,
    as mpi4py documents for ctypes users: MPI._addressof gives the address
    of the handle, MPI._sizeof its size (a pointer in Open MPI, an int in
    MPICH)."""
    from mpi4py import MPI
    size = MPI._sizeof(MPI.Comm)
    ctype = ctypes.c_int if size == ctypes.sizeof(ctypes.c_int) \
        else ctypes.c_void_p
    return ctype, ctype.from_address(MPI._addressof(comm)).value


def _flatten(uris):
    out = []
    for u in uris:
        if isinstance(u, (list, tuple)):
            out.extend(_flatten(u))
        else:
            out.append(u if isinstance(u, str) else str(u))
    return out


class Recorder(Closing):
    """Record arrays under keys into one or more stores.

    ``Recorder("zarr:run.zarr")``, ``Recorder(["memory:", "hdf5:run.h5"])``
    or ``Recorder("memory:", "hdf5:run.h5")``: every record goes to each
    store, reads come from the first. Options as in simrec_options_t:
    ``mode`` ('a' append (default), 'w' create, 'r' read-only),
    ``chunk_bytes``, ``codec``, ``level``, ``shuffle`` ('none', 'byte',
    'bit'), ``nthreads``, ``ranks_per_writer``, ``writers``, ``io_summary``,
    ``zero_copy`` (False, True or 'check'; see wait()).

    ``comm=MPI.COMM_WORLD`` (an mpi4py communicator) opens the recorder
    collectively for ``record_all``; ``close`` is then collective too.
    """

    def __init__(self, *uris, comm=None, **options):
        self._h = None
        self._datasets = weakref.WeakSet()
        names = _flatten(uris)
        if not names:
            raise TypeError("Recorder needs at least one store URI")
        self._uri = ";".join(names)
        self.uri = masked(self._uri)  # for messages and repr: no secrets
        opts, self._keep = _options(options)
        h = ctypes.c_void_p()
        if comm is None:
            rc = lib.simrec_open(ctypes.byref(h), self._uri.encode(),
                                 ctypes.byref(opts))
        else:
            ctype, value = _comm_handle(comm)
            f = lib.simrec_open_comm
            f.restype = ctypes.c_int
            f.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p,
                          ctypes.POINTER(_lib.Options), ctype]
            rc = f(ctypes.byref(h), self._uri.encode(), ctypes.byref(opts),
                   value)
        if rc:
            # the library keeps a failed open's detail for this thread
            detail = lib.simrec_errmsg(None)
            detail = detail.decode(errors="replace") if detail else ""
            # the URI last: a masked secret runs to the end of the text
            raise error_for(rc, "%s (cannot open %r)" % (detail, self.uri))
        self._h = h.value
        self.comm = comm
        # the zero-copy step: arrays lent to the library until wait()
        zc = opts.zero_copy or os.environ.get("SIMREC_ZERO_COPY", "0") in (
            "1", "check")
        self._zero_copy = comm is not None and bool(zc)
        self._lent = []
        self._serial = next(_serial)
        _live[self._serial] = self
        _register_exit()
        if _multi_rank(self) and sys.excepthook is not _end_job:
            global _previous_hook
            _previous_hook = sys.excepthook
            sys.excepthook = _end_job

    # ---- lifetime -------------------------------------------------------
    def _handle(self):
        if self._h is None:
            raise ValueError("recorder %r is closed" % self.uri)
        return self._h

    @property
    def closed(self):
        return self._h is None

    def close(self):
        """Write what is buffered and close the stores (collective with
        comm). Open datasets of this recorder are closed first."""
        if self._h is None:
            return
        for ds in list(self._datasets):
            ds.close()
        h, self._h = self._h, None
        _live.pop(self._serial, None)
        rc = lib.simrec_close(h)
        self._give_back()
        if rc:
            detail = lib.simrec_errmsg(None)
            detail = detail.decode(errors="replace") if detail else ""
            raise error_for(rc, "%s (closing %r)" % (detail, self.uri))

    def flush(self):
        """Push buffered records to the stores and commit them (with
        zero_copy: waits for the lent arrays and gives them back)."""
        h = self._handle()
        rc = lib.simrec_flush(h)
        self._give_back()
        check(rc, h)

    def wait(self):
        """Collective: give back every array lent to the library.

        With ``zero_copy=True`` on a recorder with comm, record_all and
        record_global borrow the array they are given instead of copying
        it: until the next wait(), flush() or close() the library may
        still read it (copy, compress, write it in the background), so
        the array is kept alive and marked read-only (numpy's writeable
        flag; other views of the same memory are not marked: do not write
        through them) and made writeable again here. An array that had to
        be converted (not C-contiguous, another byte order) is the
        library's own copy: the caller's is neither lent nor marked.
        Recording a step from a lent array raises InvalidArgumentError on
        every rank; with ``zero_copy='check'`` an array changed while lent
        makes this call raise InvalidArgumentError on every rank. Without
        zero_copy it does nothing."""
        h = self._handle()
        rc = lib.simrec_wait(h) if self._zero_copy else 0
        self._give_back()
        check(rc, h)

    def _lend(self, value, arr):
        """Keep arr (and value, if arr is value's memory) until
        _give_back; mark the caller's array read-only meanwhile."""
        if not self._zero_copy:
            return
        mark = value if isinstance(value, np.ndarray) and (
            arr is value or arr.base is value) else None
        was = mark is not None and mark.flags.writeable
        if was:
            mark.flags.writeable = False
        self._lent.append((arr, mark if was else None))

    def _give_back(self):
        lent, self._lent = self._lent, []
        for arr, mark in lent:
            if mark is not None:
                mark.flags.writeable = True

    def __enter__(self):
        self._handle()  # a closed recorder cannot be entered again
        return self

    def __exit__(self, exc_type, exc, tb):
        """Close; but leaving on an exception with a communicator of
        several ranks, abandon instead: the close is collective and the
        other ranks may be waiting in a record call that this rank will
        never make. The exception propagates; uncaught, it ends the job
        (MPI_Abort, see _end_job). sys.exit(0) (or sys.exit()) closes, as
        a normal end of every rank; sys.exit with any other status
        abandons and ends the job at once with MPI_Abort(status): no
        excepthook runs for SystemExit, and MPI_Finalize at exit would
        wait for the other ranks, which wait for this one."""
        if exc_type is None or self._h is None or not _multi_rank(self):
            self.close()
            return
        code = _exit_status(exc_type, exc)
        if code == 0:
            self.close()
            return
        self._abandon()
        if code is not None:
            print("simrec: rank %d ends the job (MPI_Abort %d): sys.exit "
                  "inside 'with Recorder' of a collective recorder"
                  % (self.comm.Get_rank(), code), file=sys.stderr,
                  flush=True)
            self.comm.Abort(code)

    def _abandon(self):
        """Leave the recorder unclosed (simrec_abandon: one line on
        stderr naming the store; flushed records stay, later ones are
        lost; never closed at exit or MPI_Finalize)."""
        if self._h is None:
            return
        h, self._h = self._h, None
        _live.pop(self._serial, None)
        _abandoned_comm[0] = self.comm
        lib.simrec_abandon(h)
        self._lent = []  # still the library's: never handed back

    # ---- writing --------------------------------------------------------
    def dims(self, key, names):
        """Name the dimensions of key's dataset (before its first record
        or set, on every rank that records it): one name per axis of the
        dataset, the step (and for record_all the rank) axis included.
        Without it: "LEAF_step", "rank", then "LEAF_dim_I". Stored as zarr's
        _ARRAY_DIMENSIONS and HDF5 dimension scales, so that xarray and
        netCDF name the axes; a 1-d key named like its dimension is that
        dimension's coordinate."""
        h = self._handle()
        names = [names] if isinstance(names, str) else list(names)
        check(lib.simrec_dims(h, encode(key), len(names),
                              _lib.c_strings(names)), h)

    def _dims(self, key, dims):
        if dims is not None:
            self.dims(key, dims)

    def record(self, key, value, dims=None):
        """Append value to the list-like dataset under key.

        value: a numpy array of a supported dtype (any shape), a Python
        bool/int/float or numpy scalar (a 0-d record), bytes (a bytes
        record) or str (a UTF-8 text record). dims: the dataset's
        dimension names (see dims())."""
        self._dims(key, dims)
        h = self._handle()
        k = encode(key)
        if isinstance(value, (bytes, bytearray, memoryview, str)):
            data = value.encode() if isinstance(value, str) else bytes(value)
            dt = _lib.STRING if isinstance(value, str) else _lib.BYTES
            check(lib.simrec_record_bytes(h, k, dt, data, len(data)), h)
            return
        dt, arr = as_record_array(value, key)
        check(lib.simrec_record(h, k, dt, arr.ndim, shape_arg(arr.shape),
                                data_ptr(arr)), h)

    def record_all(self, key, local, dims=None):
        """Collective: every rank gives its local array (same dtype and
        shape everywhere); the step is one record of shape
        (nranks, *local.shape). On a recorder without comm it records a
        (1, *local.shape) array. dims: see dims()."""
        self._dims(key, dims)
        h = self._handle()
        dt, arr = as_record_array(local, key)
        check(lib.simrec_record_all(h, encode(key), dt, arr.ndim,
                                    shape_arg(arr.shape), data_ptr(arr)), h)
        self._lend(local, arr)

    def record_global(self, key, block, start=None, global_shape=None,
                      dims=None):
        """Collective: every rank gives the block it owns of one global
        array, ``block`` covering ``[start, start + block.shape)`` of an
        array of shape ``global_shape`` (the same on every rank). The step
        lands as one record of shape global_shape; the dataset is
        ``(steps, *global_shape)``, the same bytes whatever rank count and
        decomposition wrote it. Any decomposition: uneven blocks, a block
        with a 0 extent on ranks that own nothing; no overlap, and every
        element covered. ``start`` defaults to the origin and
        ``global_shape`` to ``block.shape`` (on a serial recorder: the
        whole array). Arguments that fail on one rank raise
        ``InvalidArgumentError`` on every rank, naming the ranks.
        dims: see dims()."""
        self._dims(key, dims)
        h = self._handle()
        dt, arr, start, gshape = agreed(self.comm, global_args, key, block,
                                        start, global_shape)
        check(lib.simrec_record_global(h, encode(key), dt, arr.ndim,
                                       shape_arg(gshape), shape_arg(start),
                                       shape_arg(arr.shape), data_ptr(arr)),
              h)
        self._lend(block, arr)

    def global_fill(self, key, value, dtype=None):
        """Declare the value that elements of the global array under key
        take when no rank's block covers them in a record_global step
        (without one such a step fails). value must have the array's
        dtype (a numpy scalar, or give dtype): a fill of another dtype is
        ignored. Not stored: call it on every rank with the same value, in
        every run that records the key, before its steps."""
        h = self._handle()
        dt, arr = as_record_array(value if dtype is None
                                  else np.asarray(value, dtype=dtype), key)
        if arr.size != 1:
            raise ValueError("key %r: a fill value is one element, not %r"
                             % (key, arr.shape))
        check(lib.simrec_global_fill(h, encode(key), dt, data_ptr(arr)), h)

    def record_joined(self, key, rows, dims=None):
        """Collective: every rank gives its rows (any number, 0 too; the
        same row shape ``rows.shape[1:]`` and dtype everywhere). The step
        is the ranks' rows concatenated in rank order;
        ``get_all(key)[s]`` reads step s back as one array. dims: the
        rows' names (default "LEAF_sample", "LEAF_dim_1"...)."""
        self._dims(key, dims)
        h = self._handle()
        dt, arr = agreed(self.comm, joined_args, key, rows)
        check(lib.simrec_record_joined(h, encode(key), dt, arr.ndim,
                                       shape_arg(arr.shape), data_ptr(arr)),
              h)

    def define(self, key, dtype, shape=()):
        """Create the list-like dataset under key with no records yet:
        shape (0, *shape) of dtype (a numpy dtype, or bytes / str for a
        bytes or text dataset). Nothing changes if key is already such a
        dataset. Not on a recorder opened with comm (record a step)."""
        h = self._handle()
        if dtype in (bytes, str):
            dt = _lib.BYTES if dtype is bytes else _lib.STRING
            shape = ()
        else:
            try:
                dt = NP_TO_DT[np.dtype(dtype)]
            except (TypeError, KeyError):
                raise TypeError("key %r: dtype %r is not one simrec records"
                                % (key, dtype)) from None
        shape = tuple(int(n) for n in shape)
        if any(n < 0 for n in shape):
            raise ValueError("key %r: negative record shape %r" % (key, shape))
        check(lib.simrec_define(h, encode(key), dt, len(shape),
                                shape_arg(shape)), h)

    def set(self, key, value, dims=None):
        """Store one value under key, replacing what was there: an array
        or scalar, a str (read back as str) or bytes (read back as bytes).
        dims: see dims()."""
        self._dims(key, dims)
        h = self._handle()
        if isinstance(value, (bytes, bytearray, memoryview, str)):
            dt = _lib.STRING if isinstance(value, str) else _lib.BYTES
            raw = value.encode() if isinstance(value, str) else bytes(value)
            check(lib.simrec_set_bytes(h, encode(key), dt, raw, len(raw)), h)
            return
        dt, arr = as_record_array(value, key)
        check(lib.simrec_set(h, encode(key), dt, arr.ndim,
                             shape_arg(arr.shape), data_ptr(arr)), h)

    # ---- reading --------------------------------------------------------
    def _open(self, fn, key):
        h = self._handle()
        out = ctypes.c_void_p()
        check(fn(h, encode(key), ctypes.byref(out)), h)
        ds = Dataset(self, key, out.value)
        self._datasets.add(ds)
        return ds

    def get_all(self, key):
        """A lazy Dataset of everything under key: shape
        (n_records, *record_shape) for a recorded key (a global array's:
        (steps, *global_shape)), the value's own shape for a set key; for
        a joined key (record_joined), a JoinedDataset whose item s is
        step s's rows."""
        ds = self._open(lib.simrec_get_all, key)
        if not self._is_joined(key):
            return ds
        try:
            counts = self._open(lib.simrec_get_all, key + "_count")
        except Exception:
            ds.close()
            raise
        return JoinedDataset(self, key, ds, counts)

    def _is_joined(self, key):
        """key holds a joined array: the rows carry the attribute naming
        their counts (so a plain key beside a KEY_count of its own is not
        taken for one), and the counts read (step 0, or no step yet)."""
        try:
            mark = Attributes(self, key)[_JOINED_MARK]
        except errors.Error:
            return False
        if mark != key + "_count":
            return False
        h = self._handle()
        row0, n = ctypes.c_size_t(), ctypes.c_size_t()
        rc = lib.simrec_joined_step(h, encode(key), 0, ctypes.byref(row0),
                                    ctypes.byref(n))
        if rc == _ERANGE:  # no step yet
            return True
        # the rows say they are joined: counts that are missing or corrupt
        # are an error, never a reason to read the rows as a plain dataset
        check(rc, h)
        return True

    def get(self, key):
        """A lazy Dataset of the last record under key (or the set value)."""
        return self._open(lib.simrec_get, key)

    __getitem__ = get_all

    def follow(self, key, timeout=None, start=0):
        """Follow a running writer: yield (index, record) for each record
        of key from index start on, as a numpy array, as soon as the
        writer commits it; end when the writer finishes (closes the
        store). timeout: seconds to wait for each new record (None:
        forever); raises simrec.TimedOutError when none comes in time (a
        writer killed by a signal never finishes), NoKeyError when the
        writer finished without ever recording key. Reads only committed,
        whole steps, and holds no lock between records."""
        h = self._handle()
        t = -1.0 if timeout is None else float(timeout)
        have, now = int(start), ctypes.c_size_t()
        if have < 0:
            raise ValueError("follow %r: start %d is negative" % (key, have))
        while True:
            rc = lib.simrec_follow(h, encode(key), have, t,
                                   ctypes.byref(now))
            if rc == errors.FinishedError.code:
                return
            check(rc, h)
            ds = self.get_all(key)
            try:
                for i in range(have, now.value):
                    yield i, ds[i]
            finally:
                ds.close()
            have = now.value

    # ---- keys and attributes --------------------------------------------
    def keys(self, prefix="", groups=False):
        """Dataset keys below prefix in sorted order (with groups=True, the
        groups too)."""
        h = self._handle()
        out = []

        def fn(k, is_dataset, arg):
            if is_dataset or groups:
                out.append(decode_name(k))
            return 0

        cb = _lib.LIST_FN(fn)
        check(lib.simrec_list(h, encode(prefix, "prefix"), cb, None), h)
        return out

    def __iter__(self):
        return iter(self.keys())

    def __contains__(self, key):
        return key in self.keys(groups=True)

    @property
    def attrs(self):
        """Attributes of the root group (dict-like)."""
        return Attributes(self, "")

    def attributes(self, key):
        """Attributes of any key, group or dataset (dict-like)."""
        return Attributes(self, key)

    def disk_bytes(self):
        """Bytes the first store occupies on disk, or None if unknown."""
        n = lib.simrec_disk_bytes(self._handle())
        return None if n < 0 else n

    def __repr__(self):
        return "<simrec.Recorder %r%s>" % (
            self.uri, " (closed)" if self._h is None else "")
