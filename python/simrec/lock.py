"""The readers-writer lock held in redis (docs/lock.md)."""
import ctypes
import math

from . import _lib
from ._util import Closing, encode
from .errors import error_for, masked

lib = _lib.lib

_MODES = {"read": _lib.LOCK_READ, "r": _lib.LOCK_READ,
          "write": _lib.LOCK_WRITE, "w": _lib.LOCK_WRITE}

MAX_LEASE = 1e6  # seconds, as the C library


def _seconds(value, what, upper=None):
    """A finite, non-negative number of seconds (at most upper)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError("%s: a number of seconds, not %r" % (what, value))
    if not math.isfinite(v) or v < 0 or (upper is not None and v > upper):
        raise ValueError("%s: %r seconds; it must be finite, >= 0%s"
                         % (what, value, "" if upper is None
                            else " and <= %g" % upper))
    return v


def _resource(resource):
    if not isinstance(resource, (str, bytes)) or not resource:
        raise ValueError("lock resource: a non-empty name, not %r"
                         % (resource,))
    return resource


class Lock(Closing):
    """A lock client for one resource (usually a store path).

    ``Lock(redis_uri, resource, lease=0)``: redis_uri is
    "redis://host:port[/db]" (host from SIMREC_REDIS_HOST if empty);
    lease is how long a dead holder keeps the lock (0: 5 s; at most 1e6 s).
    ValueError for an empty resource or a lease that is negative, not
    finite or above 1e6 s.
    """

    def __init__(self, redis_uri, resource, lease=0.0):
        self._h = None
        resource = _resource(resource)
        lease = _seconds(lease, "lock lease", MAX_LEASE)
        h = ctypes.c_void_p()
        rc = lib.simrec_lock_open(ctypes.byref(h), encode(redis_uri, "URI"),
                                  encode(resource, "resource"), float(lease))
        if rc:
            raise error_for(rc, "lock on %r at %s" % (resource,
                                                     masked(redis_uri)))
        self._h = h
        self.resource = resource
        self.token = None

    def _handle(self):
        if self._h is None:
            raise ValueError("lock on %r is closed" % self.resource)
        return self._h

    def _check(self, rc):
        if rc:
            msg = lib.simrec_lock_errmsg(self._h)
            raise error_for(rc, msg.decode(errors="replace") if msg else "")

    def acquire(self, mode="read", timeout=30.0):
        """Acquire shared ("read") or exclusive ("write") within timeout
        seconds (TimedOutError after). Returns the fencing token for write,
        None for read. ValueError for a negative or non-finite timeout."""
        m = _MODES.get(mode)
        if m is None:
            raise ValueError("lock mode 'read' or 'write', not %r" % (mode,))
        timeout = _seconds(timeout, "lock timeout")
        tok = ctypes.c_uint64()
        self._check(lib.simrec_lock_acquire(self._handle(), m, float(timeout),
                                            ctypes.byref(tok)))
        self.token = tok.value if m == _lib.LOCK_WRITE else None
        return self.token

    def release(self):
        """Release; LockLostError if the lease had run out meanwhile."""
        self._check(lib.simrec_lock_release(self._handle()))

    def check(self):
        """LockLostError if this client's lease was lost while holding."""
        self._check(lib.simrec_lock_check(self._handle()))

    def status(self):
        st = _lib.LockStatus()
        self._check(lib.simrec_lock_status(self._handle(), ctypes.byref(st)))
        return {"readers": st.readers, "writer": bool(st.writer),
                "waiting_writers": st.waiting_writers, "token": st.token,
                "writer_id": st.writer_id.decode(errors="replace"),
                "writer_lease": st.writer_lease,
                "writer_since": st.writer_since}

    def break_lock(self):
        """Clear every holder and waiter of the resource (manual recovery)."""
        self._check(lib.simrec_lock_break(self._handle()))

    def close(self):
        """Release what is held and disconnect."""
        if self._h is not None:
            lib.simrec_lock_close(self._h)
            self._h = None



class lock:
    """Hold the lock on resource for the ``with`` block::

        with simrec.lock("redis://host:6379", "/scratch/run.zarr") as lk:
            ...  # read the store; the writer waits
        with simrec.lock(uri, path, "write") as lk:
            print(lk.token)  # the fencing token

    The lock is released when the block ends, also on an exception. The
    object may be used for several ``with`` blocks one after the other
    (each connects, acquires, releases and disconnects), not nested.
    Arguments are checked at once (ValueError), as in Lock.
    """

    def __init__(self, redis_uri, resource, mode="read", timeout=30.0,
                 lease=0.0):
        if mode not in _MODES:
            raise ValueError("lock mode 'read' or 'write', not %r" % (mode,))
        self._args = (redis_uri, _resource(resource),
                      _seconds(lease, "lock lease", MAX_LEASE))
        self._mode = mode
        self._timeout = _seconds(timeout, "lock timeout")
        self._lk = None

    def __enter__(self):
        if self._lk is not None:
            raise RuntimeError("lock on %r: this lock() is already held; "
                               "it cannot be entered again inside its own "
                               "with block" % (self._args[1],))
        lk = Lock(*self._args)
        try:
            lk.acquire(self._mode, self._timeout)
        except BaseException:
            lk.close()
            raise
        self._lk = lk
        return lk

    def __exit__(self, *exc):
        lk, self._lk = self._lk, None
        try:
            lk.release()
        finally:
            lk.close()
