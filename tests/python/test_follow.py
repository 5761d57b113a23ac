"""Recorder.follow: a reader follows a writer in another process, record
by record, and ends when the writer finishes (closes the store); a timeout
raises simrec.TimedOutError. The writer is paced by its stdin: it records
a step only when the follower asks for it, so the follower really waits."""
import contextlib
import subprocess
import sys

import numpy as np
import pytest

import simrec
from simrec import errors
from conftest import uri_for

WRITER = r"""
import sys, numpy as np, simrec
rec = simrec.Recorder(sys.argv[1], mode="w")
print("open", flush=True)
for line in sys.stdin:
    if line.strip() == "close":
        break
    s = int(line)
    rec.record("field/T", np.arange(6.0).reshape(2, 3) + 100 * s)
    rec.flush()
    print("step", s, flush=True)
rec.close()
print("closed", flush=True)
"""


def expected(s):
    return np.arange(6.0).reshape(2, 3) + 100 * s


@contextlib.contextmanager
def writer(uri):
    """The writer process, killed at the end if it is still there."""
    w = subprocess.Popen([sys.executable, "-c", WRITER, uri],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    try:
        assert w.stdout.readline().strip() == "open"
        yield w
    finally:
        w.kill()
        w.wait()


def close(w):
    w.stdin.write("close\n")
    w.stdin.flush()


def ask(w, s):
    w.stdin.write("%d\n" % s)
    w.stdin.flush()
    assert w.stdout.readline().split() == ["step", str(s)]


@pytest.fixture(params=["zarr", "zarr+dir", "redis"])
def live(request, tmp_path):
    """(writer, follower's Recorder), the writer's step 0 recorded."""
    uri = uri_for(request.param, tmp_path)
    with writer(uri) as w, simrec.Recorder(uri, mode="r") as r:
        ask(w, 0)
        yield w, r


def test_follow_until_finished(live):
    w, r = live
    seen = []
    for i, arr in r.follow("field/T", timeout=30):
        assert i == len(seen)
        np.testing.assert_array_equal(arr, expected(i))
        seen.append(i)
        if i < 4:
            ask(w, i + 1)  # the next step only now
        else:
            close(w)
    assert seen == [0, 1, 2, 3, 4]
    # started after the end, from record 2: catches up, then ends
    late = [i for i, _ in r.follow("field/T", timeout=30, start=2)]
    assert late == [2, 3, 4]
    assert w.wait(timeout=60) == 0


def test_follow_times_out_while_the_writer_is_silent(live):
    w, r = live
    got = []
    with pytest.raises(simrec.TimedOutError):
        for i, arr in r.follow("field/T", timeout=0.3):
            got.append(i)
    assert got == [0]
    close(w)
    assert w.wait(timeout=60) == 0


def test_follow_plain_hdf5_is_refused(tmp_path):
    uri = uri_for("hdf5", tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        rec.record("x", np.zeros(3))
    with simrec.Recorder(uri, mode="r") as r:
        with pytest.raises(errors.NotSupportedError, match="lock="):
            next(r.follow("x", timeout=1))


def test_follow_in_memory_does_not_wait():
    with simrec.Recorder("memory:") as rec:
        rec.record("x", np.ones(2))
        it = rec.follow("x", timeout=60)
        i, arr = next(it)
        assert i == 0 and list(arr) == [1, 1]
        with pytest.raises(simrec.TimedOutError):
            next(it)


def test_finished_error_is_its_own_class():
    assert errors.FinishedError.name == "SIMREC_EFINISHED"
    assert issubclass(errors.FinishedError, simrec.Error)


@pytest.mark.parametrize("scheme", ["zarr", "zarr+dir"])
def test_follow_refuses_a_group_a_value_and_a_nan_timeout(tmp_path, scheme):
    uri = uri_for(scheme, tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        rec.record("g/x", np.zeros(2))
        rec.set("v", np.ones(3))
    with simrec.Recorder(uri, mode="r") as r:
        with pytest.raises(errors.KindError, match="group"):
            next(r.follow("g", timeout=0))
        with pytest.raises(errors.KindError, match="value"):
            next(r.follow("v", timeout=0))
        with pytest.raises(errors.InvalidArgumentError, match="NaN"):
            next(r.follow("g/x", timeout=float("nan")))
        # finished: a key never recorded never comes (a typo): an error
        # naming it, not an empty follow
        assert [i for i, _ in r.follow("g/x", timeout=0)] == [0]
        with pytest.raises(errors.NoKeyError, match="'never'"):
            next(r.follow("never", timeout=60))


def test_follow_waits_for_a_key_not_there_yet_while_running(tmp_path):
    uri = uri_for("zarr+dir", tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        rec.record("x", np.zeros(2))
        rec.flush()
        with simrec.Recorder(uri, mode="r") as r:
            with pytest.raises(simrec.TimedOutError):
                next(r.follow("later", timeout=0.2))


def test_an_appending_writer_clears_the_finished_mark(tmp_path):
    uri = uri_for("zarr+dir", tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        rec.record("x", np.zeros(2))
    with simrec.Recorder(uri) as rec:  # append: running again
        rec.record("x", np.ones(2))
        rec.flush()
        with simrec.Recorder(uri, mode="r") as r:
            it = r.follow("x", timeout=0.2)
            assert [i for i, _ in (next(it), next(it))] == [0, 1]
            with pytest.raises(simrec.TimedOutError):
                next(it)
    with simrec.Recorder(uri, mode="r") as r:
        assert [i for i, _ in r.follow("x", timeout=0)] == [0, 1]
