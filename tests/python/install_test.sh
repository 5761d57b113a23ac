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
print("python install: ok (%s)" % lib)
' "$prefix"
