"""Arguments of the collective calls (record_global, record_joined), checked
on every rank alike.

A rank that raised on its own before entering a collective C call would
leave the other ranks waiting in it forever. So each rank checks its own
arguments, the ranks exchange what they found (one allgather over the
recorder's communicator), and either every rank goes on to the C call or
every rank raises the same error, naming the ranks at fault."""
from . import errors
from ._util import as_record_array


def _index_tuple(values, what, key, ndim):
    """values as a tuple of ndim non-negative ints, or raise ValueError."""
    try:
        out = tuple(int(v) for v in values)
    except TypeError:
        raise ValueError("key %r: %s must be a sequence of ints, not %r"
                         % (key, what, values)) from None
    if len(out) != ndim:
        raise ValueError("key %r: %s %r has %d entries for a %d-dimensional "
                         "block" % (key, what, out, len(out), ndim))
    if any(v < 0 for v in out):
        raise ValueError("key %r: %s %r holds a negative index"
                         % (key, what, out))
    return out


def global_args(key, block, start, global_shape):
    """(dtype code, block array, start, global_shape) of one rank's block;
    start defaults to the origin and global_shape to the block's shape
    (a serial recorder's whole array)."""
    dt, arr = as_record_array(block, key)
    if arr.ndim == 0:
        raise ValueError("key %r: a global array's block needs at least "
                         "one dimension" % (key,))
    start = (0,) * arr.ndim if start is None else start
    global_shape = arr.shape if global_shape is None else global_shape
    return (dt, arr, _index_tuple(start, "start", key, arr.ndim),
            _index_tuple(global_shape, "global_shape", key, arr.ndim))


def joined_args(key, rows):
    """(dtype code, rows array): rows of one row shape, shape[0] rows."""
    dt, arr = as_record_array(rows, key)
    if arr.ndim == 0:
        raise ValueError("key %r: joined rows need at least one dimension "
                         "(the rows)" % (key,))
    return dt, arr


def agreed(comm, prepare, *args):
    """prepare(*args) on this rank; under comm, every rank learns whether
    any rank's arguments failed, and then all raise the same error."""
    if comm is None:
        return prepare(*args)  # its TypeError / ValueError as they are
    try:
        out, failure = prepare(*args), None
    except (TypeError, ValueError) as e:
        out, failure = None, "%s: %s" % (type(e).__name__, e)
    failures = comm.allgather(failure)
    bad = [(r, f) for r, f in enumerate(failures) if f is not None]
    if bad:
        raise errors.InvalidArgumentError(
            "invalid argument on %d rank(s): %s" % (
                len(bad), "; ".join("rank %d: %s" % rf for rf in bad)))
    return out
