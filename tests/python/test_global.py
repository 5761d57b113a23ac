"""record_global and record_joined on a serial recorder (no MPI): the one
block is the whole array; the rows of a joined step read back whole."""
import numpy as np
import pytest

import simrec
from conftest import program, uri_for


def test_global_whole_array(roundtrip):
    rt = roundtrip()
    a = np.arange(4 * 6, dtype=np.float32).reshape(4, 6)
    with rt.write() as rec:
        for s in range(3):
            rec.record_global("f/T", a + s, start=(0, 0), global_shape=(4, 6))
        rec.record_global("f/U", np.arange(5, dtype=np.int16))  # defaults
    with rt.reader() as rec:
        T = rec.get_all("f/T")
        assert T.shape == (3, 4, 6) and T.dtype == np.float32
        want = np.stack([a + s for s in range(3)])
        assert np.array_equal(np.asarray(T), want)
        assert np.array_equal(T[1:, ::2, -1], want[1:, ::2, -1])
        assert np.array_equal(rec.get_all("f/U")[:], [np.arange(5)])


def test_global_partial_block_refused(scheme, tmp_path):
    with simrec.Recorder(uri_for(scheme, tmp_path), mode="w") as rec:
        with pytest.raises(simrec.Error):
            rec.record_global("f/T", np.ones((2, 3)), start=(1, 0),
                              global_shape=(4, 3))
        assert "f/T" not in rec


def test_global_arguments(tmp_path):
    with simrec.Recorder("memory:", mode="w") as rec:
        with pytest.raises(ValueError, match="start"):
            rec.record_global("k", np.ones(3), start=(0, 0),
                              global_shape=(3,))
        with pytest.raises(ValueError, match="negative"):
            rec.record_global("k", np.ones(3), start=(-1,),
                              global_shape=(3,))
        with pytest.raises(ValueError, match="at least one dimension"):
            rec.record_global("k", 1.5)
        with pytest.raises(TypeError):
            rec.record_global("k", np.array(["a"]), global_shape=(1,))
        with pytest.raises(ValueError, match="one element"):
            rec.global_fill("k", np.zeros(2))
        rec.global_fill("k", 0.0)
        assert "k" not in rec


def rows(step):
    n = (0, 3, 1, 0, 5)[step]
    return (np.arange(n * 2, dtype=np.int32).reshape(n, 2) + 100 * step)


def test_joined_steps(roundtrip):
    rt = roundtrip()
    with rt.write() as rec:
        for s in range(5):
            rec.record_joined("p/xy", rows(s))
        rec.record("p/plain", np.arange(3))
    with rt.reader() as rec:
        J = rec.get_all("p/xy")
        assert isinstance(J, simrec.JoinedDataset)
        assert len(J) == 5 and J.dtype == np.int32 and J.row_shape == (2,)
        assert list(J.counts) == [0, 3, 1, 0, 5]
        for s in range(5):
            assert J[s].shape == (len(rows(s)), 2)
            assert np.array_equal(J[s], rows(s))
        assert np.array_equal(J[-1], rows(4))
        assert [len(x) for x in J[1::2]] == [3, 0]
        assert [len(x) for x in J] == [0, 3, 1, 0, 5]
        assert np.array_equal(np.asarray(J.rows),
                              np.concatenate([rows(s) for s in range(5)]))
        with pytest.raises(IndexError):
            J[5]
        with pytest.raises(IndexError):
            J[0, 1]
        assert isinstance(rec.get_all("p/plain"), simrec.Dataset)
        J.close()


def test_joined_arguments():
    with simrec.Recorder("memory:", mode="w") as rec:
        with pytest.raises(ValueError, match="at least one dimension"):
            rec.record_joined("k", 2.0)
        rec.record_joined("k", np.ones((2, 3)))
        with pytest.raises(simrec.ShapeError):
            rec.record_joined("k", np.ones((2, 4)))
        assert len(rec.get_all("k")) == 1


def test_plain_key_beside_a_count_is_not_joined(scheme, tmp_path):
    with simrec.Recorder(uri_for(scheme, tmp_path), mode="w") as rec:
        for s in range(3):
            rec.record("n", float(s))
            rec.record("n_count", s)
        rec.record_joined("p", np.ones((2, 3)))
        n = rec.get_all("n")
        assert isinstance(n, simrec.Dataset) and n.shape == (3,)
        assert isinstance(rec.get_all("p"), simrec.JoinedDataset)


