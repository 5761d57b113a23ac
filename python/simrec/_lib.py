"""Loading libsimrec and declaring its C functions (ctypes, no compiler).

The library is looked up, in order, at:
  1. the path in the environment variable SIMREC_LIBRARY (the build tree's
     tests set it);
  2. the path recorded by ``cmake --install`` in ``_config.py``, beside this
     file, relative to the package first, then as installed;
  3. the system's search path (``ctypes.util.find_library("simrec")``).
"""
import ctypes
import ctypes.util
import os

c_size_t_p = ctypes.POINTER(ctypes.c_size_t)

MAX_NDIM = 16

# enum simrec_dtype, in order
DTYPE_NAMES = ("int8", "int16", "int32", "int64", "uint8", "uint16",
               "uint32", "uint64", "float32", "float64", "bool")
BYTES = 11
STRING = 12
# after STRING: simrec_dtype_t values 13, 14, 15
DTYPE_NAMES_MORE = ("float16", "complex64", "complex128")

(ATTR_INT, ATTR_DOUBLE, ATTR_STRING, ATTR_UINT, ATTR_BOOL, ATTR_ARRAY,
 ATTR_EMPTY, ATTR_STRINGS) = range(8)
LOCK_READ, LOCK_WRITE = 0, 1


class Options(ctypes.Structure):
    """struct simrec_options (include/simrec.h)."""
    _fields_ = [
        ("mode", ctypes.c_int),
        ("chunk_bytes", ctypes.c_size_t),
        ("codec", ctypes.c_char_p),
        ("level", ctypes.c_int),
        ("shuffle", ctypes.c_int),
        ("nthreads", ctypes.c_int),
        ("ranks_per_writer", ctypes.c_int),
        ("writers", ctypes.c_int),
        ("io_summary", ctypes.c_int),
        ("zero_copy", ctypes.c_int),
    ]


class Attr(ctypes.Structure):
    """struct simrec_attr."""
    _fields_ = [
        ("type", ctypes.c_int),
        ("i", ctypes.c_int64),
        ("d", ctypes.c_double),
        ("s", ctypes.c_char_p),
        ("u", ctypes.c_uint64),
        ("dtype", ctypes.c_int),
        ("count", ctypes.c_size_t),
        ("data", ctypes.c_void_p),
    ]


def c_strings(values):
    """A char ** of the UTF-8 texts of values (kept alive by the array)."""
    arr = (ctypes.c_char_p * len(values))()
    arr[:] = [v.encode() for v in values]
    return arr


def strings_of(a):
    """The list of an ATTR_STRINGS attribute: a.count NUL-ended texts."""
    p = ctypes.c_void_p.from_buffer(a, Attr.s.offset).value
    out = []
    for _ in range(a.count):
        b = ctypes.string_at(p)
        out.append(b.decode())
        p += len(b) + 1
    return out


class LockStatus(ctypes.Structure):
    """struct simrec_lock_status."""
    _fields_ = [
        ("readers", ctypes.c_int),
        ("writer", ctypes.c_int),
        ("waiting_writers", ctypes.c_int),
        ("token", ctypes.c_uint64),
        ("writer_id", ctypes.c_char * 128),
        ("writer_lease", ctypes.c_double),
        ("writer_since", ctypes.c_double),
    ]


def _check_layouts():
    """ctypes mirrors of C structs must have the C sizes (a mismatch lets
    the library write past a Python buffer)."""
    for name, cls in (("lock_status", LockStatus), ("attr", Attr),
                      ("options", Options)):
        size = lib.simrec_struct_size(name.encode())
        if size != ctypes.sizeof(cls):
            raise ImportError("simrec: struct simrec_%s is %d bytes in the "
                              "library, %d in this package: mismatched "
                              "versions" % (name, size, ctypes.sizeof(cls)))


LIST_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                           ctypes.c_void_p)
ATTR_LIST_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p,
                                ctypes.c_void_p)


def _candidates():
    env = os.environ.get("SIMREC_LIBRARY")
    if env:
        yield env
        return
    try:
        from . import _config
    except ImportError:
        _config = None
    if _config is not None:
        here = os.path.dirname(os.path.abspath(__file__))
        yield os.path.normpath(os.path.join(here, _config.LIBRARY_RELATIVE))
        yield _config.LIBRARY
    found = ctypes.util.find_library("simrec")
    if found:
        yield found
    yield "libsimrec.so.0"


def _load():
    tried = []
    for path in _candidates():
        if os.path.isabs(path) and not os.path.exists(path):
            tried.append(path + " (missing)")
            continue
        try:
            # RTLD_GLOBAL: Open MPI's plugins resolve MPI symbols globally
            return ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("simrec: cannot load libsimrec; tried: "
                      + "; ".join(tried)
                      + ". Set SIMREC_LIBRARY to the library's path.")


lib = _load()

_I = ctypes.c_int
_P = ctypes.c_void_p
_S = ctypes.c_char_p
_Z = ctypes.c_size_t


