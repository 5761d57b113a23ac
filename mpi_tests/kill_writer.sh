#!/bin/sh
# kill -9 of one writer (not all ranks) mid-run, TRIALS times: after each,
# the store must open, and every visible step must be whole (read by
# simrec and by zarr-python / h5py). Prints one line per trial and the
# totals.
# usage: kill_writer.sh MPIEXEC TEST_FAULTS CHECK_PY SCHEME WORKDIR TRIALS
# (np 4, SIMREC_WRITERS=2: ranks 0 and 2 write; rank 2 is killed)
set -u
mpiexec=$1 bin=$2 check=$3 scheme=$4 work=$5 trials=$6
mkdir -p "$work"
fifo=$work/kill.fifo
total_visible=0 torn_trials=0 open_fail=0 py_fail=0
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
	# the victim blocks opening the FIFO until we read its pid: the
	# kill happens while the others record on, at a step we chose
	pid=$(timeout 60 cat "$fifo")
	[ -n "$pid" ] && kill -9 "$pid"
	wait "$job"
	acked=$(grep -c '^acked' "$work/out.$t")
	res=$("$bin" check "$scheme:$store" 2>&1 | tail -1)
	crc=$?
	case $res in
	steps*) ;;
	*) open_fail=$((open_fail + 1)) ;;
	esac
	steps=$(echo "$res" | awk '/^steps/ {print $2}')
	torn=$(echo "$res" | awk '/^steps/ {print $4}')
	pyres=$("$check" "$scheme" "$store" 2>&1 | tail -1)
	case $pyres in
	"steps ${steps:-x} torn 0 "*) ;;
	*) py_fail=$((py_fail + 1)) ;;
	esac
	[ "${torn:-0}" != 0 ] && torn_trials=$((torn_trials + 1))
	total_visible=$((total_visible + ${steps:-0}))
	echo "trial $t kill at step $step: flushes acked $acked, simrec: $res, python: $pyres"
	rm -rf "$store"
	t=$((t + 1))
done
rm -f "$fifo"
echo "$scheme: $trials trials, torn $torn_trials, open failures $open_fail, python disagreements $py_fail, visible steps $total_visible"
[ "$torn_trials" = 0 ] && [ "$open_fail" = 0 ] && [ "$py_fail" = 0 ]
