#!/usr/bin/python3
"""heat/T of heat2d stores written at different rank counts, read with
zarr-python and h5py alone (no simrec code): the same shape and bytes in
each, and the mean of each snapshot equal to heat/mean as recorded.
check_heat_ranks.py URI..."""
import sys

import numpy as np


def open_root(uri):
    scheme, path = uri.split(":", 1)
    if scheme == "hdf5":
        import h5py
        return h5py.File(path, "r")
    import zarr
    store = zarr.LMDBStore(path, readonly=True, lock=False) \
        if scheme == "zarr" else zarr.DirectoryStore(path)
    return zarr.open_group(store=store, mode="r")


def main(uris):
    first = None
    for uri in uris:
        root = open_root(uri)
        T, mean = root["heat/T"][...], root["heat/mean"][...]
        ny, nx = int(root["heat"].attrs["ny"]), int(root["heat"].attrs["nx"])
        assert T.dtype == np.float64 and T.shape[1:] == (ny, nx), (uri, T.shape)
        assert mean.shape == T.shape[:1], (uri, mean.shape)
        diff = np.max(np.abs(T.mean(axis=(1, 2)) - mean))
        assert diff <= 1e-12, (uri, diff)
        if first is None:
            first = (uri, T)
        else:
            assert T.shape == first[1].shape, (uri, T.shape, first[1].shape)
            assert T.tobytes() == first[1].tobytes(), (
                "heat/T of %s and %s differ" % (first[0], uri))
        print("%s: heat/T %s, mean = heat/mean to %.3g" % (uri, T.shape, diff))
    print("check_heat_ranks: %d stores agree" % len(uris))


main(sys.argv[1:])
