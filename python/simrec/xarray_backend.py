"""xarray's engine "simrec": xr.open_dataset on any simrec store.

Registered as an xarray backend (the ``xarray.backends`` entry point in
the ``simrec.dist-info`` beside this package), so that

    xr.open_dataset("run.zarr", group="g")           # LMDB store: data.mdb
    xr.open_dataset("redis://host:6379?prefix=run", engine="simrec")

give what simrec reads: every dataset of the group with its dimension
names (``_ARRAY_DIMENSIONS``), its attributes (CF ``units``,
``long_name``...), its dtype, and no value masked or scaled (simrec
writes no fill value a reader could apply). A 1-d dataset named like its
dimension is that dimension's coordinate. Values are read lazily: a
slice reads only the hyperslab it covers, and ``chunks={}`` gives dask
arrays of the store's chunks.

guess_can_open claims what no other engine opens: a directory holding
``data.mdb`` (simrec's default ``zarr:`` store, LMDB) and a string with
simrec's own scheme. xarray asks its netCDF engines first, and netcdf4
claims every string holding "://": a redis URI needs
``engine="simrec"``. With ``engine="simrec"`` a directory store
(``.zgroup``) and an HDF5 file open too, by their paths (a string with a
scheme other than redis's takes no ``chunks=``: xarray then looks for a
file of that name).
"""
import os
import threading

import numpy as np
from xarray.backends import BackendArray, BackendEntrypoint
from xarray.core import indexing
import xarray as xr

from .errors import masked
from .recorder import Recorder, lib

_SCHEMES = ("zarr:", "zarr+dir:", "hdf5:", "redis://", "rediss://")
_HIDDEN = ("_ARRAY_DIMENSIONS",)


def _is_lmdb_dir(path):
    return os.path.isdir(path) and os.path.isfile(
        os.path.join(path, "data.mdb"))


def _spec(spec):
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    return spec if isinstance(spec, str) else None


def uri_of(spec):
    """The simrec URI of what only simrec opens (an LMDB directory, a
    redis URI, a string with simrec's scheme), else None."""
    spec = _spec(spec)
    if spec is None:
        return None
    if spec.startswith(_SCHEMES):
        return spec
    if _is_lmdb_dir(spec):
        return "zarr:" + spec
    return None


def _any_uri(spec):
    """The simrec URI of any store's path (engine="simrec" given): a
    directory of zarr's (.zgroup) or an HDF5 file too."""
    uri = uri_of(spec)
    if uri is not None:
        return uri
    path = _spec(spec)
    if path is None:
        raise TypeError(masked("engine simrec: a path or a simrec URI, "
                               "not %r" % (spec,)))
    if "://" in path:  # a URI (REDIS://...): the library names it, masked
        return path
    if os.path.isfile(os.path.join(path, ".zgroup")):
        return "zarr+dir:" + path
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise type(e)(e.errno, masked("engine simrec: %s: %r"
                                      % (e.strerror, path))) from None
    if head == b"\x89HDF\r\n\x1a\n":
        return "hdf5:" + path
    raise ValueError(masked("engine simrec: no simrec store (no data.mdb, "
                            ".zgroup or HDF5 signature): %r" % path))


class _Array(BackendArray):
    """One simrec dataset, read lazily (one lock per opened store)."""

    def __init__(self, ds, lock):
        self._ds = ds
        self._lock = lock
        self.shape = ds.shape
        self.dtype = np.dtype(ds.dtype)

    def __getitem__(self, key):
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._raw)

    def _raw(self, key):
        with self._lock:
            return np.asarray(self._ds[key])


def _names(rec, key, ndim):
    try:
        got = rec.attributes(key)["_ARRAY_DIMENSIONS"]
    except Exception:  # a store that keeps them otherwise: defaults
        got = None
    if got is None or len(got) != ndim:
        leaf = key.rsplit("/", 1)[-1]
        return tuple("%s_dim_%d" % (leaf, i) for i in range(ndim))
    return tuple(got)


def _attrs(rec, key):
    at = rec.attributes(key)
    return {n: at[n] for n in at.keys()
            if n not in _HIDDEN and not n.startswith("_simrec")}


def _variable(rec, key, lock):
    ds = rec._open(lib.simrec_get_all, key)  # a joined array's rows too
    dims = _names(rec, key, ds.ndim)
    attrs = _attrs(rec, key)
    if ds.is_bytes:  # text and bytes: items, read now
        data = np.empty(ds.shape, dtype=object)
        data[...] = ds[...] if ds.ndim else ds[()]
        return xr.Variable(dims, data, attrs)
    data = indexing.LazilyIndexedArray(_Array(ds, lock))
    enc = {"dtype": np.dtype(ds.dtype)}
    chunks = ds.chunks
    if chunks:
        enc["preferred_chunks"] = dict(zip(dims, chunks))
        enc["chunks"] = tuple(chunks)
    return xr.Variable(dims, data, attrs, encoding=enc)


def open_simrec(spec, group=None, drop_variables=None):
    """The group of the store at spec as an xarray.Dataset."""
    rec = Recorder(_any_uri(spec), mode="r")
    try:
        prefix = (group or "").strip("/")
        lock = threading.Lock()
        drop = set(drop_variables or ())
        out = {}
        for key in rec.keys(prefix):
            leaf = key[len(prefix) + 1:] if prefix else key
            if "/" in leaf or leaf in drop:
                continue
            out[leaf] = _variable(rec, key, lock)
        ds = xr.Dataset(out, attrs=_attrs(rec, prefix))
    except Exception:
        rec.close()
        raise
    ds.set_close(rec.close)
    return ds


class SimrecBackendEntrypoint(BackendEntrypoint):
    """xarray's engine "simrec" (see the module's doc)."""

    description = "simrec stores: zarr in LMDB (data.mdb), redis, any URI"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "group")

    def open_dataset(self, filename_or_obj, *, drop_variables=None,
                     group=None):
        return open_simrec(filename_or_obj, group=group,
                           drop_variables=drop_variables)

    def guess_can_open(self, filename_or_obj):
        return uri_of(filename_or_obj) is not None
