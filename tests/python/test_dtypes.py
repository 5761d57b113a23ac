"""float16, complex64 and complex128 end to end: recorded, set and read
back by simrec on every store, bit for bit; read by zarr-python and h5py;
written by them and read by simrec; printed by `simrec cat`."""
import subprocess

import numpy as np
import pytest

import simrec
from conftest import SCHEMES, Roundtrip, program, uri_for

NEW = ["float16", "complex64", "complex128"]
STORED = [s for s in ("zarr", "zarr+dir", "hdf5") if s in SCHEMES]


def sample(dtype):
    """Values a careless conversion would change: zeros of both signs,
    NaN, infinities, a subnormal, the extremes of the type."""
    dt = np.dtype(dtype)
    part = np.float16 if dt == np.float16 else dt.type(0).real.dtype
    fi = np.finfo(part)
    real = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, fi.tiny / 2,
                     fi.max, -fi.max, 1 / 3, 1.5], dtype=part)
    if dt.kind != "c":
        return real.reshape(2, 5)
    out = np.empty(real.shape, dt)
    out.real = real
    out.imag = real[::-1]
    return out.reshape(2, 5)


def same(got, want):
    got = np.asarray(got)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.tobytes() == want.tobytes(), (got, want)


@pytest.mark.parametrize("dtype", NEW)
def test_roundtrip(scheme, dtype, tmp_path):
    a = sample(dtype)
    rt = Roundtrip(uri_for(scheme, tmp_path))
    with rt.write() as w:
        for i in range(3):
            w.record("t/a", a[::-1] if i == 1 else a)
        w.set("t/v", a[0])
        w.define("t/d", dtype, (5,))
    with rt.reader() as r:
        same(r.get_all("t/a")[...], np.stack([a, a[::-1], a]))
        same(r.get("t/v")[...], a[0])
        assert r.get_all("t/d").dtype == np.dtype(dtype)


def open_third_party(scheme, path):
    """key -> numpy array, as zarr-python or h5py reads the store."""
    if scheme == "hdf5":
        import h5py
        f = h5py.File(path, "r")
        return f, lambda k: f[k][()]
    import zarr
    store = zarr.LMDBStore(path, readonly=True, lock=False) \
        if scheme == "zarr" else zarr.DirectoryStore(path)
    g = zarr.open_group(store, mode="r")
    return store, lambda k: g[k][...]


@pytest.mark.parametrize("scheme", STORED)
@pytest.mark.parametrize("dtype", NEW)
def test_third_party_reads(scheme, dtype, tmp_path):
    a = sample(dtype)
    uri = uri_for(scheme, tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        rec.record("t/a", a)
        rec.record("t/a", a * 2)
        rec.set("t/v", a[1])
    handle, get = open_third_party(scheme, uri.split(":", 1)[1])
    try:
        same(get("t/a"), np.stack([a, a * 2]))
        same(get("t/v"), a[1])
    finally:
        handle.close()


def write_third_party(scheme, path, arrays):
    if scheme == "hdf5":
        import h5py
        with h5py.File(path, "w") as f:
            for k, v in arrays.items():
                f.create_dataset(k, data=v, chunks=True)
        return
    import zarr
    store = zarr.LMDBStore(path) if scheme == "zarr" \
        else zarr.DirectoryStore(path)
    g = zarr.group(store)
    for k, v in arrays.items():
        g.create_dataset(k, data=v, chunks=(1,) + v.shape[1:])
    if scheme == "zarr":
        store.close()


@pytest.mark.parametrize("scheme", STORED)
def test_simrec_reads_third_party(scheme, tmp_path):
    arrays = {"t/" + d: sample(d) for d in NEW}
    uri = uri_for(scheme, tmp_path)
    write_third_party(scheme, uri.split(":", 1)[1], arrays)
    with simrec.Recorder(uri, mode="r") as rec:
        for k, v in arrays.items():
            same(rec.get_all(k)[...], v)


def test_cli_cat(tmp_path):
    uri = uri_for("zarr+dir", tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        rec.set("h", np.array([0.1, -2.5, np.inf], np.float16))
        rec.set("c", np.array([1 + 2j, 0.1 - 0.5j], np.complex64))
        rec.set("z", np.array([complex(0.1, np.nan)], np.complex128))
    cli = program("SIMREC_CLI")

    def cat(key):
        return subprocess.run([cli, "cat", uri, key, "--csv"], check=True,
                              capture_output=True, text=True).stdout.split()

    # numpy's shortest forms of the same values
    assert cat("h") == ["0.1,-2.5,inf"]
    assert cat("c") == ["1+2j,0.1-0.5j"]
    assert cat("z") == ["0.1+nanj"]


def test_set_text_and_bytes(scheme, tmp_path):
    rt = Roundtrip(uri_for(scheme, tmp_path))
    with rt.write() as w:
        w.set("cfg", "old")
        w.set("cfg", "hello é")  # replaces the old value whole
        w.set("blob", b"\x00\xffab")
        w.set("g/empty", "")
        w.set("g/num", np.arange(3))
        w.set("g/num", b"now bytes")
    with rt.reader() as r:
        assert r.get("cfg")[()] == "hello é"
        assert r.get("blob")[()] == b"\x00\xffab"
        assert r.get_all("g/empty")[()] == ""
        assert r.get("g/num")[()] == b"now bytes"
        assert r.get("cfg").shape == ()


@pytest.mark.parametrize("scheme", STORED)
def test_set_text_third_party(scheme, tmp_path):
    uri = uri_for(scheme, tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        rec.set("cfg", "hello é")
        rec.set("blob", b"\x00\xffab")
    path = uri.split(":", 1)[1]
    if scheme == "hdf5":
        import h5py
        with h5py.File(path, "r") as f:  # as h5py reads f[k] = "hello é"
            assert f["cfg"].shape == ()
            assert h5py.check_string_dtype(f["cfg"].dtype).encoding == "utf-8"
            assert f["cfg"][()] == "hello é".encode()
            assert f["cfg"].asstr()[()] == "hello é"
            same(f["blob"][()], np.frombuffer(b"\x00\xffab", np.uint8))
        return
    handle, get = open_third_party(scheme, path)
    try:
        assert get("cfg") == "hello é"
        assert get("blob") == b"\x00\xffab"
    finally:
        handle.close()
