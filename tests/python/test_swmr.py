"""?swmr=1 on hdf5: what a SWMR writer refuses after its first flush and
what it allows, who opens the file (h5py with and without swmr=True,
netCDF4, h5netcdf, simrec), and the stores that refuse the parameter. The
concurrent readers are mpi_tests/swmr_follow.py's."""
import h5py
import numpy as np
import pytest

import simrec
from conftest import SCHEMES

pytestmark = pytest.mark.skipif("hdf5" not in SCHEMES,
                                reason="hdf5 not built")


def test_keys_after_first_flush(tmp_path):
    path = tmp_path / "s.h5"
    rec = simrec.Recorder("hdf5:%s?swmr=1" % path, mode="w")
    rec.record("a", np.arange(3.0))
    rec.define("later", "int32", (2,))
    rec.attrs["run"] = "before the first flush"
    rec.flush()
    with h5py.File(path, "r", swmr=True) as f:
        assert f["a"].shape == (1, 3)
    # appending to keys that exist, defined ones included, goes on
    rec.record("a", np.arange(3.0) + 1)
    rec.record("later", np.array([7, 8], dtype=np.int32))
    rec.flush()
    with pytest.raises(simrec.NotSupportedError, match="'new'.*first flush"):
        rec.record("new", 1.0)
        rec.flush()
    with pytest.raises(simrec.NotSupportedError, match="attribute"):
        rec.attrs["late"] = 1
    rec.record("a", np.arange(3.0) + 2)
    rec.close()
    with h5py.File(path, "r") as f:  # closed: no swmr=True needed
        assert np.array_equal(f["a"][:], np.arange(3.0) + np.arange(3)[:, None])
        assert np.array_equal(f["later"][:], [[7, 8]])
        assert "new" not in f
        assert f.attrs["run"] == "before the first flush"
        # the 1.10 format SWMR needs: superblock version 3
        assert f.id.get_create_plist().get_version()[0] >= 3


def test_netcdf_readers(tmp_path):
    import h5netcdf
    import netCDF4
    path = tmp_path / "n.h5"
    with simrec.Recorder("hdf5:%s?swmr=1" % path, mode="w") as rec:
        for s in range(4):
            rec.record("f/T", np.full((2, 3), float(s)))
    with netCDF4.Dataset(path) as d:
        assert d.groups["f"].variables["T"].shape == (4, 2, 3)
        assert d.groups["f"].variables["T"][3, 0, 0] == 3.0
    with h5netcdf.File(path, "r") as f:
        assert f["f/T"].dimensions[0] == "T_step"
        assert f["f/T"][2, 1, 2] == 2.0


def test_readers_while_the_writer_runs(tmp_path):
    """docs/format.md: while a SWMR writer has the file open, only simrec's
    readers (xarray's engine simrec too) and h5py with swmr=True open it;
    netCDF4 and h5netcdf (xarray's engines of the same names) do not."""
    import xarray as xr
    path = tmp_path / "w.h5"
    rec = simrec.Recorder("hdf5:%s?swmr=1" % path, mode="w")
    for s in range(3):
        rec.record("f/T", np.full((2, 3), float(s)))
    rec.flush()
    try:
        with xr.open_dataset(path, group="f", engine="simrec") as ds:
            assert ds["T"].shape == (3, 2, 3)
            assert float(ds["T"][2, 1, 2]) == 2.0
        with h5py.File(path, "r", swmr=True) as f:
            assert f["f/T"].shape == (3, 2, 3)
        for engine in ("netcdf4", "h5netcdf"):
            with pytest.raises(OSError):
                xr.open_dataset(path, group="f", engine=engine)
    finally:
        rec.close()
    for engine in ("netcdf4", "h5netcdf"):  # once closed, they do
        with xr.open_dataset(path, group="f", engine=engine) as ds:
            assert ds["T"].shape == (3, 2, 3)


def test_append_older_format(tmp_path):
    """A file written without ?swmr=1 cannot become a SWMR file: the
    first flush says so."""
    path = tmp_path / "old.h5"
    with simrec.Recorder("hdf5:%s" % path, mode="w") as rec:
        rec.record("a", 1.0)
    rec = simrec.Recorder("hdf5:%s?swmr=1" % path, mode="a")
    rec.record("a", 2.0)
    with pytest.raises(simrec.Error, match="without \\?swmr=1"):
        rec.flush()
    with pytest.raises(simrec.Error):
        rec.close()


@pytest.mark.parametrize("scheme", [s for s in ("zarr", "zarr+dir", "memory")
                                    if s in SCHEMES])
def test_other_stores_refuse(tmp_path, scheme):
    uri = {"memory": "memory:"}.get(scheme, "%s:%s" % (scheme,
                                                       tmp_path / "z.zarr"))
    with pytest.raises(simrec.Error, match="swmr"):
        simrec.Recorder(uri + "?swmr=1", mode="w")


SWMR_WRITER = r"""
import sys, numpy as np, simrec
rec = simrec.Recorder(sys.argv[1], mode="w")
rec.record("T", np.arange(4.0))
rec.flush()  # SWMR writing starts: readers get in
print("step 0", flush=True)
for line in sys.stdin:
    if line.strip() == "close":
        break
    s = int(line)
    rec.record("T", np.arange(4.0) + 10 * s)
    rec.flush()
    print("step", s, flush=True)
rec.close()
print("closed", flush=True)
"""


def test_follow_a_swmr_file(tmp_path):
    """simrec_follow on a file written with ?swmr=1 sees each step the
    SWMR writer flushes, and ends when the writer closed it (the finished
    mark)."""
    import subprocess
    import sys
    uri = "hdf5:%s?swmr=1" % (tmp_path / "f.h5")
    w = subprocess.Popen([sys.executable, "-c", SWMR_WRITER, uri],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    try:
        assert w.stdout.readline().split() == ["step", "0"]
        with simrec.Recorder(uri, mode="r") as r:
            seen = []
            for i, arr in r.follow("T", timeout=30):
                np.testing.assert_array_equal(arr, np.arange(4.0) + 10 * i)
                seen.append(i)
                if i == 3:
                    break
                w.stdin.write("%d\n" % (i + 1))  # the next step only now
                w.stdin.flush()
                assert w.stdout.readline().split() == ["step", str(i + 1)]
            assert seen == [0, 1, 2, 3]
            w.stdin.write("close\n")
            w.stdin.flush()
            assert w.stdout.readline().strip() == "closed"
            assert w.wait(timeout=60) == 0
            # the writer's close marked the file finished: the follow
            # ends at once, well before its hour-long timeout
            assert list(r.follow("T", timeout=3600, start=4)) == []
    finally:
        w.kill()
        w.wait()
