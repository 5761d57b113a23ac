#!/bin/bash
# kill -9 of one writer of a global array in the middle of a run, TRIALS
# times: np 4, SIMREC_WRITERS=2 (ranks 0 and 2 write, rank 2 is killed
# at step 3 + t % 5 while the others record that step; a flush every 3
# steps, after which rank 0 prints "acked N"). After each, every step a
# reader sees is whole and holds the formula's values, and every acked
# step is visible, in simrec (test_global check: simrec_dataset_verify
# and every element) and in zarr-python / h5py (check_global.py). A trial
# fails when the victim never handed over its pid (nothing was killed),
# when the job hung or ended without a rank killed, or when a reader fails.
# usage: kill_global.sh MPIEXEC TEST_GLOBAL PYTHON CHECK_PY KIND WORKDIR TRIALS
set -euo pipefail
. "$(dirname "$0")/kill_lib.sh"
mpiexec=$1 bin=$2 python=$3 check=$4 kind=$5 work=$6 trials=$7
mkdir -p "$work"
fifo=$work/kill.fifo
failed=0
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
	why=
	kill_victim "$fifo" "$job"
	acked=$(awk '/^acked/ {n = $2} END {print n + 0}' "$work/out.$t")
	crc=0
	res=$(timeout 60 "$bin" check "$kind:$store" "$acked" 2>&1) || crc=$?
	res=$(printf '%s\n' "$res" | tail -1)
	[ "$crc" = 0 ] || why="${why:+$why; }simrec check exit $crc ($res)"
	steps=$(printf '%s\n' "$res" | awk '/^steps/ {print $2}')
	steps=${steps:-0}
	[ "$steps" -ge "$acked" ] || why="${why:+$why; }visible $steps < acked $acked"
	prc=0
	pyres=$(timeout 60 "$python" "$check" "$kind" "$store" ">=$acked" 2>&1) || prc=$?
	pyres=$(printf '%s\n' "$pyres" | tail -1)
	[ "$prc" = 0 ] || why="${why:+$why; }python check exit $prc ($pyres)"
	echo "trial $t kill at step $step: job exit $jrc, acked $acked, simrec: $res; python: $pyres${why:+ -- FAIL: $why}"
	if [ -n "$why" ]; then
		failed=$((failed + 1))
		awk '!/^acked/ && n++ < 20 {print "    " $0}' "$work/out.$t"
	fi
	rm -rf "$store"
done
rm -f "$fifo"
echo "$kind: $trials trials, $failed failed"
[ "$failed" = 0 ]
