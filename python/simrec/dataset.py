"""Lazy dataset handles: shape, dtype and numpy-style reads of hyperslabs."""
import ctypes
import json
import mmap
import operator

import numpy as np

from . import _lib
from ._util import DT_TO_NP, Closing, check
from .attrs import Attributes

lib = _lib.lib

# Reads at least this large land in an anonymous map (4 KiB pages), not in
# numpy's allocation: numpy asks the kernel for transparent huge pages for
# big arrays, and a read into fresh huge pages spent most of its time
# having them zeroed (perf: clear_page_erms under
# do_huge_pmd_anonymous_page), a cost that grew faster than the data; the
# same read of 640 MB into 4 KiB pages took half the time.
_MAP_BYTES = 64 << 20


def _empty(shape, dtype):
    """An uninitialised array of shape and dtype for a read to fill."""
    n = int(np.prod(shape, dtype=np.int64))
    nbytes = n * np.dtype(dtype).itemsize
    if nbytes < _MAP_BYTES:
        return np.empty(shape, dtype=dtype)
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype=dtype,
                         count=n).reshape(shape)


class Dataset(Closing):
    """A handle on a dataset of a Recorder (``Recorder.get_all``/``get``).

    Nothing is read until it is indexed: ``ds[10:20, :, 3]`` reads only the
    hyperslab covering the selection, ``np.asarray(ds)`` reads everything.
    Indices are ints, slices (any step, negative values count from the end),
    ``...`` and ``None``, with numpy's results. Bytes and string datasets
    give ``bytes`` / ``str`` items (a list for a slice).

    The handle is closed by ``close()``, by leaving a ``with`` block, or
    when its recorder closes.
    """

    def __init__(self, recorder, key, handle):
        self._rec = recorder
        self._h = handle
        self.key = key
        self._dt = lib.simrec_dataset_dtype(handle)
        nd = lib.simrec_dataset_ndim(handle)
        sh = (ctypes.c_size_t * max(nd, 1))()
        lib.simrec_dataset_shape(handle, sh)
        self.shape = tuple(sh[i] for i in range(nd))
        self.dtype = DT_TO_NP[self._dt]

    # ---- properties -----------------------------------------------------
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def is_bytes(self):
        """True for a dataset of bytes or str records."""
        return self._dt in (_lib.BYTES, _lib.STRING)

    @property
    def chunks(self):
        """Chunk shape as stored, or None if the store has no chunks."""
        c = (ctypes.c_size_t * _lib.MAX_NDIM)()
        rc = lib.simrec_dataset_chunks(self._handle(), c)
        if rc < 0:
            check(rc, self._rec._h)
        if c[0] == 0:
            return None
        return tuple(c[i] for i in range(rc if rc > 0 else self.ndim))

    @property
    def attrs(self):
        """The dataset's attributes (dict-like)."""
        return Attributes(self._rec, self.key)

    def describe(self):
        """Store-specific facts (compressor, stored bytes...) as a dict."""
        p = ctypes.c_void_p()
        check(lib.simrec_dataset_describe(self._handle(), ctypes.byref(p)),
              self._rec._h)
        try:
            return json.loads(ctypes.string_at(p.value).decode())
        finally:
            _lib.free(p)

    # ---- lifetime -------------------------------------------------------
    def _handle(self):
        if self._h is None:
            raise ValueError("dataset %r is closed" % self.key)
        return self._h

    def close(self):
        if self._h is not None:
            lib.simrec_dataset_close(self._h)
            self._h = None
            self._rec._datasets.discard(self)


    # ---- reading --------------------------------------------------------
    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d dataset")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d dataset")
        for i in range(self.shape[0]):
            yield self[i]

    def __array__(self, dtype=None):
        a = self.read()
        return a if dtype is None else a.astype(dtype, copy=False)

    def read(self):
        """The whole dataset as a numpy array (object array for bytes/str)."""
        if self.is_bytes:
            a = np.empty(self.shape, dtype=object)
            if self.ndim == 0:
                a[()] = self._item(0)
            else:
                for i in range(self.shape[0]):
                    a[i] = self._item(i)
            return a
        return self._read_box([0] * self.ndim, list(self.shape))

    def __repr__(self):
        name = {_lib.BYTES: "bytes", _lib.STRING: "str"}.get(
            self._dt, str(self.dtype))
        state = "" if self._h is not None else " (closed)"
        return "<simrec.Dataset %r shape %s %s%s>" % (
            self.key, self.shape, name, state)

    def _read_box(self, start, count):
        out = _empty(tuple(count), self.dtype)
        if out.size == 0:
            return out
        nd = len(start)
        st = (ctypes.c_size_t * max(nd, 1))(*start)
        ct = (ctypes.c_size_t * max(nd, 1))(*count)
        check(lib.simrec_dataset_read(self._handle(), st, ct,
                                      out.ctypes.data, out.nbytes),
              self._rec._h)
        return out

    def _item(self, index):
        h = self._handle()
        n = ctypes.c_size_t()
        cap = 4096
        while True:
            buf = ctypes.create_string_buffer(cap)
            rc = lib.simrec_dataset_read_bytes(h, index, buf, cap,
                                               ctypes.byref(n))
            if rc == 0:
                break
            if rc == -20 and n.value >= cap:  # SIMREC_ETRUNC: grow, retry
                cap = n.value + 1
                continue
            check(rc, self._rec._h)
        raw = buf.raw[:n.value]
        return raw.decode() if self._dt == _lib.STRING else raw

    def __getitem__(self, key):
        dims, local, _, pos = _selection(key, self.shape)
        if self.is_bytes:
            return self._getitem_bytes(dims, local, pos)
        if any(c == 0 for _, c, _ in dims):
            box = np.empty(tuple(c for _, c, _ in dims), dtype=self.dtype)
            return box[tuple(local)]
        # a stepped dimension whose bounding box is much larger than what is
        # selected: read one hyperslab per selected index of it
        split = None
        for d, (s, c, idx) in enumerate(dims):
            if idx is not None and len(idx) * 2 < c:
                split = d
                break
        start = [s for s, _, _ in dims]
        count = [c for _, c, _ in dims]
        if split is None:
            box = self._read_box(start, count)
        else:
            parts = []
            for i in dims[split][2]:
                start[split], count[split] = i, 1
                parts.append(self._read_box(start, count))
            box = np.concatenate(parts, axis=split)
            local[pos[split]] = slice(None)
        return box[tuple(local)]

    def _getitem_bytes(self, dims, local, pos):
        if self.ndim == 0:
            return self._item(0)
        s, c, idx = dims[0]
        rows = idx if idx is not None else range(s, s + c)
        items = [self._item(i) for i in rows]
        sel = local[pos[0]]
        if isinstance(sel, int):
            return items[sel]
        if idx is not None:
            return items
        return items[sel]


