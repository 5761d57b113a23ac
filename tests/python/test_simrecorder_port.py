"""A SimRecorder-style script ported line by line (the SimRecorder line in
the comment above each simrec line), as docs/python.md describes."""
import numpy as np

import simrec
from conftest import uri_for


def test_ported_script(tmp_path):
    n_steps, n_neurons = 50, 20
    rng = np.random.default_rng(1)
    weights = rng.standard_normal((n_neurons, n_neurons)).astype(np.float32)
    h5 = uri_for("hdf5", tmp_path, "data")
    zr = uri_for("zarr", tmp_path, "data")

    # from simrecorder import Recorder, InMemoryDataStore, HDF5DataStore
    from simrec import Recorder
    # in_memory_datastore = InMemoryDataStore()
    in_memory_datastore = "memory:"
    # hdf5_datastore = HDF5DataStore('data.h5')
    hdf5_datastore = h5
    # zarr_datastore = ZarrDataStore('data.mdb')
    zarr_datastore = zr
    # recorder = Recorder(in_memory_datastore, hdf5_datastore, zarr_datastore)
    recorder = Recorder(in_memory_datastore, hdf5_datastore, zarr_datastore)
    # recorder.set('network/weights', weights)
    recorder.set('network/weights', weights)
    # recorder.set('config', {'dt': 0.1, 'name': 'run1'})   (a pickle)
    recorder.attrs.update({'dt': 0.1, 'name': 'run1'})
    v = np.zeros(n_neurons)
    for step in range(n_steps):
        v = 0.9 * v + rng.standard_normal(n_neurons)
        spikes = v > 1.0
        # recorder.record('neurons/v', v)
        recorder.record('neurons/v', v)
        # recorder.record('neurons/spikes', spikes)
        recorder.record('neurons/spikes', spikes)
        # recorder.record('time', step * 0.1)
        recorder.record('time', step * 0.1)
        # recorder.record('events', {'step': step})   (a pickle)
        recorder.record('events', '{"step": %d}' % step)
    # vs = recorder.get_all('neurons/v')   (a list, or an h5py/zarr array)
    vs = recorder.get_all('neurons/v')
    # vs[-1]
    last_v = vs[-1]
    # recorder.get('network/weights')
    w = recorder.get('network/weights')
    np.testing.assert_array_equal(np.asarray(w), weights)
    np.testing.assert_array_equal(last_v, v)
    assert vs.shape == (n_steps, n_neurons)
    # recorder.close()
    recorder.close()

    # later, in another script: the same calls read the files back
    for store in (hdf5_datastore, zarr_datastore):
        recorder = Recorder(store, mode="r")
        vs = recorder.get_all('neurons/v')
        assert vs.shape == (n_steps, n_neurons)
        np.testing.assert_array_equal(vs[-1], v)
        sp = recorder.get_all('neurons/spikes')
        assert sp.dtype == np.bool_
        np.testing.assert_array_equal(np.asarray(sp)[-1], v > 1.0)
        t = recorder.get_all('time')[:]
        np.testing.assert_allclose(t, np.arange(n_steps) * 0.1)
        assert recorder.get_all('events')[7] == '{"step": 7}'
        assert recorder.attrs['name'] == 'run1'
        assert recorder.attrs['dt'] == 0.1
        recorder.close()


def test_read_a_simrecorder_zarr_store(tmp_path):
    """A store as SimRecorder's ZarrDataStore writes it (zarr-python, LMDB,
    blosc blosclz level 9 bitshuffle, chunks (1, *shape)) reads with simrec."""
    import pytest
    zarr = pytest.importorskip("zarr")
    from numcodecs import Blosc
    path = str(tmp_path / "simrecorder.mdb")
    store = zarr.LMDBStore(path)
    g = zarr.group(store=store, overwrite=True)
    comp = Blosc(cname="blosclz", clevel=9, shuffle=Blosc.BITSHUFFLE)
    first = np.arange(12, dtype=np.float32).reshape(3, 4)
    d = g.create_dataset("a/b", data=first[None, ...], compressor=comp,
                         chunks=(1, 3, 4))
    for i in range(1, 5):  # SimRecorder's append: resize, write the last row
        d.resize(d.shape[0] + 1, *d.shape[1:])
        d[-1, ...] = first + i
    store.close()
    with simrec.Recorder("zarr:" + path, mode="r") as rec:
        ds = rec.get_all("a/b")
        assert ds.shape == (5, 3, 4) and ds.dtype == np.float32
        np.testing.assert_array_equal(ds[:, 1, 2], first[1, 2] + np.arange(5))
