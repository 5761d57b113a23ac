"""record_global and record_joined on a serial recorder (no MPI): the one
block is the whole array; the rows of a joined step read back whole."""
import numpy as np
import pytest

import simrec
from conftest import uri_for


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
