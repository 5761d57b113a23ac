"""Self-describing output, under mpiexec -n N:
python_selfdesc.py SCHEME TMPDIR STEPS CLI

Every record kind (record, record_all, record_global, record_joined, set)
with named and default dimensions, a coordinate ("g/time", dimension
"time") and values that a careless reader would change (zeros, NaN,
integer extremes). Rank 0 reads everything back with simrec, then with
the readers scientists use: xarray.open_zarr (directory, and LMDB through
zarr.LMDBStore) and dask.array.from_zarr for zarr stores;
xarray.open_dataset with the h5netcdf and netcdf4 engines (warnings are
errors) and ncdump -h for hdf5. Each reader must name the dimensions as
simrec wrote them, keep every dtype, show the coordinate, and return the
values simrec reads, bit for bit. memory and redis (no third-party
reader) are checked through the _ARRAY_DIMENSIONS attribute. Every
store but memory is read by xarray's engine "simrec" too (guessed, with
no engine argument, for an LMDB directory and a redis URI), and
exported by `simrec export` (argument CLI) to hdf5, zarr and zarr+dir,
each copy read by every reader again. Every
store but memory is then opened again (mode "a") and a new key of an
earlier run's group and dimensions is recorded ("f/U"): it must join them
(parallel HDF5 writers attach it to the earlier run's scales). Under
SIMREC_WRITERS=N, hdf5 is written by N parallel HDF5 writers. Exit 0 on
success."""
import os
import subprocess
import sys
import warnings

import numpy as np
from mpi4py import MPI

import mpi_abort
import simrec

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()


mpi_abort.install()

scheme, tmp = sys.argv[1], sys.argv[2]
STEPS = 3
GSHAPE = (5, 4)
I64 = np.array([0, np.iinfo(np.int64).min, np.iinfo(np.int64).max], np.int64)
F32 = np.array([[0.0, np.nan], [-0.0, 1.5]], np.float32)
U16 = np.array([0, 65535, 0], np.uint16)

# dims each key must show: (group, leaf) -> names
EXPECT = {
    ("g", "time"): ("time",),
    ("g", "a"): ("time", "x"),
    ("g", "b"): ("b_step", "b_dim_1", "b_dim_2"),
    ("g", "c"): ("time", "pair"),  # recorded by the last rank (deferred)
    ("r", "e"): ("e_step", "rank", "e_dim_2"),
    ("f", "T"): ("t", "y", "x"),
    ("f", "t"): ("t",),  # a coordinate recorded after the key using it
    ("p", "x"): ("x_sample", "x_dim_1"),
    ("p", "x_count"): ("x_step",),
    ("cfg", "grid"): ("grid_dim_0",),
}
# recorded by the second run (append), in the first run's dimensions
APPENDED = {("f", "U"): ("t", "y", "x")}
# CF attributes set on datasets of every record kind: each reader shows
# them on the variable unchanged
CF = {
    "g/time": ("s", "simulated time"),
    "g/a": ("1", "integer extremes"),
    "r/e": ("K", "rank and zero"),
    "f/T": ("degC", "temperature"),
    "p/x": ("m", "particle positions"),
    "cfg/grid": ("1", "grid size"),
}


def uri_of():
    if scheme == "memory":
        return "memory:"
    if scheme == "redis":
        return "redis://%s?prefix=selfdesc-np%d" % (
            os.environ["SIMREC_REDIS_HOST"], size)
    ext = ".h5" if scheme == "hdf5" else ".zarr"
    w = os.environ.get("SIMREC_WRITERS")
    return "%s:%s/selfdesc-%s-np%d%s%s" % (scheme, tmp, scheme.replace(
        "+", "_"), size, "-w" + w if w else "", ext)


def rows_of(step):
    n = (rank + step) % 3
    return np.arange(n * 2, dtype=np.float64).reshape(n, 2) + 100 * rank


