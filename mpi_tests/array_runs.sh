#!/bin/bash
# Runs of test_global or test_joined on one store, in order, then the
# store read back by zarr-python or h5py (check_global.py or
# check_joined.py) with every step recorded.
# usage: array_runs.sh MPIEXEC TEST PYTHON CHECK_PY KIND URI RUN...
#   KIND: zarr | zarr+dir | hdf5 (checked by CHECK_PY after the runs) |
#         memory | redis (checked by the test program itself)
#   RUN:  NP:WRITERS:STEP0:STEPS  records steps STEP0.. on NP ranks, each
#         run checking every step from 0 with simrec (a restart on another
#         rank count appends to the same datasets)
#         bad:NP:WRITERS          every bad decomposition refused
#                                 (test_global only)
# The store is removed first. Every process must exit 0.
set -euo pipefail
mpiexec=$1 bin=$2 python=$3 check=$4 kind=$5 uri=$6
shift 6
path=${uri#*:}
path=${path%%\?*}
case $kind in zarr | zarr+dir | hdf5) rm -rf "$path" ;; esac
total=0
for run in "$@"; do
	IFS=: read -r a b c d <<<"$run"
	if [ "$a" = bad ]; then
		echo "== bad decompositions, np $b, $c writer(s)"
		SIMREC_WRITERS=$c timeout -k 5 60 "$mpiexec" -n "$b" \
			--oversubscribe "$bin" bad "$uri"
	else
		echo "== np $a, $b writer(s), steps $c..$((c + d - 1))"
		SIMREC_WRITERS=$b timeout -k 5 60 "$mpiexec" -n "$a" \
			--oversubscribe "$bin" write "$uri" "$c" "$d"
		total=$((c + d))
	fi
done
case $kind in
zarr | zarr+dir | hdf5)
	timeout -k 5 60 "$python" "$check" "$kind" "$path" "$total" ;;
esac
echo "array runs: ok"
