"""Shared fixtures for the Python package's tests.

ctest sets SIMREC_LIBRARY (the built libsimrec), PYTHONPATH (python/),
SIMREC_CLI and SIMREC_INTEROP (the C programs), SIMREC_SCHEMES (the store
schemes built) and SIMREC_REDIS_HOST when the redis fixture runs."""
import os

import pytest

SCHEMES = os.environ.get("SIMREC_SCHEMES", "memory,zarr,zarr+dir,hdf5").split(",")


def uri_for(scheme, tmp_path, name="store"):
    if scheme == "memory":
        return "memory:"
    if scheme == "redis":
        return "redis://?prefix=%s" % name
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
