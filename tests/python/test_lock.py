"""simrec.lock against the redis fixture's server (ctest sets
SIMREC_REDIS_HOST)."""
import os
import uuid

import pytest

import simrec

pytestmark = pytest.mark.skipif(not os.environ.get("SIMREC_REDIS_HOST"),
                                reason="needs the redis fixture")


def resource():
    return "/py-lock-test/%s" % uuid.uuid4().hex


def test_read_and_write_sections():
    r = resource()
    with simrec.lock("redis://", r) as rd:
        assert rd.token is None
        st = rd.status()
        assert st["readers"] == 1 and not st["writer"]
        # a second reader shares; a writer cannot enter meanwhile
        with simrec.lock("redis://", r, "read") as rd2:
            assert rd2.status()["readers"] == 2
        with pytest.raises(simrec.TimedOutError) as ei:
            with simrec.lock("redis://", r, "write", timeout=0.2):
                pass
        assert ei.value.code == -17
    with simrec.lock("redis://", r, "write") as w1:
        t1 = w1.token
        assert w1.status()["writer"]
    with simrec.lock("redis://", r, "write") as w2:
        assert w2.token > t1
    with simrec.Lock("redis://", r) as lk:
        st = lk.status()
        assert st["readers"] == 0 and not st["writer"] and st["token"] >= 2


def test_released_on_exception():
    r = resource()
    with pytest.raises(RuntimeError):
        with simrec.lock("redis://", r, "write"):
            raise RuntimeError("reader failed")
    with simrec.lock("redis://", r, "write", timeout=1):
        pass


def test_bad_arguments():
    with pytest.raises(ValueError):
        with simrec.lock("redis://", resource(), "exclusive"):
            pass
    with pytest.raises(simrec.Error):
        simrec.Lock("http://nowhere", resource())


def test_lock_object_reused():
    """One simrec.lock(...) serves several with blocks in turn; entering it
    inside its own block is refused."""
    r = resource()
    cm = simrec.lock("redis://", r, "write", timeout=5)
    with cm as a:
        t1 = a.token
        with pytest.raises(RuntimeError, match="already held"):
            with cm:
                pass
    with cm as b:
        assert b.token > t1
    with simrec.Lock("redis://", r) as lk:
        assert not lk.status()["writer"]


@pytest.mark.parametrize("kw", [dict(resource=""), dict(timeout=float("nan")),
                                dict(timeout=-1), dict(timeout=float("inf")),
                                dict(lease=-1), dict(lease=1e300),
                                dict(lease=float("nan")), dict(lease=1e6 + 1)])
def test_lock_arguments_checked(kw):
    args = dict(redis_uri="redis://", resource=resource(), mode="read",
                timeout=1.0, lease=0.0)
    args.update(kw)
    with pytest.raises(ValueError):
        with simrec.lock(**args):
            pass
    with pytest.raises(ValueError):
        lk = simrec.Lock(args["redis_uri"], args["resource"], args["lease"])
        try:
            lk.acquire("read", args["timeout"])
        finally:
            lk.close()
