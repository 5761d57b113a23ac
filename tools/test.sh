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
# libFuzzer targets (clang, ASan/UBSan) for a bounded time each; crashers
# land in build-fuzz/tests/fuzz/work/<target>/ (keep them as regressions)
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSIMREC_FUZZ=ON -DSIMREC_BUILD_BENCH=OFF
cmake --build build-fuzz -j"$jobs"
(cd build-fuzz && ctest --output-on-failure -L fuzz)
echo "simrec: all tests passed"