def _expand(key, ndim):
    """key as a tuple of ndim index items plus None/Ellipsis markers."""
    if not isinstance(key, tuple):
        key = (key,)
    n_ell = sum(1 for k in key if k is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if n_real > ndim:
        raise IndexError("too many indices: dataset is %d-dimensional, "
                         "but %d were indexed" % (ndim, n_real))
    return key, n_ell, n_real


def _selection(key, shape):
    """Per dimension (start, count, indices-or-None) of the bounding box to
    read, and the index that turns the box into numpy's result."""
    ndim = len(shape)
    key, n_ell, n_real = _expand(key, ndim)
    items = []
    for k in key:
        if k is Ellipsis:
            items.extend([slice(None)] * (ndim - n_real))
            items.append(Ellipsis)
        else:
            items.append(k)
    if not n_ell:
        items.extend([slice(None)] * (ndim - n_real))
    dims, local, out_shape, pos = [], [], [], []
    d = 0
    for k in items:
        if k is None or k is Ellipsis:
            local.append(k)
            if k is None:
                out_shape.append(1)
            continue
        n = shape[d]
        pos.append(len(local))
        if isinstance(k, slice):
            start, stop, step = k.indices(n)
            r = range(start, stop, step)
            L = len(r)
            out_shape.append(L)
            if L == 0:
                dims.append((0, 0, None))
                local.append(slice(0, 0))
            elif step > 0:
                c = r[-1] - r[0] + 1
                dims.append((r[0], c, r if step > 1 else None))
                local.append(slice(0, c, step))
            else:
                lo = r[-1]
                c = r[0] - lo + 1
                dims.append((lo, c, r))
                local.append(slice(c - 1, None, step))
        else:
            if isinstance(k, (bool, np.bool_)):
                raise IndexError("boolean indices are not supported")
            try:
                i = operator.index(k)
            except TypeError:
                raise IndexError(
                    "only integers, slices, '...' and None are valid "
                    "indices, not %s" % type(k).__name__) from None
            if i < -n or i >= n:
                raise IndexError("index %d is out of bounds for axis %d "
                                 "with size %d" % (i, d, n))
            if i < 0:
                i += n
            dims.append((i, 1, None))
            local.append(0)
        d += 1
    return dims, local, tuple(out_shape), pos


class JoinedDataset(Closing):
    """The steps of a joined array (``Recorder.get_all`` of a key recorded
    with ``record_joined``): ``len(js)`` steps; ``js[s]`` is step s's rows
    (every rank's, in rank order) as one numpy array of shape
    ``(rows in step s, *row_shape)``; ``js[a:b]`` a list of such arrays.

    Stored as a contiguous ragged array (docs/format.md): ``js.rows`` is
    the lazy Dataset of every step's rows one after the other,
    ``js.counts`` the row count of each step (int64). The number of steps
    is taken when the handle is made.
    """

    def __init__(self, recorder, key, rows, counts):
        self._rec = recorder
        self.key = key
        self.rows = rows
        self._counts = counts
        self.dtype = rows.dtype
        self.row_shape = rows.shape[1:]

    @property
    def counts(self):
        return np.asarray(self._counts)

    def __len__(self):
        return self._counts.shape[0]

    def __iter__(self):
        for s in range(len(self)):
            yield self._step(s)

    def __getitem__(self, s):
        if isinstance(s, slice):
            return [self._step(i) for i in range(*s.indices(len(self)))]
        if isinstance(s, (bool, np.bool_)):
            raise IndexError("boolean indices are not supported")
        try:
            i = operator.index(s)
        except TypeError:
            raise IndexError("a joined array's steps take an int or a "
                             "slice, not %s" % type(s).__name__) from None
        n = len(self)
        if i < -n or i >= n:
            raise IndexError("step %d is out of bounds for %d steps" % (i, n))
        return self._step(i + n if i < 0 else i)

    def _step(self, s):
        h = self._rec._handle()
        k = self.key.encode()
        row0, nrows = ctypes.c_size_t(), ctypes.c_size_t()
        check(lib.simrec_joined_step(h, k, s, ctypes.byref(row0),
                                     ctypes.byref(nrows)), h)
        out = np.empty((nrows.value,) + self.row_shape, dtype=self.dtype)
        if out.size:
            check(lib.simrec_joined_read(h, k, s, out.ctypes.data, out.nbytes,
                                         ctypes.byref(nrows)), h)
        return out

    def close(self):
        self.rows.close()
        self._counts.close()

    def __repr__(self):
        return "<simrec.JoinedDataset %r: %d steps of rows %s %s%s>" % (
            self.key, len(self), self.row_shape, self.dtype,
            "" if self.rows._h is not None else " (closed)")
