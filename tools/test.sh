#!/bin/bash
# Quick start, part 2: install dependencies, build with strict warnings
# (-Werror) and run the whole test suite through ctest; then build with
# address/undefined sanitizers and run the serial tests again; then with
# ThreadSanitizer, the tests that run threads.
set -euo pipefail
cd "$(dirname "$0")/.."
# Every check fails the run: a sanitizer report ends the process with a
# non-zero exit at once (halt_on_error; UBSan is built with
# -fno-sanitize-recover), leaks count, and every report has its stack.
# SIMREC_CI=1: a test that would skip fails instead (docs/testing.md).
export SIMREC_CI=1
export ASAN_OPTIONS="halt_on_error=1:exitcode=23:detect_leaks=1:abort_on_error=0:print_stacktrace=1"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=24:print_stacktrace=1"
export LSAN_OPTIONS="exitcode=23"
tools/install-deps.sh
jobs=$(nproc)
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMREC_WERROR=ON
cmake --build build-test -j"$jobs"
(cd build-test && ctest --output-on-failure -j"$jobs")
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSIMREC_WERROR=ON \
	-DSIMREC_SANITIZE=ON -DSIMREC_BUILD_BENCH=OFF
cmake --build build-asan -j"$jobs"
(cd build-asan && ctest --output-on-failure -L serial -j"$jobs")
# ThreadSanitizer: the MPI tests whose writers run the I/O thread (and
# the zero-copy step's copy threads), the lock tests whose clients run the
# lease renewal thread, and the store contract on zarr+dir (its reads
# decode chunks on several threads). Left out: zarr
# LMDB (TSan cannot map LMDB's 1 TiB sparse map) and lock_hammer /
# lock_preference (they fork after the lock's thread started, which TSan
# does not follow).
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DSIMREC_WERROR=ON \
	-DSIMREC_TSAN=ON -DSIMREC_BUILD_BENCH=OFF
cmake --build build-tsan -j"$jobs"
(cd build-tsan && TSAN_OPTIONS="halt_on_error=1 exitcode=25 die_after_fork=0" \
	ctest --output-on-failure -j"$jobs" \
	-R '^(store_zarr_dir|store_zarr_dir_par_put|mpi_record_all_(zarr_dir|memory|hdf5)_np[24]|mpi_zerocopy_(zarr_dir|zarr_dir_lz4|zarr_dir_w|memory|hdf5)_np[34]|mpi_bad_key_(zarr_dir|hdf5)|mpi_zarr_dir_(writers|lz4)|lock_(kill|fence|live_zarr_dir|live_hdf5))')
# libFuzzer targets (clang, ASan/UBSan) for a bounded time each; crashers
# land in build-fuzz/tests/fuzz/work/<target>/ (keep them as regressions)
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSIMREC_FUZZ=ON -DSIMREC_BUILD_BENCH=OFF
cmake --build build-fuzz -j"$jobs"
(cd build-fuzz && ctest --output-on-failure -L fuzz)
echo "simrec: all tests passed"
