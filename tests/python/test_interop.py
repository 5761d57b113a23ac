"""Stores written from C read from Python, and the other way round (read
back with the C command line, `simrec cat` / `simrec ls`)."""
import subprocess

import numpy as np

import simrec
from conftest import SCHEMES, program, uri_for

import pytest


def sample_fill(dtype, n):
    """tests/sample.h's sample_fill from element 0, for some dtypes."""
    k = np.arange(n, dtype=np.int64)
    v = (k * 7 + 3) % 100 - 50
    f = k * 0.5 - 3.0
    return {"int16": (v * 300).astype(np.int16),
            "int32": (v * 70000).astype(np.int32),
            "float32": f.astype(np.float32), "float64": f / 3.0,
            "bool": k % 3 == 0}[dtype]


@pytest.mark.parametrize("scheme", ["zarr", "zarr+dir", "hdf5"])
def test_read_what_c_wrote(scheme, tmp_path):
    uri = uri_for(scheme, tmp_path)
    subprocess.run([program("SIMREC_INTEROP"), "write", uri], check=True)
    with simrec.Recorder(uri, mode="r") as rec:
        assert rec.attrs["title"] == "simrec interop"
        assert rec.attributes("types")["count"] == 11
        assert rec.attributes("small/scalar")["dt"] == 0.125
        assert rec.attributes("deep/nested")["unit"] == "K"
        small = rec.get_all("small/scalar")
        assert small.shape == (1000000,) and small.dtype == np.float64
        cfg = rec.get_all("deep/nested/key/config")
        assert cfg[7] == '{"step": 7, "name": "é7"}' and len(cfg) == 50
        raw = rec.get_all("deep/raw")
        assert [len(b) for b in raw[:8]] == [0, 1, 2, 3, 4, 5, 6, 0]
        assert raw[3] == b'{"s'
        v = rec.get("deep/value")
        assert v.shape == (2, 3, 4) and v.dtype == np.float32
        # the same values the C reader sees
        shapes = {"s0": (6, 7), "s1": (1, 5), "s2": (42, 1)}
        for dt in ["int16", "int32", "float32", "float64", "bool"]:
            for s, shape in shapes.items():
                ds = rec.get_all("types/%s/%s" % (dt, s))
                assert ds.shape == (9,) + shape and ds.dtype == np.dtype(dt)
                want = sample_fill(dt, ds.size).reshape(ds.shape)
                np.testing.assert_array_equal(np.asarray(ds), want)
                np.testing.assert_array_equal(ds[3:7:2, -1], want[3:7:2, -1])
        np.testing.assert_array_equal(small[::100000],
                                      sample_fill("float64", 1000000)[::100000])
    # the C side's own check of its sample values, through the CLI
    out = subprocess.run([program("SIMREC_CLI"), "cat", uri, "types/int32/s1",
                          "-1,0,:", "--csv"], check=True, capture_output=True,
                         text=True).stdout
    with simrec.Recorder(uri, mode="r") as rec:
        mine = rec.get_all("types/int32/s1")[-1, 0, :]
    assert [int(x) for x in out.split()[-1].split(",")] == mine.tolist()


@pytest.mark.parametrize("scheme", ["zarr", "zarr+dir", "hdf5"])
def test_c_reads_what_python_wrote(scheme, tmp_path):
    uri = uri_for(scheme, tmp_path)
    a = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    with simrec.Recorder(uri, mode="w") as rec:
        for i in range(5):
            rec.record("py/a", a + i)
        rec.record("py/text", "hello from python")
        rec.set("py/value", np.linspace(0, 1, 5))
        rec.attrs["origin"] = "simrec-python"
    cli = program("SIMREC_CLI")

    def cat(key, sl=None):
        args = [cli, "cat", uri, key] + ([sl] if sl else []) + ["--csv"]
        return subprocess.run(args, check=True, capture_output=True,
                              text=True).stdout.split()

    rows = cat("py/a", "-1,1,2,:")
    assert [int(x) for x in rows[-1].split(",")] == (a[1, 2] + 4).tolist()
    rows = cat("py/a", "2")
    assert [[int(x) for x in r.split(",")] for r in rows] == \
        (a + 2).reshape(-1, 4).tolist()
    assert "hello from python" in " ".join(cat("py/text"))
    vals = [float(x) for x in cat("py/value")[-1].split(",")]
    assert vals == np.linspace(0, 1, 5).tolist()
    ls = subprocess.run([cli, "ls", uri], check=True, capture_output=True,
                        text=True).stdout
    assert "py/" in ls or "a" in ls
    info = subprocess.run([cli, "info", uri, "py/a"], check=True,
                          capture_output=True, text=True).stdout
    assert "int16" in info and "5, 2, 3, 4" in info.replace("(", "")


