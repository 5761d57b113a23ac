"""Slicing a Dataset gives numpy's result on the full array."""
import numpy as np
import pytest

import simrec
from conftest import uri_for

SHAPE = (13, 4, 7, 5)


@pytest.fixture(scope="module", params=["memory", "zarr", "hdf5"])
def stored(request, tmp_path_factory):
    full = np.arange(np.prod(SHAPE), dtype=np.int32).reshape(SHAPE)
    uri = uri_for(request.param, tmp_path_factory.mktemp(request.param))
    rec = simrec.Recorder(uri, mode="w", chunk_bytes=512)
    for r in full:
        rec.record("a", r)
    rec.flush()
    yield rec.get_all("a"), full
    rec.close()


def random_index(rng, shape):
    items = []
    for n in shape:
        kind = rng.integers(0, 5)
        if kind == 0:
            items.append(int(rng.integers(-n, n)))
        elif kind == 1:
            items.append(slice(None))
        else:
            def bound():
                return None if rng.random() < 0.25 else int(
                    rng.integers(-n - 2, n + 3))
            step = None if rng.random() < 0.3 else int(
                rng.choice([-3, -2, -1, 1, 2, 3, 5]))
            items.append(slice(bound(), bound(), step))
    # drop some trailing items, replace a run by ..., add a None
    cut = int(rng.integers(0, len(items) + 1))
    items = items[:cut] if rng.random() < 0.3 else items
    if items and rng.random() < 0.3:
        i = int(rng.integers(0, len(items)))
        j = int(rng.integers(i, len(items) + 1))
        items = items[:i] + [Ellipsis] + items[j:]
    if rng.random() < 0.15:
        items.insert(int(rng.integers(0, len(items) + 1)), None)
    return tuple(items) if rng.random() < 0.9 or len(items) != 1 else items[0]


def test_random_slices_equal_numpy(stored):
    ds, full = stored
    assert ds.shape == full.shape and ds.dtype == full.dtype
    rng = np.random.default_rng(12345)
    for _ in range(600):
        idx = random_index(rng, SHAPE)
        try:
            want = full[idx]
        except IndexError:
            with pytest.raises(IndexError):
                ds[idx]
            continue
        got = ds[idx]
        assert type(got) is type(want), idx
        assert np.shape(got) == np.shape(want), idx
        np.testing.assert_array_equal(got, want, err_msg=repr(idx))


@pytest.mark.parametrize("idx", [
    (), Ellipsis, 0, -1, (-1, 0), (slice(None, None, -1),),
    (slice(2, 11, 4), Ellipsis, 1), (Ellipsis, slice(None, None, -2)),
    (slice(5, 5),), (slice(None), 3, slice(1, 6, 2), -2),
    (0, 0, 0, 0), (0, Ellipsis, 0), (None, 1), (slice(100, None),),
])
def test_listed_slices(stored, idx):
    ds, full = stored
    want, got = full[idx], ds[idx]
    assert type(got) is type(want)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("idx", [13, -14, (0, 4), (0, 0, 0, 0, 0),
                                 (Ellipsis, Ellipsis), "a", 1.5])
def test_bad_indices(stored, idx):
    ds, full = stored
    with pytest.raises((IndexError, TypeError)):
        full[idx]
    with pytest.raises((IndexError, TypeError)):
        ds[idx]


def test_index_arrays_are_refused(stored):
    ds, _ = stored
    with pytest.raises(IndexError):
        ds[[1, 2]]
    with pytest.raises(IndexError):
        ds[np.array([True] * 13)]


def test_zero_d_dataset(tmp_path):
    with simrec.Recorder("memory:") as rec:
        rec.set("v", np.float64(2.5))
        ds = rec.get_all("v")
        assert ds.shape == () and ds.ndim == 0
        assert ds[()] == 2.5 and type(ds[()]) is np.float64
        assert ds[...].shape == () and float(np.asarray(ds)) == 2.5
        with pytest.raises(TypeError):
            len(ds)
        with pytest.raises(IndexError):
            ds[0]


def test_stepped_read_touches_only_selected_rows(tmp_path):
    # large steps: one hyperslab per selected row rather than the box
    with simrec.Recorder("memory:") as rec:
        for i in range(1000):
            rec.record("r", np.full(3, i, dtype=np.int16))
        ds = rec.get_all("r")
        np.testing.assert_array_equal(ds[::250, 0], [0, 250, 500, 750])
        np.testing.assert_array_equal(ds[::-333, 1], [999, 666, 333, 0])
        np.testing.assert_array_equal(np.asarray(ds, dtype=np.float32)[-1],
                                      [999.0] * 3)
