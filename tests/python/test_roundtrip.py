"""Every dtype and shape (0-d .. 4-d) round-trips through every store."""
import numpy as np
import pytest

import simrec
from conftest import uri_for

DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "float32", "float64", "bool"]
SHAPES = [(), (7,), (3, 5), (2, 3, 4), (2, 1, 3, 5)]


def sample(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, size=shape, dtype=dt,
                            endpoint=True)
    return (rng.standard_normal(size=shape) * 1e3).astype(dt)


def test_every_dtype_and_shape(roundtrip):
    rt = roundtrip()
    want = {}
    with rt.write() as rec:
        for dt in DTYPES:
            for shape in SHAPES:
                key = "t/%s/d%d" % (dt, len(shape))
                recs = [sample(dt, shape, i) for i in range(4)]
                for r in recs:
                    rec.record(key, r)
                want[key] = np.stack(recs)
                v = sample(dt, shape, 99)
                rec.set(key + "_set", v)
                want[key + "_set"] = v
    with rt.reader() as rec:
        assert sorted(rec.keys("t")) == sorted(want)
        for key, w in want.items():
            ds = rec.get_all(key)
            assert ds.dtype == w.dtype, key
            assert ds.shape == w.shape, key
            got = np.asarray(ds)
            assert got.dtype == w.dtype
            np.testing.assert_array_equal(got, w, err_msg=key)
            last = rec.get(key)[...]
            np.testing.assert_array_equal(last, w[-1] if not key.endswith(
                "_set") else w)
            if ds.ndim:
                assert len(ds) == w.shape[0]


def test_python_scalars_and_numpy_scalars(roundtrip):
    rt = roundtrip()
    with rt.write() as rec:
        for i in range(3):
            rec.record("py/int", i - 1)
            rec.record("py/float", i / 4)
            rec.record("py/bool", i == 1)
            rec.record("np/f32", np.float32(i / 2))
            rec.record("np/u16", np.uint16(60000 + i))
            rec.record("list", [[i, 2], [3, 4]])
            rec.record("noncontig", np.arange(20.0).reshape(4, 5)[:, ::2] + i)
            rec.record("bigendian", np.arange(3, dtype=">i4") + i)
    with rt.reader() as rec:
        def chk(key, dt, want):
            got = rec.get_all(key)[:]
            assert got.dtype == np.dtype(dt), key
            np.testing.assert_array_equal(got, want)
        chk("py/int", "int64", [-1, 0, 1])
        chk("py/float", "float64", [0, 0.25, 0.5])
        chk("py/bool", "bool", [False, True, False])
        chk("np/f32", "float32", [0, 0.5, 1])
        chk("np/u16", "uint16", [60000, 60001, 60002])
        chk("list", "int64", [[[i, 2], [3, 4]] for i in range(3)])
        base = np.arange(20.0).reshape(4, 5)[:, ::2]
        chk("noncontig", "float64", [base + i for i in range(3)])
        chk("bigendian", "int32", [np.arange(3) + i for i in range(3)])
        assert rec.get_all("py/int").shape == (3,)
        assert rec.get("py/int")[()] == 1
        assert rec.get("py/int").shape == ()


def test_bytes_and_str(roundtrip):
    rt = roundtrip()
    texts = ["", "héllo", "x" * 10000, "{\"a\": 1}"]
    blobs = [b"", b"\x00\x01\xff", bytes(range(256)) * 40]
    with rt.write() as rec:
        for t in texts:
            rec.record("log/text", t)
        for b in blobs:
            rec.record("log/raw", b)
        rec.record("log/raw", bytearray(b"ba"))
    with rt.reader() as rec:
        ds = rec.get_all("log/text")
        assert ds.shape == (4,) and ds.is_bytes and len(ds) == 4
        assert ds[:] == texts
        assert ds[1] == "héllo" and ds[-2] == "x" * 10000
        assert ds[::-2] == texts[::-2]
        assert list(np.asarray(ds)) == texts
        raw = rec.get_all("log/raw")
        assert list(raw) == blobs + [b"ba"]
        assert rec.get("log/raw")[()] == b"ba"
        assert rec.get("log/text")[()] == texts[-1]


