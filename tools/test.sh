#!/bin/sh
# Quick start, part 2: install dependencies, build with strict warnings
# (-Werror) and run the whole test suite through ctest; then build with
# address/undefined sanitizers and run the serial tests again.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
jobs=$(nproc)
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMREC_WERROR=ON
cmake --build build-test -j"$jobs"
(cd build-test && ctest --output-on-failure -j"$jobs")
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSIMREC_WERROR=ON \
	-DSIMREC_SANITIZE=ON -DSIMREC_BUILD_BENCH=OFF
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -L serial -j"$jobs")
echo "simrec: all tests passed"
