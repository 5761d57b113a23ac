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
    assert T.shape == g["heat/T"].shape and T.dtype == g["heat/T"].dtype
    np.testing.assert_array_equal(np.asarray(T), g["heat/T"][:])
    np.testing.assert_array_equal(T[-1, 1, ::3, -5:], g["heat/T"][-1, 1, ::3, -5:])
    assert rec.attributes("heat")["nx"] == g["heat"].attrs["nx"]
    assert rec.attributes("heat")["alpha"] == g["heat"].attrs["alpha"]
    mean = rec.get_all("heat/mean")
    assert len(mean) == T.shape[0]
print("python heat check: ok")
