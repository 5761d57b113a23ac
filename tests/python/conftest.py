"""Shared fixtures for the Python package's tests.

ctest sets SIMREC_LIBRARY (the built libsimrec), PYTHONPATH (python/),
SIMREC_CLI and SIMREC_INTEROP (the C programs), SIMREC_SCHEMES (the store
schemes built; "redis" among them for the data tests, which then run against
the redis fixture's server, SIMREC_REDIS_HOST) and SIMREC_CI=1.

Under SIMREC_CI=1 (ctest, tools/test.sh) a skipped test is a failure: a
check that cannot run in CI fails there with its reason."""
import os
import re

import pytest

SCHEMES = os.environ.get("SIMREC_SCHEMES", "memory,zarr,zarr+dir,hdf5").split(",")
CI = os.environ.get("SIMREC_CI", "") not in ("", "0")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = "skipped under SIMREC_CI=1: %s" % (report.longrepr,)


def uri_for(scheme, tmp_path, name="store"):
    if scheme == "memory":
        return "memory:"
    if scheme == "redis":
        if not os.environ.get("SIMREC_REDIS_HOST"):
            pytest.skip("redis: SIMREC_REDIS_HOST not set (run through ctest)")
        # a prefix of this test's own: tests run in parallel on one server
        own = re.sub(r"[^A-Za-z0-9_-]", "_", tmp_path.name)
        return "redis://?prefix=py-%d-%s-%s" % (os.getpid(), own, name)
    ext = {"zarr": ".zarr", "zarr+dir": ".zarr", "hdf5": ".h5"}[scheme]
    return "%s:%s" % (scheme, tmp_path / (name + ext))


@pytest.fixture(params=SCHEMES)
def scheme(request):
    return request.param


def program(var):
    path = os.environ.get(var)
    if not path:
        pytest.skip("%s not set (run through ctest)" % var)
    return path


class Roundtrip:
    """Write with one recorder, read with a fresh read-only one; a memory:
    store lives only as long as its recorder, so it is read by the writer."""

    def __init__(self, uri, **options):
        import simrec
        self.uri = uri
        self.writer = simrec.Recorder(uri, mode="w", **options)

    def write(self):
        import contextlib

        @contextlib.contextmanager
        def cm():
            yield self.writer
            if not self.uri.startswith("memory:"):
                self.writer.close()
        return cm()

    def reader(self):
        import simrec
        if self.uri.startswith("memory:"):
            self.writer.flush()
            return self.writer
        return simrec.Recorder(self.uri, mode="r")


@pytest.fixture
def roundtrip(scheme, tmp_path):
    return lambda **options: Roundtrip(uri_for(scheme, tmp_path), **options)
