"""Attributes of a key, as a dict-like object."""
import ctypes
import numbers

import numpy as np

from . import _lib
from ._util import DT_TO_NP, NP_TO_DT, check, decode_name, encode
from .errors import NoKeyError

lib = _lib.lib


class Attributes:
    """Dict-like attributes of one key ("" is the root group).

    Values are bool, int (int64, or uint64 above 2**63 - 1), float, str,
    or 1-d numeric numpy arrays and lists, as the C API has them; numpy
    scalars are converted. Reading gives back the same kinds (arrays as
    numpy arrays, an empty attribute as None). Attributes cannot be deleted
    (the C API has no call for it).
    """

    def __init__(self, recorder, key):
        self._rec = recorder
        self._key = key
        self._k = encode(key)

    def __setitem__(self, name, value):
        h = self._rec._handle()
        n = encode(name, "attribute name")
        if isinstance(value, str):
            rc = lib.simrec_attr_set_string(h, self._k, n, value.encode())
        elif isinstance(value, (bool, np.bool_)):
            rc = lib.simrec_attr_set_bool(h, self._k, n, int(bool(value)))
        elif isinstance(value, numbers.Integral):
            v = int(value)
            if (1 << 63) <= v < (1 << 64):
                rc = lib.simrec_attr_set_uint(h, self._k, n, v)
            elif -(1 << 63) <= v < (1 << 63):
                rc = lib.simrec_attr_set_int(h, self._k, n, v)
            else:
                raise OverflowError("attribute %r: %d does not fit in 64 "
                                    "bits" % (name, v))
        elif (isinstance(value, (list, tuple)) and value and
              all(isinstance(v, str) for v in value)):
            rc = lib.simrec_attr_set_strings(h, self._k, n, len(value),
                                             _lib.c_strings(value))
        elif isinstance(value, (list, tuple, np.ndarray)):
            arr = np.ascontiguousarray(np.asarray(value))
            if arr.ndim != 1 or arr.dtype.newbyteorder("=") not in NP_TO_DT:
                raise TypeError("attribute %r: a 1-d numeric array, not %s "
                                "of %s" % (name, arr.shape, arr.dtype))
            arr = arr.astype(arr.dtype.newbyteorder("="), copy=False)
            rc = lib.simrec_attr_set_array(h, self._k, n, NP_TO_DT[arr.dtype],
                                           arr.size, arr.ctypes.data)
        elif isinstance(value, numbers.Real):
            rc = lib.simrec_attr_set_double(h, self._k, n, float(value))
        else:
            raise TypeError("attribute %r: int, float or str, not %s"
                            % (name, type(value).__name__))
        check(rc, h)

    def __getitem__(self, name):
        h = self._rec._handle()
        a = _lib.Attr()
        check(lib.simrec_attr_get(h, self._k, encode(name, "attribute name"),
                                  ctypes.byref(a)), h)
        try:
            if a.type == _lib.ATTR_INT:
                return int(a.i)
            if a.type == _lib.ATTR_DOUBLE:
                return float(a.d)
            if a.type == _lib.ATTR_UINT:
                return int(a.u)
            if a.type == _lib.ATTR_BOOL:
                return bool(a.i)
            if a.type == _lib.ATTR_EMPTY:
                return None
            if a.type == _lib.ATTR_STRINGS:
                return _lib.strings_of(a)
            if a.type == _lib.ATTR_ARRAY:
                dt = DT_TO_NP[a.dtype]
                if not a.count:
                    return np.zeros(0, dt)
                raw = ctypes.string_at(a.data, a.count * dt.itemsize)
                return np.frombuffer(raw, dt).copy()
            return (a.s or b"").decode()
        finally:
            lib.simrec_attr_clear(ctypes.byref(a))

    def get(self, name, default=None):
        try:
            return self[name]
        except NoKeyError:
            return default

    def __contains__(self, name):
        return name in self.keys()

    def keys(self):
        h = self._rec._handle()
        names = []

        def fn(name, arg):
            names.append(decode_name(name))
            return 0

        cb = _lib.ATTR_LIST_FN(fn)
        check(lib.simrec_attr_list(h, self._k, cb, None), h)
        return names

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def items(self):
        return [(k, self[k]) for k in self.keys()]

    def values(self):
        return [self[k] for k in self.keys()]

    def update(self, other=(), **kw):
        for k, v in dict(other, **kw).items():
            self[k] = v

    def __repr__(self):
        return "<simrec attributes of %r: %r>" % (self._key, dict(self.items()))
