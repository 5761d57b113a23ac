#!/bin/bash
# A master of a Redis Cluster (3 masters of its own, append-only files
# synced at every write) SIGKILLed in the middle of a fully distributed
# run, np 4 (test_faults: record_all, attributes, a replaced value and
# strings each step, a flush every 4 steps): rank 0 says over a FIFO when
# step 8 is acknowledged, then the master holding rank 1's list is killed.
# Every rank fails with SIMREC_ECONN (one status, the close too), no rank
# dies by a signal; after the master is restarted from its files, every
# acknowledged step is there and no visible step is torn (test_faults
# check, simrec verify, redis-py's RedisCluster). Every node requires a
# password (a random one, given to the ranks by SIMREC_REDIS_PASSWORD, to
# redis-cli by REDISCLI_AUTH); a wrong one is refused. The cluster is
# always stopped.
# usage: redis_cluster_kill.sh MPIEXEC TEST_FAULTS SIMREC_CLI CLUSTER_SH
#        PYTHON WORKDIR
set -euo pipefail
mpiexec=$1 bin=$2 cli=$3 cluster=$4 python=$5 work=$6
here=$(dirname "$0")
rm -rf "$work"
mkdir -p "$work"
export REDISCLI_AUTH SIMREC_REDIS_PASSWORD
REDISCLI_AUTH=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
SIMREC_REDIS_PASSWORD=$REDISCLI_AUTH
trap '"$cluster" stop "$work/cl"; rm -f "$work/fifo"' EXIT
"$cluster" start "$work/cl"
export SIMREC_REDIS_HOST
SIMREC_REDIS_HOST=$(cat "$work/cl/seeds")
uri="redis://?prefix=kill&cluster=1"
if SIMREC_REDIS_PASSWORD=wrong "$cli" ls "$uri" >"$work/wrong" 2>&1; then
	echo "a wrong password was accepted"
	exit 1
fi
grep -q 'wrong password' "$work/wrong" || { cat "$work/wrong"; exit 1; }
mkfifo "$work/fifo"
# each step "computes" 10 ms: the run outlives the kill
SIMREC_TEST_EXTRA=1 SIMREC_TEST_ACK_STEP=8 SIMREC_TEST_ACK_FIFO="$work/fifo" \
SIMREC_TEST_STEP_USEC=10000 \
	timeout -k 5 120 "$mpiexec" -n 4 --oversubscribe "$bin" write \
	"$uri" 3000 4 256 2 >"$work/out" 2>&1 &
job=$!
acked=$(timeout 60 cat "$work/fifo")
echo "rank 0: $acked"
# the master holding rank 1's list of run/u (its owner answers EXISTS)
victim=
for n in 1 2 3; do
	if [ "$(redis-cli -p "$(cat "$work/cl/n$n/port")" exists 'kill:d:{kill:run/u:1}' 2>/dev/null)" = 1 ]; then
		victim=$n
	fi
done
[ -n "$victim" ] || { echo "no master holds kill:d:{kill:run/u:1}"; exit 1; }
"$cluster" kill "$work/cl" "$victim"
echo "master $victim killed"
jrc=0
wait "$job" || jrc=$?
sed '/^acked/d' "$work/out"
bad=0
[ "$jrc" = 0 ] || { echo "the run exited $jrc"; bad=$((bad + 1)); }
grep -q '^status SIMREC_ECONN$' "$work/out" || { echo "the run did not fail with SIMREC_ECONN"; bad=$((bad + 1)); }
grep -q '^close status SIMREC_ECONN$' "$work/out" || { echo "close did not fail with SIMREC_ECONN"; bad=$((bad + 1)); }
! grep -q 'differs' "$work/out" || { echo "statuses differ between ranks"; bad=$((bad + 1)); }
! grep -q 'on signal' "$work/out" || { echo "a rank died by a signal"; bad=$((bad + 1)); }
last=$(awk '/^acked/ {n = $2} END {print n + 0}' "$work/out")
"$cluster" restart "$work/cl" "$victim"
echo "master $victim restarted from its files; last acknowledged step count $last"
res=$(timeout 60 "$bin" check "$uri" ">=$last" 2>&1 | tail -1) || bad=$((bad + 1))
echo "check: $res"
case $res in "steps "*" torn 0 "*) ;; *) bad=$((bad + 1)) ;; esac
timeout -k 5 60 "$cli" verify "$uri" || bad=$((bad + 1))
# redis-py: every visible step of run/u whole (the formula is test_faults')
timeout -k 5 60 "$python" - "$here" "$last" <<'PY' || bad=$((bad + 1))
import sys
sys.path.insert(0, sys.argv[1])
from redis_root import Root
root = Root("kill")
u = root["run/u"]
assert u.shape[0] >= int(sys.argv[2]) and u.shape[1:] == (4, 256), u.shape
print(f"redis-py: run/u {u.shape}")
PY
[ "$bad" = 0 ] && echo "redis cluster kill: ok"
exit "$bad"
