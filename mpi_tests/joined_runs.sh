#!/bin/bash
# Runs of test_joined on one store, in order (each NP:WRITERS:STEP0:STEPS,
# a later run on another rank count appending), then the store read back
# by zarr-python or h5py (check_joined.py).
# usage: joined_runs.sh MPIEXEC TEST_JOINED PYTHON CHECK_PY KIND URI RUN...
set -euo pipefail
mpiexec=$1 bin=$2 python=$3 check=$4 kind=$5 uri=$6
shift 6
path=${uri#*:}
path=${path%%\?*}
case $kind in zarr | zarr+dir | hdf5) rm -rf "$path" ;; esac
total=0
for run in "$@"; do
	IFS=: read -r np w s0 n <<<"$run"
	echo "== np $np, $w writer(s), steps $s0..$((s0 + n - 1))"
	SIMREC_WRITERS=$w timeout -k 5 60 "$mpiexec" -n "$np" --oversubscribe \
		"$bin" "$uri" "$s0" "$n"
	total=$((s0 + n))
done
case $kind in
zarr | zarr+dir | hdf5)
	timeout -k 5 60 "$python" "$check" "$kind" "$path" "$total" ;;
esac
echo "joined runs: ok"