@pytest.mark.parametrize("how", ["negative", "huge", "past_rows", "no_count",
                                 "float_count"])
@pytest.mark.parametrize("kind", ["zarr+dir", "hdf5"])
def test_joined_corrupt_counts(kind, how, tmp_path):
    """Counts a hostile store claims (negative, 2^62, summing past the
    rows, missing, of another dtype) are a clear simrec error in Python and
    a BAD line and a failure in `simrec verify`: never a huge allocation,
    never the rows read as a plain dataset."""
    import subprocess
    path = tmp_path / ("s.zarr" if kind == "zarr+dir" else "s.h5")
    uri = "%s:%s" % (kind, path)
    with simrec.Recorder(uri, mode="w") as rec:
        for s in range(4):
            rec.record_joined("p/xy", rows(s + 1))
    if kind == "hdf5":
        import h5py
        f = h5py.File(path, "r+")
        g = f["p"]
    else:
        import zarr
        f = None
        g = zarr.open_group(str(path), mode="r+")["p"]
    c = g["xy_count"]
    if how == "negative":
        c[2] = -1
    elif how == "huge":
        c[2] = 2 ** 62
    elif how == "past_rows":
        c[3] = int(c[3]) + 7
    elif how == "no_count":
        del g["xy_count"]
    else:
        del g["xy_count"]
        g.create_dataset("xy_count", data=np.ones(4, dtype=np.float64))
    if f is not None:
        f.close()
    with simrec.Recorder(uri, mode="r") as rec:
        with pytest.raises((simrec.FormatError, simrec.KindError,
                            simrec.NoKeyError)):
            J = rec.get_all("p/xy")
            J[3]
            J[2]
    cli = program("SIMREC_CLI")
    r = subprocess.run([cli, "verify", uri], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0, r.stdout
    assert "p/xy" in r.stdout and "BAD" in r.stdout, r.stdout
    # export refuses what verify calls BAD, naming the key (one judgement)
    e = subprocess.run([cli, "export", uri, "zarr+dir:%s" % (tmp_path / "o")],
                       capture_output=True, text=True, timeout=60)
    assert e.returncode == 1, e.stdout
    assert "export of 'p/xy' refused: verify calls it BAD" in e.stderr, \
        e.stderr
    # --repair says "repaired" (exit 0) only for what a new check finds
    # whole; what it cannot repair is NOT REPAIRED, exit 3
    fix = subprocess.run([cli, "verify", "--repair", uri],
                         capture_output=True, text=True, timeout=60)
    again = subprocess.run([cli, "verify", uri], capture_output=True,
                           text=True, timeout=60)
    if fix.returncode == 0:
        assert again.returncode == 0, fix.stdout + again.stdout
    else:
        assert fix.returncode == 3, fix.stdout + fix.stderr
        assert "NOT REPAIRED" in fix.stdout or \
            "REPAIR FAILED" in fix.stdout, fix.stdout
        assert again.returncode == 1, again.stdout
    if how == "negative":  # no steps to cut away can mend a count
        assert fix.returncode == 3, fix.stdout


@pytest.mark.parametrize("kind", ["zarr+dir", "hdf5"])
def test_joined_rows_past_counts_cut(kind, tmp_path):
    """Rows a crash left past the counts (written, count not stored) are
    cut away when the key is next recorded: the next step reads its own
    rows, not the leftovers."""
    path = tmp_path / ("s.zarr" if kind == "zarr+dir" else "s.h5")
    uri = "%s:%s" % (kind, path)
    with simrec.Recorder(uri, mode="w") as rec:
        for s in range(3):
            rec.record_joined("p/xy", rows(s + 1))
    junk = np.full((4, 2), -7, dtype=np.int32)
    if kind == "hdf5":
        import h5py
        with h5py.File(path, "r+") as f:
            d = f["p/xy"]
            n = d.shape[0]
            d.resize(n + 4, axis=0)
            d[n:] = junk
    else:
        import zarr
        zarr.open_group(str(path), mode="r+")["p/xy"].append(junk)
    with simrec.Recorder(uri, mode="a") as rec:
        rec.record_joined("p/xy", rows(4))
    with simrec.Recorder(uri, mode="r") as rec:
        J = rec.get_all("p/xy")
        assert [len(x) for x in J] == [len(rows(s + 1)) for s in range(4)]
        for s in range(4):
            assert np.array_equal(J[s], rows(s + 1))
        assert J.rows.shape[0] == sum(len(rows(s + 1)) for s in range(4))
