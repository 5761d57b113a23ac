#!/bin/bash
# kill -9 of one writer of a global array in the middle of a run, TRIALS
# times: np 4, SIMREC_WRITERS=2 (ranks 0 and 2 write, rank 2 is killed
# at step 3 + t % 5 while the others record that step; a flush every 3
# steps). After each, every step a reader sees is whole and holds the
# formula's values, in simrec (test_global check: simrec_dataset_verify
# and every element) and in zarr-python / h5py (check_global.py).
# usage: kill_global.sh MPIEXEC TEST_GLOBAL PYTHON CHECK_PY KIND WORKDIR TRIALS
set -uo pipefail
mpiexec=$1 bin=$2 python=$3 check=$4 kind=$5 work=$6 trials=$7
mkdir -p "$work"
fifo=$work/kill.fifo
fail=0
for ((t = 0; t < trials; t++)); do
	store=$work/store.$t
	rm -rf "$store" "$fifo"
	mkfifo "$fifo"
	step=$((3 + t % 5))
	SIMREC_WRITERS=2 SIMREC_TEST_KILL_RANK=2 SIMREC_TEST_KILL_STEP=$step \
		SIMREC_TEST_KILL_FIFO=$fifo timeout -k 5 60 "$mpiexec" -n 4 \
		--oversubscribe "$bin" write "$kind:$store?chunk_bytes=1024" 0 40 \
		>"$work/out.$t" 2>&1 &
	job=$!
	# the victim blocks opening the FIFO until its pid is read here
	pid=$(timeout 60 cat "$fifo")
	[ -n "$pid" ] && kill -9 "$pid"
	wait "$job" # the job fails: one of its ranks was killed
	res=$(timeout 60 "$bin" check "$kind:$store" 2>&1 | tail -1)
	case $res in steps*) ;; *) fail=1 ;; esac
	pyres=$(timeout 60 "$python" "$check" "$kind" "$store" auto 2>&1 | tail -1)
	case $pyres in "check_global $kind: ok") ;; *) fail=1 ;; esac
	echo "trial $t kill at step $step: simrec: $res; python: $pyres"
	rm -rf "$store"
done
rm -f "$fifo"
exit $fail
