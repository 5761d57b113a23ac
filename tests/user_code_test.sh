#!/bin/bash
# docs/user-code.md, run as a user would: install to a prefix that then
# moves, build the page's C program with its CMakeLists.txt and with its
# pkg-config line, run it and the page's Python program under mpirun, and
# read each store back with the page's xarray/dask reader.
#   user_code_test.sh BUILD_DIR WORK_DIR DOC MPIEXEC PYTHON
set -euo pipefail
build=$1 work=$2 doc=$3 mpiexec=$4 py=$5
rm -rf "$work"
mkdir -p "$work/src"
# the page's files: fenced blocks whose info string names a file
"$py" - "$doc" "$work/src" <<'PYEOF'
import re
import sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^```\w+ (\S+)\n(.*?)^```$", text, re.M | re.S)
names = [n for n, _ in blocks]
assert sorted(names) == ["CMakeLists.txt", "hello.c", "hello.py",
                         "read.py"], names
for name, body in blocks:
    open("%s/%s" % (sys.argv[2], name), "w").write(body)
PYEOF
# the page's install and PYTHONPATH lines, run as written: "build" is the
# build tree (configured with no prefix, as on the page), HOME a home of
# the test's own; then the prefix moves to another home
install_line=$(grep -m1 '^cmake --install build --prefix ' "$doc")
export_line=$(grep -m1 '^export PYTHONPATH=' "$doc")
test -n "$install_line" && test -n "$export_line"
mkdir -p "$work/home" "$work/moved"
ln -s "$build" "$work/build"
(cd "$work" && HOME=$work/home && eval "$install_line") >"$work/install.log"
mv "$work/home/simrec" "$work/moved/simrec"
prefix=$work/moved/simrec
site=$(HOME=$work/moved && eval "$export_line" && echo "$PYTHONPATH")
test -f "$site/simrec/__init__.py" ||
	{ echo "no simrec package at the page's PYTHONPATH $site"; exit 1; }
ls "$site"/simrec-*.dist-info/entry_points.txt >/dev/null ||
	{ echo "no simrec dist-info (xarray engine) beside the package in $site"; exit 1; }
pc=$(find "$prefix" -name simrec.pc -print -quit)
test -n "$pc"
clean="env -i PATH=/usr/bin:/bin HOME=$work OMPI_ALLOW_RUN_AS_ROOT=1
 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
 OMPI_MCA_mpi_yield_when_idle=1"
# CMake: find_package(simrec)
$clean cmake -S "$work/src" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" \
	>"$work/cmake.log"
$clean cmake --build "$work/cm" >>"$work/cmake.log"
# pkg-config: the page's line
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
# shellcheck disable=SC2046
mpicc -o "$work/hello_pc" "$work/src/hello.c" \
	$(pkg-config --cflags --libs simrec) \
	-Wl,-rpath,"$(pkg-config --variable=libdir simrec)"
cd "$work"
for exe in "$work/cm/hello" "$work/hello_pc"; do
	rm -rf hello.zarr
	$clean "$mpiexec" -n 3 "$exe" zarr+dir:hello.zarr
	$clean PYTHONPATH="$site" "$py" "$work/src/read.py" hello.zarr
done
rm -rf hello_py.zarr
$clean PYTHONPATH="$site" "$mpiexec" -n 3 "$py" "$work/src/hello.py" \
	zarr+dir:hello_py.zarr
$clean PYTHONPATH="$site" "$py" "$work/src/read.py" hello_py.zarr
echo "user code: ok"
