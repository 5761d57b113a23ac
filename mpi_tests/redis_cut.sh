#!/bin/bash
# The redis store, np 4: one rank's connection cut by the server (CLIENT
# KILL ADDR on a private redis-server, started here and always stopped)
# before its first flush of a key, or later, while the others go on.
# The victim rank writes its pid to a FIFO once its connection is up at
# the chosen step and waits on a second FIFO; the script finds that
# process's socket to the server (ss), has the server kill exactly that
# client, and lets the rank go on. Every trial must end with:
# - the run failing on every rank with SIMREC_ECONN, and the close too;
# - no torn step visible to simrec (test_faults check) nor to redis-py
#   (docs/redis_decode.py, values compared with the formula that made
#   them), and every acknowledged step there;
# - `simrec verify` exit 0 (what is visible is whole; rows past the
#   visible steps are not part of the dataset).
# usage: redis_cut.sh MPIEXEC TEST_FAULTS SIMREC_CLI REDIS_SERVER_SH DOCS PYTHON WORKDIR
set -euo pipefail
mpiexec=$1 bin=$2 cli=$3 server=$4 docs=$5 py=$6 work=$7
rm -rf "$work"
mkdir -p "$work"
trap '"$server" stop "$work/srv"; rm -f "$work/up" "$work/go"' EXIT
"$server" start "$work/srv" >/dev/null
port=$(cat "$work/srv/port")
bad=0
t=0
# victim:step; flushes every 4 steps: step 1 is before the victim's first
# flush (its list of the key was never acknowledged), step 6 after it
for victim_step in 1:1 3:1 0:1 2:0 1:6; do
	victim=${victim_step%:*} step=${victim_step#*:}
	prefix=cut$t
	uri="redis://127.0.0.1:$port?prefix=$prefix"
	rm -f "$work/up" "$work/go"
	mkfifo "$work/up" "$work/go"
	SIMREC_TEST_KILL_RANK=$victim SIMREC_TEST_KILL_STEP=$step \
	SIMREC_TEST_KILL_FIFO="$work/up" SIMREC_TEST_KILL_GO="$work/go" \
		timeout -k 5 60 "$mpiexec" -n 4 --oversubscribe "$bin" write \
		"$uri" 12 4 256 >"$work/out.$t" 2>&1 &
	job=$!
	pid=$(timeout 60 cat "$work/up")
	# the victim's one connection to the server: its local address
	addrs=$(ss -tnpH state established "( dport = :$port )" |
		awk -v p="pid=$pid," 'index($0, p) {print $3}')
	n=$(redis-cli -p "$port" CLIENT KILL ADDR "$addrs" SKIPME yes)
	echo go >"$work/go"
	jrc=0
	wait "$job" || jrc=$?
	acked=$(awk '/^acked/ {n = $2} END {print n + 0}' "$work/out.$t")
	res=$("$bin" check "$uri" ">=$acked" 2>&1 | tail -1) || res="check failed: $res"
	vrc=0
	v=$("$cli" verify "$uri" 2>&1) || vrc=$?
	prc=0
	p=$("$py" - "$docs" 127.0.0.1:"$port" "$prefix" "$acked" <<'EOF' 2>&1) || prc=$?
import sys
import numpy as np
import redis
sys.path.insert(0, sys.argv[1])
from redis_decode import read_dataset
host, port = sys.argv[2].split(":")
r = redis.Redis(host=host, port=int(port))
# a key the cut rank never let start is no key (0 steps)
a = (read_dataset(r, sys.argv[3], "run/u") if r.exists(sys.argv[3] + ":m:run/u")
     else np.zeros((0, 4, 256)))
def value(s, r, i):  # test_faults.c value(), key 0
    x = (s << 40 ^ r << 32 ^ i) & (2**64 - 1)
    x ^= x >> 30; x = x * 0xbf58476d1ce4e5b9 & (2**64 - 1)
    x ^= x >> 27; x = x * 0x94d049bb133111eb & (2**64 - 1)
    x ^= x >> 31
    return 1.0 + s * 1e4 + r * 100.0 + i % 100 + (x >> 12) * 2.0**-53
want = np.array([[[value(s, r, i) for i in range(256)] for r in range(4)]
                 for s in range(a.shape[0])]).reshape((a.shape[0], 4, 256))
torn = [s for s in range(a.shape[0]) if not np.array_equal(a[s], want[s])]
assert not torn and a.shape[0] >= int(sys.argv[4]), f"redis-py: {a.shape[0]} steps, torn {torn}"
print(f"redis-py: {a.shape[0]} steps whole")
EOF
	fail=
	[ "$n" = 1 ] || fail="$fail; CLIENT KILL ADDR '$addrs' killed '$n' clients"
	[ "$jrc" = 0 ] || fail="$fail; the run exited $jrc"
	grep -q '^status SIMREC_ECONN$' "$work/out.$t" || fail="$fail; the run did not fail with SIMREC_ECONN"
	grep -q '^close status SIMREC_ECONN$' "$work/out.$t" || fail="$fail; the close did not fail with SIMREC_ECONN"
	! grep -q 'differ' "$work/out.$t" || fail="$fail; statuses differ between ranks"
	case $res in "steps "*" torn 0 "*) ;; *) fail="$fail; simrec check: $res" ;; esac
	[ "$prc" = 0 ] || fail="$fail; $(tail -1 <<<"$p")"
	[ "$vrc" = 0 ] || fail="$fail; verify exit $vrc: $(grep -v '^ok' <<<"$v" | head -3)"
	echo "cut rank $victim at step $step: acked $acked, $res; $(tail -1 <<<"$p"); verify exit $vrc${fail:+ FAIL$fail}"
	if [ -n "$fail" ]; then
		grep -v '^acked' "$work/out.$t" | head -5
		bad=$((bad + 1))
	fi
	t=$((t + 1))
done
[ "$bad" = 0 ] && echo "redis cut: ok"
exit "$bad"
