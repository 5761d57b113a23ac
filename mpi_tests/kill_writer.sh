#!/bin/bash
# kill -9 of one writer (not all ranks) mid-run, TRIALS times: after each,
# the store must open, every step flushed before the kill ("acked N" from
# rank 0) must be visible, and every visible step must be whole (read by
# simrec and by zarr-python / h5py, which must agree). A trial fails when
# the victim never handed over its pid (nothing was killed), when the job
# hung (timeout) or ended without a rank killed, or when a reader fails.
# usage: kill_writer.sh MPIEXEC TEST_FAULTS CHECK_PY SCHEME WORKDIR TRIALS
# (np 4, SIMREC_WRITERS=2: ranks 0 and 2 write; rank 2 is killed)
set -euo pipefail
. "$(dirname "$0")/kill_lib.sh"
mpiexec=$1 bin=$2 check=$3 scheme=$4 work=$5 trials=$6
mkdir -p "$work"
fifo=$work/kill.fifo
total_visible=0 failed=0
t=0
while [ "$t" -lt "$trials" ]; do
	store=$work/store.$t
	rm -rf "$store" "$fifo"
	mkfifo "$fifo"
	step=$((3 + t % 13))
	SIMREC_WRITERS=2 SIMREC_TEST_KILL_RANK=2 SIMREC_TEST_KILL_STEP=$step \
	SIMREC_TEST_KILL_FIFO=$fifo timeout -k 5 60 "$mpiexec" -n 4 \
		--oversubscribe "$bin" write "$scheme:$store" 60 4 256 \
		>"$work/out.$t" 2>&1 &
	job=$!
	why=
	kill_victim "$fifo" "$job"
	acked=$(awk '/^acked/ {n = $2} END {print n + 0}' "$work/out.$t")
	# the reader's own status: open, whole steps, at least the acked ones
	crc=0
	res=$("$bin" check "$scheme:$store" ">=$acked" 2>&1) || crc=$?
	res=$(printf '%s\n' "$res" | tail -1)
	[ "$crc" = 0 ] || why="${why:+$why; }simrec check exit $crc"
	case $res in
	"steps "*" torn 0 "*) ;;
	*) why="${why:+$why; }simrec reads torn or no steps" ;;
	esac
	steps=$(printf '%s\n' "$res" | awk '/^steps/ {print $2}')
	steps=${steps:-0}
	[ "$steps" -ge "$acked" ] || why="${why:+$why; }visible $steps < acked $acked"
	prc=0
	pyres=$("$check" "$scheme" "$store" ">=$acked" 2>&1) || prc=$?
	pyres=$(printf '%s\n' "$pyres" | tail -1)
	[ "$prc" = 0 ] || why="${why:+$why; }python check exit $prc"
	[ "$pyres" = "$res" ] || why="${why:+$why; }python reads '$pyres'"
	total_visible=$((total_visible + steps))
	echo "trial $t kill at step $step: job exit $jrc, acked $acked, simrec: $res, python: $pyres${why:+ -- FAIL: $why}"
	if [ -n "$why" ]; then
		failed=$((failed + 1))
		awk '!/^acked/ && n++ < 20 {print "    " $0}' "$work/out.$t"
	fi
	rm -rf "$store"
	t=$((t + 1))
done
rm -f "$fifo"
echo "$scheme: $trials trials, $failed failed, visible steps $total_visible"
[ "$failed" = 0 ]
