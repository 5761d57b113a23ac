"""Conversions between Python/numpy values and the C API's arguments."""
import ctypes
import numbers

import numpy as np

from . import _lib
from . import errors
from .errors import error_for, masked  # noqa: F401 (masked: re-export)

#: numpy dtype -> simrec_dtype_t
NP_TO_DT = {np.dtype(n): i for i, n in enumerate(_lib.DTYPE_NAMES)}
#: simrec_dtype_t -> numpy dtype (bytes/string datasets hold Python objects)
DT_TO_NP = {i: np.dtype(n) for i, n in enumerate(_lib.DTYPE_NAMES)}
DT_TO_NP[_lib.BYTES] = np.dtype(object)
DT_TO_NP[_lib.STRING] = np.dtype(object)
for _i, _n in enumerate(_lib.DTYPE_NAMES_MORE, _lib.STRING + 1):
    NP_TO_DT[np.dtype(_n)] = _i
    DT_TO_NP[_i] = np.dtype(_n)


def decode_name(raw):
    """A key or attribute name from a store: UTF-8, and bytes that are not
    UTF-8 kept as lone surrogates (as os.fsdecode does), so a name is never
    dropped and encode() gives the same bytes back."""
    return raw.decode("utf-8", "surrogateescape")


def encode(text, what="key"):
    """text as the C API takes it: UTF-8 without NUL (C would cut it); the
    surrogates of decode_name() go back to their bytes."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogateescape")
    elif not isinstance(text, bytes):
        raise TypeError("%s must be str, not %s" % (what, type(text).__name__))
    if b"\0" in text:
        raise ValueError("%s %r holds a NUL character" % (what, text))
    return text


def check(rc, rec_handle):
    """Raise the simrec.Error subclass for a nonzero status."""
    if rc:
        detail = _lib.lib.simrec_errmsg(rec_handle)
        raise error_for(rc, detail.decode(errors="replace") if detail else "")


def as_record_array(value, key):
    """A C-contiguous, native-order numpy array of a supported dtype.

    Python scalars become 0-d arrays: bool -> bool, int -> int64,
    float -> float64. Anything numpy would hold as objects is refused:
    simrec stores no pickles (record bytes or str instead)."""
    if isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, bool):
        arr = np.array(value, dtype=np.bool_)
    elif isinstance(value, numbers.Integral) and not isinstance(value, np.generic):
        if not -2**63 <= value < 2**63:
            raise errors.InvalidArgumentError(
                "invalid argument: key %r: the integer %d does not fit in "
                "int64 (record a numpy uint64 value or a float)"
                % (key, value))
        arr = np.array(value, dtype=np.int64)
    elif isinstance(value, float):
        arr = np.array(value, dtype=np.float64)
    else:
        arr = np.asarray(value)
    dt = NP_TO_DT.get(arr.dtype)
    if dt is None:
        native = arr.dtype.newbyteorder("=")
        dt = NP_TO_DT.get(native)
        if dt is None:
            raise TypeError(
                "key %r: dtype %s is not supported (simrec stores int8..int64,"
                " uint8..uint64, float16, float32, float64, complex64, complex128"
                " and bool arrays, and bytes or"
                " str records; it stores no pickled objects)" % (key, arr.dtype))
        arr = arr.astype(native)
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    if arr.ndim >= _lib.MAX_NDIM:
        raise ValueError("key %r: %d dimensions, at most %d per record"
                         % (key, arr.ndim, _lib.MAX_NDIM - 1))
    return dt, arr


def shape_arg(shape):
    return (ctypes.c_size_t * max(len(shape), 1))(*shape)


def data_ptr(arr):
    return arr.__array_interface__["data"][0]


class Closing:
    """``with`` closes; a forgotten object closes when collected."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