def test_readers_see_zarr_python(tmp_path):
    """A store written by simrec-python opens with zarr-python unchanged."""
    zarr = pytest.importorskip("zarr")
    path = tmp_path / "z.zarr"
    with simrec.Recorder("zarr+dir:%s" % path, mode="w") as rec:
        for i in range(3):
            rec.record("f", np.full((2, 2), i, dtype=np.float32))
    z = zarr.open(str(path), mode="r")
    np.testing.assert_array_equal(z["f"][:, 0, 0], [0, 1, 2])


def test_hdf5_string_with_nul_refused(tmp_path):
    """HDF5 strings end at a NUL: such a record is refused at once, naming
    the key, and nothing of it is stored (the records around it are)."""
    h5py = pytest.importorskip("h5py")
    uri = uri_for("hdf5", tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        rec.record("s", "ab")
        with pytest.raises(simrec.InvalidArgumentError,
                           match="'s'.*cannot hold NUL.*SIMREC_BYTES"):
            rec.record("s", "é\0z")
        rec.record("s", "cd")
    with h5py.File(str(tmp_path / "store.h5"), "r") as f:
        assert list(f["s"][:]) == [b"ab", b"cd"]


def test_hdf5_ascii_dataset_refuses_non_ascii(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "asc.h5"
    with h5py.File(str(path), "w") as f:
        f.create_dataset("asc", shape=(0,), maxshape=(None,), chunks=(16,),
                         dtype=h5py.string_dtype("ascii"))
    with simrec.Recorder("hdf5:%s" % path) as rec:
        with pytest.raises(simrec.InvalidArgumentError,
                           match="'asc'.*ASCII.*non-ASCII text refused"):
            rec.record("asc", "héllo")
        rec.record("asc", "plain")
    with h5py.File(str(path), "r") as f:
        assert list(f["asc"][:]) == [b"plain"]


def test_hdf5_null_dataspace_refused(tmp_path):
    """An h5py.Empty dataset holds no data: lookup says so, ls shows it as
    unreadable with that reason, cat and verify fail naming it."""
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "empty.h5"
    with h5py.File(str(path), "w") as f:
        f["emp"] = h5py.Empty("f8")
        f["ok"] = np.arange(3)
    uri = "hdf5:%s" % path
    why = "'emp' in '%s' has a null dataspace (h5py.Empty): no data to read"
    with simrec.Recorder(uri, mode="r") as rec:
        with pytest.raises(simrec.NotSupportedError, match=r"null dataspace"):
            rec.get_all("emp")
    cli = program("SIMREC_CLI")
    ls = subprocess.run([cli, "ls", uri], capture_output=True, text=True)
    assert ls.returncode == 0
    assert "emp  (unreadable: %s)" % (why % path) in ls.stdout
    for cmd in (["cat", uri, "emp"], ["verify", uri]):
        r = subprocess.run([cli] + cmd, capture_output=True, text=True)
        assert r.returncode == 1 and "null dataspace" in r.stdout + r.stderr


def _chunks(scheme, path, key):
    """The chunk objects of key as bytes: {chunk key: bytes}."""
    import os
    if scheme == "zarr+dir":
        d = os.path.join(path, key)
        return {n: open(os.path.join(d, n), "rb").read()
                for n in os.listdir(d) if not n.startswith(".")}
    import zarr
    s = zarr.LMDBStore(path, readonly=True, lock=False)
    try:
        return {k: bytes(s[k]) for k in s.keys()
                if k.startswith(key + "/") and "/." not in k}
    finally:
        s.close()


@pytest.mark.parametrize("scheme", ["zarr", "zarr+dir"])
@pytest.mark.parametrize("first,later", [("lz4", "zstd"), ("lz4", "none"),
                                         ("none", "zstd")])
def test_append_keeps_stored_codec(scheme, first, later, tmp_path):
    """An existing dataset keeps its codec: a run that appends with
    another codec still writes chunks the .zarray's compressor describes
    (a new dataset in that run takes the run's codec)."""
    import numcodecs.blosc as nb
    import zarr
    uri = uri_for(scheme, tmp_path)
    path = uri.split(":", 1)[1]
    step = np.arange(128, dtype=np.float64)  # 1 KiB: one record per chunk
    with simrec.Recorder(uri, mode="w", codec=first, chunk_bytes=1024) as rec:
        for i in range(3):
            rec.record("a/x", step + i)
    for run in range(2):
        with simrec.Recorder(uri, mode="a", codec=later,
                             chunk_bytes=1024) as rec:
            for i in range(3):
                rec.record("a/x", step + 3 + 3 * run + i)
            if run == 0:
                rec.record("a/new", step)
    store = zarr.LMDBStore(path, lock=False) if scheme == "zarr" else path
    g = zarr.open_group(store, mode="r")
    for key, codec, n in [("a/x", first, 9), ("a/new", later, 1)]:
        comp = g[key].compressor
        assert (comp.cname if comp else "none") == codec, (key, comp)
        chunks = _chunks(scheme, path, key)
        assert len(chunks) == n
        for k, b in chunks.items():
            if codec == "none":
                assert len(b) == 1024, k
            else:  # the chunk's own blosc header names the codec
                assert nb.cbuffer_complib(b).lower() == codec, k
        want = np.arange(n)[:, None] + step[None, :]
        np.testing.assert_array_equal(g[key][:], want)
    if scheme == "zarr":
        store.close()


@pytest.mark.skipif("hdf5" not in SCHEMES, reason="built without HDF5")
@pytest.mark.parametrize("later", ["none", "lzf"])
def test_append_keeps_stored_filters_hdf5(later, tmp_path):
    """HDF5: a dataset's filters are fixed when it is made; appending with
    another codec keeps them (h5py reads every step)."""
    import h5py
    uri = uri_for("hdf5", tmp_path)
    step = np.arange(128, dtype=np.float64)
    with simrec.Recorder(uri, mode="w", codec="deflate",
                         chunk_bytes=1024) as rec:
        for i in range(3):
            rec.record("a/x", step + i)
    with simrec.Recorder(uri, mode="a", codec=later, chunk_bytes=1024) as rec:
        for i in range(3):
            rec.record("a/x", step + 3 + i)
        rec.record("a/new", step)
    with h5py.File(uri.split(":", 1)[1], "r") as f:
        assert f["a/x"].compression == "gzip" and f["a/x"].shuffle
        want = np.arange(6)[:, None] + step[None, :]
        np.testing.assert_array_equal(f["a/x"][:], want)
        assert f["a/new"].compression == (None if later == "none" else "lzf")


@pytest.mark.parametrize("scheme", ["zarr", "zarr+dir"])
def test_consolidated_metadata_follows(scheme, tmp_path):
    """A store with .zmetadata (zarr.consolidate_metadata): simrec's later
    appends, new datasets and attributes are in it too, so
    zarr.open_consolidated sees what zarr.open sees."""
    import zarr
    uri = uri_for(scheme, tmp_path)
    path = uri.split(":", 1)[1]

    def store():
        return zarr.LMDBStore(path, lock=False) if scheme == "zarr" else path

    with simrec.Recorder(uri, mode="w") as rec:
        for i in range(3):
            rec.record("a/x", np.full(4, i, dtype=np.int32))
        rec.attrs["nan"] = float("nan")
    s = store()
    zarr.consolidate_metadata(s)
    if scheme == "zarr":
        s.close()
    with simrec.Recorder(uri, mode="a") as rec:
        for i in range(3, 5):
            rec.record("a/x", np.full(4, i, dtype=np.int32))
        rec.record("b/y", np.arange(2.0))
        rec.attributes("a/x")["unit"] = "K"
    s = store()
    c = zarr.open_consolidated(s, mode="r")
    assert c["a/x"].shape == (5, 4) and c["a/x"].attrs["unit"] == "K"
    np.testing.assert_array_equal(c["a/x"][:, 0], np.arange(5))
    assert c["b/y"].shape == (1, 2) and np.isnan(c.attrs["nan"])
    if scheme == "zarr":
        s.close()


def test_append_with_unusable_stored_codec(tmp_path):
    """A .zarray naming a blosc codec this build lacks: appending fails
    naming the key and the codec, and writes no chunk."""
    import json
    import os
    uri = uri_for("zarr+dir", tmp_path)
    path = uri.split(":", 1)[1]
    with simrec.Recorder(uri, mode="w", chunk_bytes=1024) as rec:
        rec.record("x", np.arange(128.0))
    meta = os.path.join(path, "x", ".zarray")
    with open(meta) as f:
        j = json.load(f)
    j["compressor"]["cname"] = "nosuchcodec"
    with open(meta, "w") as f:
        json.dump(j, f)
    with pytest.raises(simrec.Error) as e:
        with simrec.Recorder(uri, mode="a", chunk_bytes=1024) as rec:
            rec.record("x", np.arange(128.0))
    assert "'x'" in str(e.value) and "nosuchcodec" in str(e.value)
    assert sorted(os.listdir(os.path.join(path, "x"))) == [".zarray", ".zattrs", "0.0"]


def test_distribution_metadata_matches():
    """python/simrec.dist-info (xarray's entry point, found on PYTHONPATH)
    names the version of the package and of the CMake project."""
    import importlib.metadata as md
    import os
    import re
    root = os.path.dirname(os.path.dirname(os.path.abspath(simrec.__file__)))
    dist = md.distribution("simrec")
    assert str(dist.locate_file("")) == root, dist.locate_file("")
    assert dist.version == simrec.__version__
    with open(os.path.join(root, "..", "CMakeLists.txt")) as f:
        m = re.search(r"project\(simrec VERSION (\S+)", f.read())
    assert m and m.group(1) == simrec.__version__, m
    eps = md.entry_points(group="xarray.backends")
    assert [e.value for e in eps if e.name == "simrec"] == [
        "simrec.xarray_backend:SimrecBackendEntrypoint"]


def test_xarray_engine_guess_and_lazy(tmp_path, monkeypatch):
    """guess_can_open: an LMDB directory, simrec URIs; never a zarr
    directory or an HDF5 file (their own engines). A slice reads only
    the hyperslab it covers."""
    import xarray as xr
    from simrec.xarray_backend import SimrecBackendEntrypoint
    from simrec.dataset import Dataset
    eng = SimrecBackendEntrypoint()
    lmdb, zdir, h5 = (tmp_path / "a.zarr", tmp_path / "b.zarr",
                      tmp_path / "c.h5")
    for scheme, path in (("zarr", lmdb), ("zarr+dir", zdir), ("hdf5", h5)):
        with simrec.Recorder("%s:%s" % (scheme, path), mode="w") as rec:
            for s in range(10):
                rec.record("g/v", np.arange(100, dtype=np.int32) + s,
                           dims=["t", "x"])
    assert eng.guess_can_open(str(lmdb)) and eng.guess_can_open(lmdb)
    assert eng.guess_can_open("redis://127.0.0.1:1?prefix=p")
    assert not eng.guess_can_open(str(zdir))
    assert not eng.guess_can_open(str(h5))
    assert not eng.guess_can_open(str(tmp_path / "none.nc"))
    boxes = []
    read_box = Dataset._read_box

    def counted(self, start, count):
        boxes.append((list(start), list(count)))
        return read_box(self, start, count)

    monkeypatch.setattr(Dataset, "_read_box", counted)
    for path in (lmdb, zdir, h5):
        boxes.clear()
        with xr.open_dataset(str(path), group="g", engine="simrec") as ds:
            assert not boxes  # nothing read at open
            got = ds["v"][3, 10:20].values
            assert got.tolist() == list(range(13, 23)), got
            assert boxes == [([3, 10], [1, 10])], boxes


@pytest.mark.parametrize("scheme", ["zarr", "zarr+dir", "hdf5"])
def test_keys_of_other_cadences_open_in_xarray(scheme, tmp_path):
    """Keys of one group recorded at other cadences hold other lengths:
    with the default names each keeps its own record axis, so that every
    xarray engine opens the group and shows exactly what was recorded (one
    shared "step" made the zarr engine refuse the group and the netCDF
    engines pad the shorter key with zeros or 9.97e36)."""
    import warnings
    import xarray as xr
    uri = uri_for(scheme, tmp_path)
    with simrec.Recorder(uri, mode="w") as rec:
        for i in range(4):
            rec.record("g/energy", float(i))
            if i % 2 == 0:
                rec.record("g/diag", np.arange(3.0) + i)
    path = uri.split(":", 1)[1].split("?")[0]
    engines = {"hdf5": ["h5netcdf", "netcdf4", "simrec"],
               "zarr": ["simrec"], "zarr+dir": ["zarr", "simrec"]}[scheme]
    for engine in engines:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = xr.open_dataset(path, group="g", engine=engine)
        assert ds["energy"].dims == ("energy_step",), (engine, ds)
        assert ds["diag"].dims == ("diag_step", "diag_dim_1"), (engine, ds)
        np.testing.assert_array_equal(ds["energy"].values, np.arange(4.0))
        np.testing.assert_array_equal(
            ds["diag"].values, [[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]])
        ds.close()


@pytest.mark.skipif("zarr+dir" not in SCHEMES, reason="zarr+dir not built")
def test_record_marker_in_xarray_zarr_engine(tmp_path):
    """docs/format.md: simrec's record marker is an ordinary attribute;
    xarray's zarr engine shows it, engine simrec hides it."""
    import xarray as xr
    path = str(tmp_path / "m.zarr")
    with simrec.Recorder("zarr+dir:" + path, mode="w") as rec:
        for s in range(3):
            rec.record("T", np.full((2,), float(s)))
    with xr.open_dataset(path, engine="zarr") as ds:
        assert ds["T"].attrs == {"_simrec_record": True}
        assert ds["T"].values.tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
    with xr.open_dataset(path, engine="simrec") as ds:
        assert "_simrec_record" not in ds["T"].attrs
        assert ds["T"].values.tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
