"""Read heat2d's store (written from C under mpiexec) with the Python
package and check it against zarr-python: python_read_heat.py PATH"""
import sys

import numpy as np
import zarr

import simrec

path = sys.argv[1]
with simrec.Recorder("zarr:" + path, mode="r") as rec:
    T = rec.get_all("heat/T")
    g = zarr.open_group(store=zarr.LMDBStore(path, readonly=True, lock=False),
                        mode="r")
    a = rec.attributes("heat")
    assert T.shape == (T.shape[0], a["ny"], a["nx"]), T.shape
    assert T.shape == g["heat/T"].shape and T.dtype == g["heat/T"].dtype
    np.testing.assert_array_equal(np.asarray(T), g["heat/T"][:])
    np.testing.assert_array_equal(T[-1, 1::3, -5:], g["heat/T"][-1, 1::3, -5:])
    np.testing.assert_array_equal(T[:, 7, ::-2], g["heat/T"][:, 7][:, ::-2])
    assert a["nx"] == g["heat"].attrs["nx"]
    assert a["alpha"] == g["heat"].attrs["alpha"]
    mean = rec.get_all("heat/mean")
    assert len(mean) == T.shape[0]
    np.testing.assert_allclose(np.asarray(T).mean(axis=(1, 2)),
                               np.asarray(mean), rtol=0, atol=1e-12)
print("python heat check: ok")
