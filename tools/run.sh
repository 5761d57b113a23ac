#!/bin/sh
# Quick start, part 1: install dependencies, build, and run the main job:
# the heat2d example on 4 MPI ranks recording its field as one global array
# (simrec_record_global) into the default zarr/LMDB store; heat2d reads it
# back with the C reader, then examples/heat2d_check.py checks every
# snapshot against the same computation done serially in numpy (exits
# non-zero if they differ).
#   tools/run.sh [STORE]        (default zarr:out/heat.zarr; not memory:)
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSIMREC_BUILD_TESTS=OFF
cmake --build build -j"$(nproc)"
mkdir -p out
if [ "$(id -u)" = 0 ]; then
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
# a lost host (cut link, dead node) aborts the job within seconds instead
# of hanging every rank forever (docs/mpi.md, "A lost host")
export OMPI_MCA_oob_tcp_keepalive_time=5 OMPI_MCA_oob_tcp_keepalive_intvl=2 \
	OMPI_MCA_oob_tcp_keepalive_probes=3
store=${1:-zarr:out/heat.zarr}
mpiexec -n 4 build/examples/heat2d "$store" 200
SIMREC_LIBRARY="$PWD/build/src/libsimrec.so" PYTHONPATH="$PWD/python" \
	/usr/bin/python3 examples/heat2d_check.py "$store"
