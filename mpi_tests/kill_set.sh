#!/bin/bash
# A value replaced after the last flush, then a SIGKILL: the value that
# flush acknowledged must read back whole (simrec and h5py), and so must
# every step. Serial HDF5 (one writer of 4 ranks): each step rank 0
# replaces "meta/state" (simrec_set) and every rank rewrites an
# attribute; a flush every 4 steps. At step KILL (steps past a
# flush) the writer writes its pid to a FIFO and stops; it is killed
# there, so the replaced value's space and the data written since are
# exactly those of the steps after the flush. A file that reused the
# freed space of the flushed value for later chunks would read garbage
# (blosc: "does not decode").
# usage: kill_set.sh MPIEXEC TEST_FAULTS CHECK_PY SIMREC WORKDIR CODEC KILL...
set -euo pipefail
mpiexec=$1 bin=$2 check=$3 simrec=$4 work=$5 codec=$6
shift 6
mkdir -p "$work"
fifo=$work/kill.fifo
fail=0
for step in "$@"; do
	store=$work/store.h5
	rm -f "$store" "$fifo"
	mkfifo "$fifo"
	SIMREC_WRITERS=1 SIMREC_TEST_SET=1 SIMREC_TEST_KILL_RANK=0 \
	SIMREC_TEST_KILL_STEP=$step SIMREC_TEST_KILL_HOLD=1 \
	SIMREC_TEST_KILL_FIFO=$fifo timeout -k 5 60 "$mpiexec" -n 4 \
		--oversubscribe "$bin" write "hdf5:$store?codec=$codec" 40 4 4096 2 \
		>"$work/out.$step" 2>&1 &
	job=$!
	pid=$(timeout 60 cat "$fifo") || pid=
	[ -z "$pid" ] || kill -9 "$pid" || pid=
	# the killed writer fails the job; 0: nothing killed, 124: a hang
	jrc=0
	wait "$job" || jrc=$?
	acked=$(awk '/^acked/ {n = $2} END {print n + 0}' "$work/out.$step")
	crc=0
	res=$("$bin" check "hdf5:$store" "=$acked" 2>&1) || crc=$?
	prc=0
	py=$("$check" hdf5 "$store" "=$acked" 2>&1) || prc=$?
	py=$(printf %s "$py" | tail -1)
	vrc=0
	v=$("$simrec" verify "hdf5:$store" 2>&1) || vrc=$?
	state=$(echo "$res" | awk '/^meta.state of step/ {print $4}')
	echo "kill at step $step ($codec): acked $acked, value of step ${state:--}; simrec: $(echo "$res" | tail -1); h5py: $py; verify rc $vrc"
	# the value the flush acknowledged: set at the step before it
	if [ -z "$pid" ] || [ "$jrc" = 0 ] || [ "$jrc" = 124 ] ||
		[ "$acked" != $((step / 4 * 4)) ] ||
		[ "${state:--}" != $((acked - 1)) ] ||
		[ "$crc" != 0 ] || [ "$prc" != 0 ] || [ "$vrc" != 0 ]; then
		awk 'NR <= 5' <<<"$res"
		echo "victim pid '$pid', job exit $jrc"
		awk '!/^ok/ && n++ < 5' <<<"$v"
		fail=1
	fi
done
rm -f "$fifo" "$work/store.h5"
[ "$fail" = 0 ] && echo "kill_set: ok"
exit "$fail"
