"""`simrec verify --repair` and `simrec export` on torn stores (docs/cli.md):
a repair cuts every array that shares a dimension with a cut one, so that
xarray opens the group afterwards; export refuses what verify calls TORN
or BAD, naming the key, and says each problem once."""
import os
import subprocess

import numpy as np
import pytest

import simrec
from conftest import program

STEPS = 16  # whole chunks of g/time (8 steps each)


def cli(*args):
    return subprocess.run([program("SIMREC_CLI")] + list(args),
                          capture_output=True, text=True, timeout=120)


def path_of(kind, tmp_path):
    return tmp_path / ("s.h5" if kind == "hdf5" else "s.zarr")


def record_group(uri):
    """g/time is the coordinate of g's dimension "time", which g/T and g/P
    share; h/e has its own default record axis."""
    with simrec.Recorder(uri, mode="w", chunk_bytes=64) as rec:
        for s in range(STEPS):
            rec.record("g/time", float(s), dims=["time"])
            rec.record("g/T", np.arange(8.) + s, dims=["time", "x"])
            rec.record("g/P", np.arange(8.) * s, dims=["time", "x"])
            rec.record("h/e", np.full(3, float(s)))


def tear_zarr(kind, path, key, step):
    """Delete the chunk of key holding step (a writer killed before it
    landed, the shape already published)."""
    import json
    import zarr
    store = zarr.LMDBStore(str(path)) if kind == "zarr" else \
        zarr.DirectoryStore(str(path))
    meta = json.loads(bytes(store[key + "/.zarray"]))
    c0 = meta["chunks"][0]
    chunk = ".".join([str(step // c0)] + ["0"] * (len(meta["chunks"]) - 1))
    del store[key + "/" + chunk]
    if kind == "zarr":
        store.close()
    return step // c0 * c0


def tear_hdf5(path, key, grow):
    """The key's shape grown by grow steps that were never written (its
    chunks unallocated) while the other arrays of its dimension got
    theirs: a writer that died between them."""
    import h5py
    with h5py.File(path, "r+") as f:
        g = f["g"]
        for k in ("time", "T", "P"):
            d = g[k]
            d.resize(STEPS + grow, axis=0)
            if "g/" + k != key:
                d[STEPS:] = d[STEPS - 1]
    return STEPS


def open_xr(kind, path, group):
    import xarray as xr
    if kind == "hdf5":
        return xr.open_dataset(str(path), group=group, engine="h5netcdf")
    if kind == "zarr":
        import zarr
        store = zarr.LMDBStore(str(path), readonly=True, lock=False)
        return xr.open_zarr(store, group=group, consolidated=False)
    return xr.open_zarr(str(path), group=group, consolidated=False)


def lengths(kind, path):
    """Each array's shape, read with h5py or zarr-python."""
    out = {}
    if kind == "hdf5":
        import h5py
        with h5py.File(path, "r") as f:
            for k in ("g/time", "g/T", "g/P", "h/e"):
                out[k] = f[k].shape[0]
        return out
    import zarr
    store = zarr.LMDBStore(str(path), readonly=True, lock=False) \
        if kind == "zarr" else str(path)
    g = zarr.open_group(store, mode="r")
    for k in ("g/time", "g/T", "g/P", "h/e"):
        out[k] = g[k].shape[0]
    return out


@pytest.mark.parametrize("torn", ["g/T", "g/time"])
@pytest.mark.parametrize("kind", ["zarr", "zarr+dir", "hdf5"])
def test_repair_cuts_shared_dimension(kind, torn, tmp_path):
    """A torn key is cut to its whole steps, and so is every array that
    names its record dimension (the coordinate g/time, g/T, g/P): after
    the repair they agree and xarray opens the group with the whole
    steps' values; h/e, of another group, keeps all its steps."""
    path = path_of(kind, tmp_path)
    uri = "%s:%s" % (kind, path)
    record_group(uri)
    keep = tear_hdf5(path, torn, 2) if kind == "hdf5" else \
        tear_zarr(kind, path, torn, 8 if torn == "g/time" else 7)
    r = cli("verify", uri)
    assert r.returncode == 1, r.stdout + r.stderr
    others = [k for k in ("g/time", "g/T", "g/P") if k != torn]
    for k in others:
        assert "DIMS  %s: dimension 'time'" % k in r.stdout, r.stdout
        assert "%s: --repair cuts it to %d step(s) with '%s'" % (
            k, keep, torn) in r.stdout, r.stdout
    r = cli("verify", "--repair", uri)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "%s: repaired" % uri in r.stdout, r.stdout
    r = cli("verify", uri)
    assert r.returncode == 0 and "DIMS" not in r.stdout, r.stdout
    assert lengths(kind, path) == {"g/time": keep, "g/T": keep,
                                   "g/P": keep, "h/e": STEPS}
    ds = open_xr(kind, path, "g")
    assert dict(ds.sizes) == {"time": keep, "x": 8}, dict(ds.sizes)
    steps = np.arange(keep, dtype=np.float64)
    assert (ds["time"].values == steps).all()
    assert (ds["T"].values == steps[:, None] + np.arange(8.)).all()
    assert (ds["P"].values == steps[:, None] * np.arange(8.)).all()
    assert open_xr(kind, path, "h").sizes["e_step"] == STEPS


def test_dimensions_that_disagree_without_a_tear(tmp_path):
    """Arrays that share a dimension but hold other lengths (a coordinate
    recorded by one rank that lagged the others when the run died) are a
    problem verify names, and --repair cuts them to the shortest."""
    path = tmp_path / "s.zarr"
    uri = "zarr+dir:%s" % path
    record_group(uri)
    import zarr
    zarr.open_group(str(path), mode="r+")["g/time"].resize(6)
    r = cli("verify", uri)
    assert r.returncode == 1 and "DIMS  g/T: dimension 'time'" in r.stdout
    r = cli("verify", "--repair", uri)
    assert r.returncode == 0, r.stdout
    assert dict(open_xr("zarr+dir", path, "g").sizes) == {"time": 6, "x": 8}


def test_repair_never_cuts_records_to_a_fixed_axis(tmp_path):
    """g/P's records named 'x', like the fixed axis of g/T (8 long): the
    lengths differ only because the names clash, so --repair cuts
    nothing (NOT REPAIRED, exit 3) and every record stays."""
    path = tmp_path / "s.zarr"
    uri = "zarr+dir:%s" % path
    record_group(uri)
    import zarr
    g = zarr.open_group(str(path), mode="r+")
    g["g/P"].attrs["_ARRAY_DIMENSIONS"] = ["x", "x"]  # axis 0: records
    r = cli("verify", uri)
    assert r.returncode == 1, r.stdout
    assert "cannot make it agree (the dimension names a fixed axis" \
        in r.stdout, r.stdout
    r = cli("verify", "--repair", uri)
    assert r.returncode == 3, r.stdout
    assert lengths("zarr+dir", path) == {"g/time": STEPS, "g/T": STEPS,
                                         "g/P": STEPS, "h/e": STEPS}


def test_export_no_zgroup_says_each_problem_once(tmp_path):
    """A zarr group without .zgroup above two arrays, and a named key that
    is not there: one message each, exit 1, the arrays exported."""
    import zarr
    src = tmp_path / "src"
    g = zarr.open_group(str(src), mode="w")
    g.create_dataset("sub/a", data=np.arange(4.))
    g.create_dataset("sub/b", data=np.arange(4.))
    os.remove(src / "sub" / ".zgroup")
    r = cli("export", "zarr+dir:%s" % src, "zarr+dir:%s" % (tmp_path / "o1"))
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "'sub'" in lines[0], r.stderr
    o1 = zarr.open_group(str(tmp_path / "o1"), mode="r")
    assert (o1["sub/a"][:] == np.arange(4.)).all()
    assert (o1["sub/b"][:] == np.arange(4.)).all()
    r = cli("export", "zarr+dir:%s" % src, "zarr+dir:%s" % (tmp_path / "o2"),
            "nope/deep/key")
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "'nope/deep/key'" in lines[0], r.stderr


@pytest.mark.parametrize("kind", ["zarr+dir", "hdf5"])
def test_export_refuses_what_verify_calls_bad(kind, tmp_path):
    """A torn key and a joined array whose counts do not hold: verify
    calls them TORN and BAD; export copies the other keys, refuses these
    two naming each once, and exits 1."""
    path = path_of(kind, tmp_path)
    uri = "%s:%s" % (kind, path)
    with simrec.Recorder(uri, mode="w", chunk_bytes=64) as rec:
        for s in range(4):
            rec.record_joined("p/xy", np.ones((s + 1, 2)))
            rec.record("p/u", np.full(3, float(s)))
    if kind == "hdf5":
        import h5py
        with h5py.File(path, "r+") as f:
            f["p/xy_count"][3] += 7
            f["p/u"].resize(6, axis=0)  # steps 4-5 never written
    else:
        import zarr
        g = zarr.open_group(str(path), mode="r+")
        g["p/xy_count"][3] += 7
        os.remove(path / "p" / "u" / "1.0")  # steps 2-3
    v = cli("verify", uri)
    assert v.returncode == 1
    assert "BAD   p/xy: a joined array whose counts do not hold" in v.stdout
    assert "TORN  p/u:" in v.stdout, v.stdout
    r = cli("export", uri, "zarr+dir:%s" % (tmp_path / "out"))
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 3, r.stderr
    assert "export of 'p/u' refused: verify calls it TORN" in r.stderr
    assert "export of 'p/xy' refused: verify calls it BAD" in r.stderr
    # the refused rows' counts are not exported alone either
    assert "export of 'p/xy_count' refused: the counts of a joined array" \
        in r.stderr
    import zarr
    out = zarr.open_group(str(tmp_path / "out"), mode="r")
    got = list(out["p"]) if "p" in out else []  # every key of p refused
    assert got == [], got


@pytest.mark.parametrize("kind", ["zarr", "zarr+dir"])
def test_repair_cuts_joined_counts_with_rows(kind, tmp_path):
    """A joined array whose rows are torn in the middle: --repair cuts the
    rows and their companion counts (KEY_count) to the steps whose rows
    stay, so the counts hold and every kept step reads back."""
    path = path_of(kind, tmp_path)
    uri = "%s:%s" % (kind, path)
    with simrec.Recorder(uri, mode="w", chunk_bytes=64) as rec:
        for s in range(6):  # step s: s + 1 rows of 2 float64 (4 a chunk)
            rec.record_joined("p/xy", np.full((s + 1, 2), float(s)))
    import zarr
    store = zarr.LMDBStore(str(path)) if kind == "zarr" else \
        zarr.DirectoryStore(str(path))
    del store["p/xy/3.0"]  # rows 12-15: steps 4 (rows 10-14) and 5 go
    if kind == "zarr":
        store.close()
    r = cli("verify", uri)
    assert r.returncode == 1
    assert "p/xy_count: --repair cuts it to 4 step(s) with 'p/xy'" in \
        r.stdout, r.stdout
    r = cli("verify", "--repair", uri)
    assert r.returncode == 0, r.stdout
    assert "repaired p/xy_count: cut to 4 step(s)" in r.stdout, r.stdout
    with simrec.Recorder(uri, mode="r") as rec:
        J = rec.get_all("p/xy")
        assert len(J) == 4
        for s in range(4):
            assert (J[s] == np.full((s + 1, 2), float(s))).all()


def test_export_stopped_by_undecodable_chunk_keeps_dims(tmp_path):
    """A chunk of g/T whose data does not decode (its header fits, so
    export's check passes it): the copy of g/T stops there with exit 1,
    DST keeps the whole steps before it under g's dimension names, and
    verify of DST names the disagreement (DIMS) instead of calling the
    group ok."""
    path = tmp_path / "s.zarr"
    uri = "zarr+dir:%s" % path
    with simrec.Recorder(uri, mode="w", chunk_bytes=4096) as rec:
        for s in range(8):  # one step per chunk of g/T, compressible
            rec.record("g/time", float(s), dims=["time"])
            rec.record("g/T", np.arange(512.) + s, dims=["time", "x"])
    chunk = path / "g" / "T" / "5.0"
    b = bytearray(chunk.read_bytes())
    b[20:] = b"\xff" * (len(b) - 20)  # the blosc header intact
    chunk.write_bytes(bytes(b))
    out = tmp_path / "out.zarr"
    r = cli("export", uri, "zarr+dir:%s" % out)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "g/T" in r.stderr, r.stderr
    import zarr
    g = zarr.open_group(str(out), mode="r")["g"]
    assert g["T"].shape == (5, 512), g["T"].shape
    assert np.array_equal(g["T"][:], np.arange(512.) + np.arange(5.)[:, None])
    assert g["T"].attrs["_ARRAY_DIMENSIONS"] == ["time", "x"]
    assert g["time"].shape == (8,)
    v = cli("verify", "zarr+dir:%s" % out)
    assert v.returncode != 0, v.stdout
    assert "DIMS" in v.stdout, v.stdout
