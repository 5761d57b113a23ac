"""simrec.Error and one subclass per SIMREC_E* status code.

Each class also derives from the closest Python built-in exception, so that
``except KeyError`` catches a missing key and ``except OSError`` an I/O
error. ``err.code`` is the C status, ``err.name`` its symbolic name
("SIMREC_ENOKEY") and ``str(err)`` the library's message naming the key,
file or rank.
"""
import ctypes

from ._lib import lib


def masked(text):
    """text (URIs, messages) with every secret replaced by ***: the one
    rule of the C library (simrec_uri_masked), for every URI and every
    exception message the package shows."""
    raw = str(text).encode(errors="replace")
    out = ctypes.create_string_buffer(len(raw) + 64)
    lib.simrec_uri_masked(raw, out, len(out))
    return out.value.decode(errors="replace")


class Error(Exception):
    """Base of every error raised by the simrec library."""
    code = None
    name = "SIMREC_EUNKNOWN"

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


# (C name, Python class name, extra built-in base)
_TABLE = (
    ("EINVAL", "InvalidArgumentError", ValueError),
    ("ENOMEM", "OutOfMemoryError", MemoryError),
    ("EURI", "URIError", ValueError),
    ("ENOKEY", "NoKeyError", KeyError),
    ("EDTYPE", "DtypeError", TypeError),
    ("ESHAPE", "ShapeError", ValueError),
    ("ERANGE", "RangeError", IndexError),
    ("EREADONLY", "ReadOnlyError", PermissionError),
    ("EIO", "StoreIOError", OSError),
    ("EFORMAT", "FormatError", ValueError),
    ("ECODEC", "CodecError", ValueError),
    ("ENOTSUP", "NotSupportedError", NotImplementedError),
    ("ECONFIG", "ConfigError", ValueError),
    ("EMPI", "MPIError", RuntimeError),
    ("ECONN", "ServerConnectionError", ConnectionError),
    ("ESERVER", "ServerError", RuntimeError),
    ("ETIMEDOUT", "TimedOutError", TimeoutError),
    ("ELOCK", "LockLostError", RuntimeError),
    ("EKIND", "KindError", TypeError),
    ("ETRUNC", "TruncatedError", ValueError),
    ("EREMOTE", "RemoteError", RuntimeError),
    ("EFINISHED", "FinishedError", EOFError),
)

#: status code -> exception class
BY_CODE = {}
__all__ = ["Error", "BY_CODE", "error_for"]

for _i, (_cname, _pyname, _builtin) in enumerate(_TABLE):
    _code = -(_i + 1)
    assert lib.simrec_err_name(_code).decode() == "SIMREC_" + _cname
    _cls = type(_pyname, (Error, _builtin), {
        "code": _code,
        "name": "SIMREC_" + _cname,
        "__doc__": "SIMREC_%s: %s." % (
            _cname, lib.simrec_strerror(_code).decode()),
        "__str__": Error.__str__,
        "__module__": __name__,
    })
    globals()[_pyname] = _cls
    BY_CODE[_code] = _cls
    __all__.append(_pyname)


def error_for(code, detail):
    """The exception for status code with the library's detail text."""
    cls = BY_CODE.get(code, Error)
    text = lib.simrec_strerror(code).decode()
    msg = masked("%s: %s" % (text, detail) if detail and detail != text
                 else text)
    err = cls(msg)
    if cls is Error:
        err.code = code
        err.name = lib.simrec_err_name(code).decode()
    return err