def _decl(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


_decl("simrec_strerror", _S, _I)
_decl("simrec_err_name", _S, _I)
_decl("simrec_options_init", None, ctypes.POINTER(Options))
_decl("simrec_open", _I, ctypes.POINTER(_P), _S, ctypes.POINTER(Options))
_decl("simrec_close", _I, _P)
_decl("simrec_abandon", _I, _P)
_decl("simrec_flush", _I, _P)
_decl("simrec_wait", _I, _P)
_decl("simrec_errmsg", _S, _P)
_decl("simrec_record", _I, _P, _S, _I, _I, c_size_t_p, _P)
_decl("simrec_record_bytes", _I, _P, _S, _I, _P, _Z)
_decl("simrec_record_all", _I, _P, _S, _I, _I, c_size_t_p, _P)
_decl("simrec_record_global", _I, _P, _S, _I, _I, c_size_t_p, c_size_t_p,
      c_size_t_p, _P)
_decl("simrec_global_fill", _I, _P, _S, _I, _P)
_decl("simrec_record_joined", _I, _P, _S, _I, _I, c_size_t_p, _P)
_decl("simrec_joined_step", _I, _P, _S, _Z, c_size_t_p, c_size_t_p)
_decl("simrec_joined_read", _I, _P, _S, _Z, _P, _Z, c_size_t_p)
_decl("simrec_set", _I, _P, _S, _I, _I, c_size_t_p, _P)
_decl("simrec_set_bytes", _I, _P, _S, _I, _P, _Z)
_decl("simrec_define", _I, _P, _S, _I, _I, c_size_t_p)
_decl("simrec_attr_set_double", _I, _P, _S, _S, ctypes.c_double)
_decl("simrec_attr_set_int", _I, _P, _S, _S, ctypes.c_int64)
_decl("simrec_attr_set_string", _I, _P, _S, _S, _S)
_decl("simrec_uri_masked", ctypes.c_char_p, _S, ctypes.c_char_p, ctypes.c_size_t)
_decl("simrec_attr_set_uint", _I, _P, _S, _S, ctypes.c_uint64)
_decl("simrec_attr_set_bool", _I, _P, _S, _S, ctypes.c_int)
_decl("simrec_attr_set_array", _I, _P, _S, _S, ctypes.c_int, ctypes.c_size_t,
      ctypes.c_void_p)
_decl("simrec_attr_set_strings", _I, _P, _S, _S, ctypes.c_size_t,
      ctypes.POINTER(ctypes.c_char_p))
_decl("simrec_dims", _I, _P, _S, _I, ctypes.POINTER(ctypes.c_char_p))
_decl("simrec_attr_get", _I, _P, _S, _S, ctypes.POINTER(Attr))
_decl("simrec_attr_clear", None, ctypes.POINTER(Attr))
_decl("simrec_attr_list", _I, _P, _S, ATTR_LIST_FN, _P)
_decl("simrec_list", _I, _P, _S, LIST_FN, _P)
_decl("simrec_get_all", _I, _P, _S, ctypes.POINTER(_P))
_decl("simrec_get", _I, _P, _S, ctypes.POINTER(_P))
_decl("simrec_dataset_dtype", _I, _P)
_decl("simrec_dataset_ndim", _I, _P)
_decl("simrec_dataset_shape", None, _P, c_size_t_p)
_decl("simrec_dataset_chunks", _I, _P, c_size_t_p)
_decl("simrec_dataset_read", _I, _P, c_size_t_p, c_size_t_p, _P, _Z)
_decl("simrec_dataset_read_bytes", _I, _P, _Z, _P, _Z, c_size_t_p)
_decl("simrec_dataset_describe", _I, _P, ctypes.POINTER(_P))
_decl("simrec_dataset_close", None, _P)
_decl("simrec_disk_bytes", ctypes.c_longlong, _P)
_decl("simrec_follow", _I, _P, _S, _Z, ctypes.c_double, c_size_t_p)
_decl("simrec_lock_open", _I, ctypes.POINTER(_P), _S, _S, ctypes.c_double)
_decl("simrec_lock_acquire", _I, _P, _I, ctypes.c_double,
      ctypes.POINTER(ctypes.c_uint64))
_decl("simrec_lock_release", _I, _P)
_decl("simrec_lock_check", _I, _P)
_decl("simrec_lock_status", _I, _P, ctypes.POINTER(LockStatus))
_decl("simrec_lock_break", _I, _P)
_decl("simrec_lock_errmsg", _S, _P)
_decl("simrec_lock_close", None, _P)

_decl("simrec_struct_size", ctypes.c_size_t, _S)
_check_layouts()

# The C library's free(), for the JSON text of simrec_dataset_describe.
_libc = ctypes.CDLL(ctypes.util.find_library("c"))
_libc.free.restype = None
_libc.free.argtypes = [_P]
free = _libc.free
