"""Every failure raises the simrec.Error subclass of its status code, with
the library's message naming the key."""
import subprocess

import numpy as np
import pytest

import simrec
from simrec import errors
from conftest import uri_for


def test_one_class_per_code():
    codes = sorted(errors.BY_CODE)
    assert codes == list(range(-22, 0))
    for code, cls in errors.BY_CODE.items():
        assert issubclass(cls, simrec.Error)
        assert cls.code == code and cls.name.startswith("SIMREC_E")
        assert getattr(simrec, cls.__name__) is cls
    assert errors.BY_CODE[-4] is simrec.NoKeyError
    assert issubclass(simrec.NoKeyError, KeyError)
    assert issubclass(simrec.StoreIOError, OSError)


def test_missing_key_names_it(scheme, tmp_path):
    with simrec.Recorder(uri_for(scheme, tmp_path), mode="w") as rec:
        rec.record("present", 1.0)
        with pytest.raises(simrec.NoKeyError) as ei:
            rec.get_all("absent/key")
        assert "absent/key" in str(ei.value)
        assert ei.value.code == -4 and ei.value.name == "SIMREC_ENOKEY"
        with pytest.raises(KeyError):
            rec.attrs["nope"]


def test_dtype_and_shape_mismatch_store_nothing(scheme, tmp_path):
    with simrec.Recorder(uri_for(scheme, tmp_path), mode="w") as rec:
        rec.record("x", np.zeros((2, 3), dtype=np.float32))
        with pytest.raises(simrec.DtypeError) as ei:
            rec.record("x", np.zeros((2, 3), dtype=np.float64))
        assert "'x'" in str(ei.value)
        with pytest.raises(simrec.ShapeError):
            rec.record("x", np.zeros((3, 2), dtype=np.float32))
        assert rec.get_all("x").shape == (1, 2, 3)
        rec.record("s", "text")
        with pytest.raises(simrec.Error):
            rec.record("s", 1.0)
        with pytest.raises(simrec.Error):
            rec.record("x", b"bytes")