def record_steps(rec):
    r0, nr = rank * GSHAPE[0] // size, (rank + 1) * GSHAPE[0] // size
    for s in range(STEPS):
        if rank == 0:  # record and set are independent: one rank's
            rec.record("g/time", np.float64(0.5 * s), dims=["time"])
            rec.record("g/a", I64, dims=["time", "x"])
            rec.record("g/b", F32)
        if rank == size - 1:  # not a writer at np > 1 with one writer:
            # its names travel with its deferred records
            rec.record("g/c", U16[:2] - s, dims=["time", "pair"])
        rec.record_all("r/e", np.array([rank, 0.0]))
        full = np.arange(20, dtype=np.int32).reshape(GSHAPE) * (s - 1)
        rec.record_global("f/T", np.ascontiguousarray(full[r0:nr]),
                          start=(r0, 0), global_shape=GSHAPE,
                          dims=["t", "y", "x"])
        if rank == 0:
            rec.record("f/t", np.float32(s), dims=["t"])
        rec.record_joined("p/x", rows_of(s))
    if rank == 0:
        rec.set("cfg/grid", U16)
        for key, (units, long_name) in CF.items():
            at = rec.attributes(key)
            at["units"] = units
            at["long_name"] = long_name


def append_run(uri):
    """A second run: a new global array in the first run's dimensions."""
    r0, nr = rank * GSHAPE[0] // size, (rank + 1) * GSHAPE[0] // size
    with simrec.Recorder(uri, mode="a", comm=comm) as rec:
        for s in range(STEPS):
            full = np.arange(20, dtype=np.int16).reshape(GSHAPE) - 10 * s
            rec.record_global("f/U", np.ascontiguousarray(full[r0:nr]),
                              start=(r0, 0), global_shape=GSHAPE,
                              dims=["t", "y", "x"])
    if rank == 0:
        with simrec.Recorder(uri, mode="r") as rec:
            got = rec.get_all("f/U")[...]
        want = np.stack([np.arange(20, dtype=np.int16).reshape(GSHAPE) -
                         10 * s for s in range(STEPS)])
        check_equal("simrec", "f/U", got, want)
        EXPECT.update(APPENDED)
        return want
    return None


def simrec_values(rec):
    """Every key as simrec reads it (and its _ARRAY_DIMENSIONS where the
    store keeps it as an attribute)."""
    out = {}
    for (g, leaf) in EXPECT:
        key = "%s/%s" % (g, leaf)
        d = rec.get_all(key)
        # a joined array's rows (an export holds them as a plain key)
        out[key] = getattr(d, "rows", d)[...]
    return out


def check_equal(what, key, got, want):
    got = np.asarray(got)
    assert got.dtype == want.dtype, (what, key, got.dtype, want.dtype)
    assert got.shape == want.shape, (what, key, got.shape, want.shape)
    assert got.tobytes() == want.tobytes(), (what, key, got, want)


def check_attrs(rec):
    for key, (units, long_name) in CF.items():
        at = rec.attributes(key)
        assert (at["units"], at["long_name"]) == (units, long_name), key
    for (g, leaf), names in EXPECT.items():
        key = "%s/%s" % (g, leaf)
        got = rec.attributes(key)["_ARRAY_DIMENSIONS"]
        assert tuple(got) == names, (key, got, names)


def check_xarray(opened, values, what):
    """opened(group) -> xarray.Dataset."""
    for g in sorted({g for g, _ in EXPECT}):
        ds = opened(g)
        for (gg, leaf), names in EXPECT.items():
            if gg != g:
                continue
            v = ds[leaf]
            assert v.dims == names, (what, g, leaf, v.dims, names)
            check_equal(what, g + "/" + leaf, v.values,
                        values[g + "/" + leaf])
            cf = CF.get(g + "/" + leaf)
            if cf:
                got = (v.attrs.get("units"), v.attrs.get("long_name"))
                assert got == cf, (what, g, leaf, got, cf)
        coord = {"g": "time", "f": "t"}.get(g)
        if coord:
            assert coord in ds.coords, (what, g, list(ds.coords))
        ds.close()


def check_zarr(path, values, kind):
    import dask.array as da
    import xarray as xr
    import zarr
    store = zarr.LMDBStore(path, readonly=True, lock=False) \
        if kind == "zarr" else path
    check_xarray(lambda g: xr.open_zarr(store, group=g, consolidated=False),
                 values, "xarray.open_zarr")
    for key, want in values.items():
        check_equal("dask.array.from_zarr", key,
                    da.from_zarr(store, component=key).compute(), want)
    if kind == "zarr":
        store.close()
        # the LMDBStore as a user opens it
        store = zarr.LMDBStore(path, readonly=True)
        check_xarray(lambda g: xr.open_zarr(store, group=g), values,
                     "xarray.open_zarr(LMDBStore(readonly=True))")
        store.close()