def test_attributes_and_keys(roundtrip):
    rt = roundtrip()
    with rt.write() as rec:
        rec.record("run/a/x", np.zeros(3))
        rec.record("run/b", 1.0)
        rec.attrs["title"] = "séance"
        rec.attrs.update(seed=42, dt=0.125)
        a = rec.attributes("run/a")
        a["n"] = np.int32(7)
        a["flag"] = True
        rec.get_all("run/b").attrs["unit"] = "K"
    with rt.reader() as rec:
        assert list(rec) == ["run/a/x", "run/b"]
        assert rec.keys(groups=True) == ["run", "run/a", "run/a/x", "run/b"]
        assert "run/a" in rec and "run/zz" not in rec
        assert dict(rec.attrs.items()) == {"title": "séance", "seed": 42,
                                           "dt": 0.125}
        assert sorted(rec.attrs) == ["dt", "seed", "title"]
        assert rec.attributes("run/a")["n"] == 7
        assert rec.attributes("run/a")["flag"] == 1
        assert rec.get_all("run/b").attrs["unit"] == "K"
        assert rec.attrs.get("nope", 3) == 3
        assert "seed" in rec.attrs and len(rec.attrs) == 3


def test_several_stores(tmp_path):
    a, b = uri_for("zarr", tmp_path, "a"), uri_for("zarr+dir", tmp_path, "b")
    with simrec.Recorder([a, b], mode="w") as rec:
        for i in range(5):
            rec.record("k", np.full(4, i))
    for u in (a, b):
        with simrec.Recorder(u, mode="r") as rec:
            np.testing.assert_array_equal(rec["k"][:, 0], np.arange(5))


def test_flush_makes_records_visible(tmp_path):
    uri = uri_for("zarr+dir", tmp_path)
    rec = simrec.Recorder(uri, mode="w")
    for i in range(10):
        rec.record("small", float(i))
    rec.flush()
    with simrec.Recorder(uri, mode="r") as rd:
        np.testing.assert_array_equal(rd.get_all("small")[:], np.arange(10.0))
    rec.close()
    rec.close()  # closing twice is harmless
    assert rec.closed
    with pytest.raises(ValueError):
        rec.record("small", 1.0)


@pytest.mark.parametrize("scheme", ["zarr+dir", "zarr", "hdf5"])
def test_store_path_through_a_symbolic_link(tmp_path, scheme):
    """A store reached through a link (a scratch directory often is one)
    records, flushes and closes: the flush's sync may follow a link to a
    directory."""
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    # zarr+dir: the link itself is the store's root (an empty directory)
    path = link if scheme == "zarr+dir" else link / "s.store"
    uri = "%s:%s" % (scheme, path)
    with simrec.Recorder(uri, mode="a") as rec:
        for i in range(3):
            rec.record("x", np.arange(4.0) + i)
        rec.flush()
    with simrec.Recorder(uri, mode="r") as rd:
        np.testing.assert_array_equal(
            rd.get_all("x")[:], np.arange(4.0) + np.arange(3.0)[:, None])


def test_attribute_kinds_roundtrip(roundtrip, scheme):
    values = {"b": True, "big": 2**64 - 1, "neg": -(2**63), "f": 0.5,
              "s": "text", "arr": np.arange(5, dtype=np.int32),
              "farr": np.array([0.5, -1.5])}
    rt = roundtrip()
    uri = rt.uri
    with rt.write() as rec:
        rec.record("x", np.zeros(3))
        for k, v in values.items():
            rec.attrs[k] = v
    # (memory: the writer itself reads, before its close)
    with rt.reader() as rec:
        got = dict(rec.attrs.items())
    for k, v in values.items():
        if isinstance(v, np.ndarray):
            # JSON (zarr .zattrs) keeps the values, not the width
            assert np.array_equal(got[k], v), k
            assert got[k].dtype.kind == v.dtype.kind, k
            if uri.startswith("hdf5:"):
                assert got[k].dtype == v.dtype, k
        else:
            assert got[k] == v and type(got[k]) is type(v), k


def test_define_makes_empty_datasets(roundtrip):
    rt = roundtrip()
    with rt.write() as rec:
        rec.define("e/f", "float32", (3, 4))
        rec.define("e/s", str)
        rec.define("e/f", np.float32, (3, 4))  # same again: nothing changes
        with pytest.raises(TypeError):
            rec.define("e/c", "complex256", (2,))
        with pytest.raises(simrec.Error):
            rec.define("e/f", "int8", (3, 4))  # another dtype
        rec.define("e/g", "int16", (2,))
        rec.record("e/g", np.arange(2, dtype=np.int16))
    with rt.reader() as rec:
        f = rec.get_all("e/f")
        assert f.shape == (0, 3, 4) and f.dtype == np.float32
        assert f.read().shape == (0, 3, 4)
        assert len(rec.get_all("e/s")) == 0
        g = rec.get_all("e/g").read()
        assert g.shape == (1, 2) and g.tolist() == [[0, 1]]
