"""Attributes of a key, as a dict-like object."""
import ctypes
import numbers

import numpy as np

from . import _lib
from ._util import check, encode
from .errors import NoKeyError

lib = _lib.lib


class Attributes:
    """Dict-like attributes of one key ("" is the root group).

    Values are int (stored as int64), float (double) or str, as the C API
    has them; numpy scalars of those kinds are converted, bool is stored as
    int. Reading gives back int, float or str. Attributes cannot be deleted
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
        elif isinstance(value, (numbers.Integral, np.bool_)):
            v = int(value)
            if not -(1 << 63) <= v < (1 << 63):
                raise OverflowError("attribute %r: %d does not fit in int64"
                                    % (name, v))
            rc = lib.simrec_attr_set_int(h, self._k, n, v)
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
            names.append(name.decode())
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