def check_engine(spec, values, engine):
    """xarray's engine "simrec" (guessed when engine is None). Lazy: a
    slice first, then dask."""
    import xarray as xr
    with warnings.catch_warnings():
        # the netCDF engines, asked first, fail on a directory or a URI
        # (xarray warns while guessing): only engine=None
        warnings.simplefilter("ignore" if engine is None else "error")
        check_xarray(lambda g: xr.open_dataset(spec, group=g, engine=engine),
                     values, "xarray engine=%s" % engine)
        with xr.open_dataset(spec, group="f", engine=engine,
                             chunks={}) as ds:
            assert ds["T"].chunks is not None, ds["T"]
            check_equal("engine slice", "f/T", ds["T"][1:, ::2].values,
                        values["f/T"][1:, ::2])
            check_equal("engine dask", "f/T", ds["T"].data.compute(),
                        values["f/T"])


def check_exports(uri, values):
    """simrec export of the store to every file store: dimension names,
    coordinates, CF attributes and values arrive."""
    cli = sys.argv[4]
    base = os.path.basename(uri.split("?")[0].rstrip("/")) or "redis"
    if scheme == "redis":
        base = "redis-np%d" % size
    for dst in ("hdf5", "zarr", "zarr+dir"):
        ext = ".h5" if dst == "hdf5" else ".zarr"
        path = "%s/export-%s-to-%s%s" % (tmp, base, dst.replace("+", "_"),
                                          ext)
        subprocess.run(["rm", "-rf", path], check=True)
        subprocess.run([cli, "export", uri, "%s:%s" % (dst, path)],
                       check=True, stdout=subprocess.DEVNULL)
        with simrec.Recorder("%s:%s" % (dst, path), mode="r") as rec:
            got = simrec_values(rec)
            for key, want in values.items():
                check_equal("export to " + dst, key, got[key], want)
            check_attrs(rec)
        if dst == "hdf5":
            check_hdf5(path, values)
        else:
            check_zarr(path, values, dst)


def check_hdf5(path, values):
    import xarray as xr
    import h5netcdf  # noqa: F401
    import netCDF4  # noqa: F401 (its import warns about numpy's ABI)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for eng in ("h5netcdf", "netcdf4"):
            check_xarray(lambda g: xr.open_dataset(path, group=g,
                                                   engine=eng),
                         values, "xarray engine=" + eng)
    head = subprocess.run(["ncdump", "-h", path], check=True,
                          capture_output=True, text=True).stdout
    for (g, leaf), names in EXPECT.items():
        decl = "%s(%s)" % (leaf, ", ".join(names))
        assert decl in head, ("ncdump -h", decl, head)
    for key, (units, long_name) in CF.items():
        leaf = key.split("/")[1]
        for line in ('%s:units = "%s" ;' % (leaf, units),
                     '%s:long_name = "%s" ;' % (leaf, long_name)):
            assert line in head, ("ncdump -h", line, head)
    assert "phony" not in head, head


def main():
    uri = uri_of()
    with simrec.Recorder(uri, mode="w", comm=comm) as rec:
        record_steps(rec)
        rec.flush()
        if rank == 0:
            values = simrec_values(rec)
            # what the formulas made
            check_equal("simrec", "g/a", values["g/a"], np.stack([I64] * 3))
            check_equal("simrec", "cfg/grid", values["cfg/grid"], U16)
            check_attrs(rec)
    if scheme != "memory":
        u = append_run(uri)
        if rank == 0:
            values["f/U"] = u
            with simrec.Recorder(uri, mode="r") as rec:
                check_attrs(rec)
    path = uri.split(":", 1)[1]
    if rank == 0 and scheme in ("zarr", "zarr+dir"):
        check_zarr(path, values, scheme)
    if rank == 0 and scheme == "hdf5":
        check_hdf5(path, values)
    if rank == 0 and scheme != "memory":
        # simrec's own engine: guessed for an LMDB directory; a redis URI
        # and the other stores' paths name it (netcdf4 claims every
        # URI with "://", and zarr and HDF5 have engines of their own)
        check_engine(uri if scheme == "redis" else path, values,
                     None if scheme == "zarr" else "simrec")
        check_exports(uri, values)
    comm.Barrier()


main()
