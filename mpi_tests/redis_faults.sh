#!/bin/bash
# The redis store under faults, np 4, every rank pushing to a private
# server (started here on a free port, always stopped):
# 1. a rank SIGKILLed at a chosen step (it hands its pid over a FIFO)
#    while every rank sets attributes and rank 0 replaces a value each
#    step (SIMREC_TEST_EXTRA): every visible step is whole, every
#    acknowledged one is there, and `simrec verify` finds every dataset
#    whole (no metadata without its element);
# 2. the server SIGKILLed once step 8 is acknowledged (rank 0 says so
#    over a FIFO): the run fails, and so does the close, on every rank
#    with the same status, naming the server once; no rank dies by a
#    signal (SIGPIPE).
# usage: redis_faults.sh MPIEXEC TEST_FAULTS SIMREC_CLI REDIS_SERVER_SH WORKDIR
set -euo pipefail
mpiexec=$1 bin=$2 cli=$3 server=$4 work=$5
rm -rf "$work"
mkdir -p "$work"
trap '"$server" stop "$work/srv"; rm -f "$work/fifo"' EXIT
"$server" start "$work/srv" >/dev/null || exit 1
port=$(cat "$work/srv/port")
bad=0
t=0
for victim_step in 0:6 1:5 0:9 2:3 0:13; do
	victim=${victim_step%:*} step=${victim_step#*:}
	uri="redis://127.0.0.1:$port?prefix=kill$t"
	rm -f "$work/fifo"
	mkfifo "$work/fifo"
	SIMREC_TEST_EXTRA=1 SIMREC_TEST_KILL_RANK=$victim \
	SIMREC_TEST_KILL_STEP=$step SIMREC_TEST_KILL_FIFO="$work/fifo" \
		timeout -k 5 60 "$mpiexec" -n 4 --oversubscribe "$bin" write \
		"$uri" 30 4 256 2 8 >"$work/out.$t" 2>&1 &
	job=$!
	pid=$(timeout 60 cat "$work/fifo") || pid=
	[ -z "$pid" ] || kill -9 "$pid" || pid=
	# a killed rank fails the job; 0: nothing was killed, 124: a hang
	jrc=0
	wait "$job" || jrc=$?
	acked=$(awk '/^acked/ {n = $2} END {print n + 0}' "$work/out.$t")
	crc=0
	res=$("$bin" check "$uri" ">=$acked" 2>&1) || crc=$?
	res=$(printf %s "$res" | tail -1)
	vrc=0
	v=$("$cli" verify "$uri" 2>&1) || vrc=$?
	echo "kill rank $victim at step $step: acked $acked, check: $res, verify exit $vrc"
	case $res in "steps "*" torn 0 "*) ;; *) crc=1 ;; esac
	if [ "$crc" != 0 ] || [ "$vrc" != 0 ] || [ -z "$pid" ] ||
		[ "$jrc" = 0 ] || [ "$jrc" = 124 ]; then
		echo "victim pid '${pid}', job exit $jrc"
		awk '!/^ok/ && n++ < 5' <<<"$v"
		bad=$((bad + 1))
	fi
	t=$((t + 1))
done
# 2. the server dies after step 8 is acknowledged
rm -f "$work/fifo"
mkfifo "$work/fifo"
SIMREC_TEST_EXTRA=1 SIMREC_TEST_ACK_STEP=8 SIMREC_TEST_ACK_FIFO="$work/fifo" \
	timeout -k 5 60 "$mpiexec" -n 4 --oversubscribe "$bin" write \
	"redis://127.0.0.1:$port?prefix=loss" 400 4 256 2 >"$work/out.loss" 2>&1 &
job=$!
timeout 60 cat "$work/fifo"
kill -9 "$(cat "$work/srv/pid")"
# every rank ends (test_faults reports the failure and exits 0), within
# its bound: 124 is a hang, any other status a crash
jrc=0
wait "$job" || jrc=$?
[ "$jrc" = 0 ] || { echo "the run exited $jrc"; bad=$((bad + 1)); }
sed '/^acked/d' "$work/out.loss"
grep -q '^failed after' "$work/out.loss" || { echo "the run did not fail"; bad=$((bad + 1)); }
grep -q '^close: cannot reach server' "$work/out.loss" || { echo "close claimed success"; bad=$((bad + 1)); }
# a write to the dead socket is SIMREC_ECONN, never SIGPIPE (signal 13)
! grep -q 'on signal' "$work/out.loss" || { echo "a rank died by a signal"; bad=$((bad + 1)); }
if grep -q 'differ\|redis:redis' "$work/out.loss"; then
	echo "statuses differ between ranks, or the scheme is named twice"
	bad=$((bad + 1))
fi
[ "$bad" = 0 ] && echo "redis faults: ok"
exit "$bad"
