#!/bin/bash
# cmake --install into a fresh prefix, then import the installed package
# with nothing but PYTHONPATH (no SIMREC_LIBRARY, no LD_LIBRARY_PATH).
#   install_test.sh CMAKE BUILD_DIR PREFIX PYTHON
set -euo pipefail
cmake=$1 build=$2 prefix=$3 py=$4
rm -rf "$prefix"
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
pkg=$(find "$prefix" -path '*-packages/simrec/__init__.py' | head -n 1)
[ -n "$pkg" ] || { echo "no simrec package under $prefix"; exit 1; }
site=$(dirname "$(dirname "$pkg")")
cd "$prefix"
env -u SIMREC_LIBRARY -u LD_LIBRARY_PATH PYTHONPATH="$site" "$py" -c '
import os, sys, numpy as np, simrec
lib = simrec.library_path()
assert lib.startswith(sys.argv[1]), lib
with simrec.Recorder("zarr:installed.zarr", mode="w") as rec:
    rec.record("x", np.arange(4))
with simrec.Recorder("zarr:installed.zarr", mode="r") as rec:
    assert rec.get_all("x")[-1, 2] == 2
# the distribution beside the package: its version, and xarray finds the
# engine "simrec" there and guesses it for the LMDB directory
import importlib.metadata as md
assert md.version("simrec") == simrec.__version__, md.version("simrec")
dist = md.distribution("simrec")
assert str(dist.locate_file("")).startswith(sys.argv[1]), dist
eps = [e for e in md.entry_points(group="xarray.backends")
       if e.name == "simrec"]
assert len(eps) == 1 and eps[0].dist.name == "simrec", eps
import warnings, xarray as xr
assert "simrec" in xr.backends.list_engines()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the netCDF engines fail to guess
    with xr.open_dataset("installed.zarr") as ds:
        assert ds["x"].dims == ("x_step", "x_dim_1"), ds["x"].dims
        assert ds["x"].values.tolist() == [[0, 1, 2, 3]], ds["x"].values
print("python install: ok (%s)" % lib)
' "$prefix"