def test_read_only(tmp_path):
    uri = uri_for("zarr", tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        rec.record("a", 1)
    with simrec.Recorder(uri, mode="r") as rec:
        with pytest.raises(simrec.ReadOnlyError) as ei:
            rec.record("a", 2)
        assert ei.value.code == -8
        with pytest.raises(simrec.ReadOnlyError):
            rec.attrs["x"] = 1


def test_bad_uri_and_options(tmp_path):
    with pytest.raises(simrec.URIError) as ei:
        simrec.Recorder("nosuchscheme:x")
    assert "nosuchscheme" in str(ei.value)
    with pytest.raises(simrec.Error):
        simrec.Recorder("zarr:%s" % (tmp_path / "x.zarr"), codec="nocodec")
    with pytest.raises(TypeError):
        simrec.Recorder("memory:", colour="blue")
    with pytest.raises(ValueError):
        simrec.Recorder("memory:", mode="x")
    with pytest.raises(simrec.Error):
        simrec.Recorder("zarr:%s" % (tmp_path / "absent.zarr"), mode="r")
    # a thread count out of 1-256 (0: the default), in the options as in
    # the URI
    for n in (-5, 257):
        with pytest.raises(simrec.ConfigError) as ei:
            simrec.Recorder("memory:", nthreads=n)
        assert "threads 1-256" in str(ei.value)
    with pytest.raises(simrec.ConfigError):
        simrec.Recorder("memory:?threads=0")


def test_unsupported_values_raise_type_error():
    with simrec.Recorder("memory:") as rec:
        with pytest.raises(TypeError, match="pickled"):
            rec.record("obj", {"a": 1})
        with pytest.raises(TypeError):
            rec.record("c", np.zeros(3, dtype=np.clongdouble))
        with pytest.raises(simrec.InvalidArgumentError):
            rec.record("empty", np.zeros((0, 3)))
        with pytest.raises(ValueError):
            rec.record("deep", np.zeros((1,) * 16))
        with pytest.raises(TypeError):
            rec.attrs["nested"] = [[1, 2], [3, 4]]


def test_closed_dataset_and_recorder():
    rec = simrec.Recorder("memory:")
    rec.record("a", np.arange(3))
    ds = rec.get_all("a")
    rec.close()
    with pytest.raises(ValueError, match="closed"):
        ds[0]
    with pytest.raises(ValueError, match="closed"):
        rec.get_all("a")


def test_error_in_with_block_still_closes(tmp_path):
    uri = uri_for("zarr", tmp_path)
    with pytest.raises(RuntimeError):
        with simrec.Recorder(uri, mode="w") as rec:
            rec.record("a", 1.5)
            raise RuntimeError("simulation failed")
    assert rec.closed
    with simrec.Recorder(uri, mode="r") as rec:
        assert rec.get_all("a")[:].tolist() == [1.5]


def test_nul_in_names_is_refused():
    with simrec.Recorder("memory:") as rec:
        with pytest.raises(ValueError):
            rec.record("k\x00hidden", 1.0)
        with pytest.raises(ValueError):
            rec.attrs["a\x00b"] = "x"
        assert list(rec) == []


def test_struct_layouts_match_the_library():
    import ctypes
    from simrec import _lib
    for name, cls in (("lock_status", _lib.LockStatus), ("attr", _lib.Attr),
                      ("options", _lib.Options)):
        assert _lib.lib.simrec_struct_size(name.encode()) == ctypes.sizeof(cls)
def test_closed_recorder_cannot_be_entered_again(tmp_path):
    rec = simrec.Recorder(uri_for("zarr", tmp_path), mode="w")
    with rec:
        rec.record("a", 1)
    with pytest.raises(ValueError, match="closed"):
        with rec:
            pass


def test_integer_out_of_int64_names_the_key():
    with simrec.Recorder("memory:") as rec:
        for v in (2**64, 2**63, -2**63 - 1):
            with pytest.raises(simrec.InvalidArgumentError,
                               match="'big'.*does not fit in int64"):
                rec.record("big", v)
        rec.record("big", 2**63 - 1)
        assert rec.get_all("big")[:].tolist() == [2**63 - 1]


@pytest.mark.parametrize("scheme", ["zarr", "zarr+dir", "hdf5"])
def test_unclosed_recorders_closed_at_exit(scheme, tmp_path):
    """A script that never calls close() loses nothing: every live Recorder
    is closed at interpreter exit, the newest first."""
    import os
    import sys
    uris = [uri_for(scheme, tmp_path, "s%d" % i) for i in range(2)]
    script = ("import simrec\n"
              "a = simrec.Recorder(%r, mode='w')\n"
              "b = simrec.Recorder(%r, mode='w')\n"
              "for i in range(5):\n"
              "    a.record('x', float(i)); b.record('y', 'r%%d' %% i)\n"
              "cycle = [a, b]; cycle.append(cycle)\n" % tuple(uris))
    r = subprocess.run([sys.executable, "-c", script], env=os.environ,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    with simrec.Recorder(uris[0], mode="r") as rec:
        assert rec.get_all("x")[:].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    with simrec.Recorder(uris[1], mode="r") as rec:
        assert list(rec.get_all("y")[:]) == ["r%d" % i for i in range(5)]


def test_close_error_at_exit_is_printed(tmp_path):
    """A close that fails at interpreter exit says so on stderr."""
    import os
    import sys
    path = tmp_path / "gone.zarr"
    script = ("import shutil, simrec\n"
              "a = simrec.Recorder('zarr+dir:%s', mode='w')\n"
              "a.record('x', 1.0)\n"
              "shutil.rmtree(%r); open(%r, 'w').write('not a store')\n"
              % (path, str(path), str(path)))
    r = subprocess.run([sys.executable, "-c", script], env=os.environ,
                       capture_output=True, text=True, timeout=60)
    assert "simrec: closing" in r.stderr and "at exit failed" in r.stderr


def _dir_store(root, names, depth=0):
    """A zarr+dir store with a 4-element float64 dataset under each name
    (bytes), below depth directories "a" (made through descriptors)."""
    import json
    import os
    os.makedirs(root)
    with open(os.path.join(root, ".zgroup"), "w") as f:
        f.write('{"zarr_format": 2}')
    fd = os.open(root, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("a", dir_fd=fd)
        nfd = os.open("a", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    meta = json.dumps({"chunks": [4], "compressor": None, "dtype": "<f8",
                       "fill_value": 0.0, "filters": None, "order": "C",
                       "shape": [4], "zarr_format": 2}).encode()
    for n in names:
        os.mkdir(n, dir_fd=fd)
        d = os.open(n, os.O_RDONLY, dir_fd=fd)
        for leaf, data in ((".zarray", meta),
                           ("0", np.arange(4.0).tobytes())):
            w = os.open(leaf, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d)
            os.write(w, data)
            os.close(w)
        os.close(d)
    os.close(fd)
    return "zarr+dir:" + str(root)


def test_non_utf8_key_is_listed_not_dropped(tmp_path):
    """A directory name that is not UTF-8 is listed (its bytes kept as
    surrogates, as os.fsdecode does) and reads back under that name."""
    uri = _dir_store(tmp_path / "s", [b"bad\xff\xfe", b"good"])
    with simrec.Recorder(uri, mode="r") as rec:
        keys = list(rec)
        assert keys == ["bad\udcff\udcfe", "good"]
        assert (rec.get_all(keys[0])[:] == np.arange(4.0)).all()


def test_deep_store_lists_without_recursion(tmp_path):
    """1,500 directories deep (a 3,000-byte path): listed; 20,000 deep
    (past PATH_MAX) refused as a format error naming the store."""
    try:
        uri = _dir_store(tmp_path / "d", [b"x"], depth=1500)
        with simrec.Recorder(uri, mode="r") as rec:
            assert list(rec) == ["a/" * 1500 + "x"]
        deep = tmp_path / "deeper"
        uri = _dir_store(deep, [b"x"], depth=20000)
        with simrec.Recorder(uri, mode="r") as rec:
            with pytest.raises(simrec.FormatError) as ei:
                list(rec)
            assert "nested too deep" in str(ei.value) and str(deep) in \
                str(ei.value)
    finally:  # pytest's own cleanup recurses: it would fail on these
        subprocess.run(["rm", "-rf", str(tmp_path / "d"),
                        str(tmp_path / "deeper")], check=True)
