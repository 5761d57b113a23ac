#!/bin/bash
# Install simrec into a temporary prefix, build a consumer with pkg-config
# and with find_package(simrec), and run it and the installed CLI with a
# clean environment (no LD_LIBRARY_PATH, no PKG_CONFIG_PATH).
#   install_test.sh BUILD_DIR WORK_DIR CONSUMER_SRC
set -euo pipefail
build=$1 work=$2 src=$3
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
# the prefix moves: everything must still be found relative to it
mv "$prefix" "$work/moved"
prefix=$work/moved
pc=$(find "$prefix" -name simrec.pc -print -quit)
test -n "$pc"
clean="env -i PATH=/usr/bin:/bin"
# pkg-config
cflags=$($clean PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --cflags simrec)
libs=$($clean PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --libs simrec)
libdir=$($clean PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --variable=libdir simrec)
# shellcheck disable=SC2086
$clean cc -o "$work/consumer_pc" "$src/consumer.c" $cflags $libs -Wl,-rpath,"$libdir"
$clean "$work/consumer_pc" | grep -q "consumer: ok"
# find_package(simrec): MPI comes through find_dependency
$clean cmake -S "$src" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_BUILD_RPATH="$libdir" >"$work/cmake.log"
$clean cmake --build "$work/cm" >>"$work/cmake.log"
$clean "$work/cm/consumer" | grep -q "consumer: ok"
# the installed CLI finds its library through its RPATH
$clean "$prefix/bin/simrec" ls memory: >/dev/null 2>&1 || {
	$clean "$prefix/bin/simrec" ls memory:
	exit 1
}
echo "install: ok"
