#!/bin/bash
# A network partition between MPI hosts, with the Open MPI settings users
# get from slurm/env.sh (checked equal in tools/run.sh): three "hosts"
# (network namespaces h1..h3 on one bridge, each with its own hostname, so
# the job sees three nodes and has three writers), one job of 6 ranks
# (test_faults write, a flush every 4 steps). Once a flush has acknowledged
# ACK_STEPS steps (rank 0 says so through a FIFO), h3's link is cut for
# good. Then, for each store:
#  - the job must end, non-zero, within BOUND seconds (measured: printed);
#  - no process of the job may remain in any of the namespaces;
#  - `simrec verify` passes, every visible step is whole and at least the
#    acknowledged steps are there (simrec, and zarr-python / h5py).
# Stores: zarr+dir and hdf5 on the shared file system, redis (a server on
# h1, every rank pushing to it: fully distributed mode).
# Needs root (namespaces). Everything it creates goes in a trap.
# usage: partition.sh MPIEXEC TEST_FAULTS SIMREC CHECK_PY SRCDIR WORKDIR STORE...
set -euo pipefail
mpiexec=$1 bin=$2 cli=$3 check=$4 src=$5 work=$6
shift 6
say() { echo "partition: $*"; }
[ "$(id -u)" = 0 ] || { say "FAIL: needs root to create network namespaces"; exit 1; }
bound=60 ack_steps=8
net=10.213.77              # private /24, unique to this test
p=srpart$$                 # namespace prefix, unique to this run
mkdir -p "$work"
work=$(cd "$work" && pwd)
redis_pid=""
. "$src/tools/nshosts.sh"

# namespaces of an earlier run that was killed before its trap ran
nshosts_stale srpart

cleanup() {
	nshosts_down "$p" 3
	rm -f "$work/ack.fifo"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# the keepalive users get (slurm/env.sh), the same in tools/run.sh
ka=$(grep -o 'OMPI_MCA_oob_tcp_keepalive_[a-z]*=[0-9]*' "$src/slurm/env.sh" | sort)
ka_run=$(grep -o 'OMPI_MCA_oob_tcp_keepalive_[a-z]*=[0-9]*' "$src/tools/run.sh" | sort)
[ "$(echo "$ka" | wc -l)" = 3 ] && [ "$ka" = "$ka_run" ] || {
	say "FAIL: slurm/env.sh and tools/run.sh do not set the same three oob_tcp_keepalive settings"
	exit 1
}
say "keepalive from slurm/env.sh:" $ka
for kv in $ka; do export "$kv"; done

# hosts h1..h3 on one bridge (the guard route first), Open MPI's agent
nshosts_up "$p" "$net" 3 "$work" || exit 1

# in host h1: CMD... with h1's hostname
on_h1() { nshosts_on "$p" 1 "$@"; }
# pids of any namespace, without the redis server
left_pids() {
	for n in h1 h2 h3; do ip netns pids "$p-$n"; done |
		awk -v r="${redis_pid:-none}" '$0 != r'
}

fail=0
for scheme in "$@"; do
	[ "$fail" = 0 ] || break # one failure at a time keeps within ctest's bound
	case $scheme in
	redis)
		rdir=$work/redis
		rm -rf "$rdir" && mkdir -p "$rdir"
		ip netns exec "$p-h1" redis-server --bind "$net.1" --port 6379 --dir "$rdir" \
			--pidfile "$rdir/pid" --daemonize yes --logfile "$rdir/log" \
			--save '' --protected-mode no >/dev/null || exit 1
		ip netns exec "$p-h1" timeout 10 sh -c \
			"until redis-cli -h $net.1 ping >/dev/null 2>&1; do sleep 0.05; done" ||
			{ say "FAIL: redis-server did not start"; cat "$rdir/log"; exit 1; }
		redis_pid=$(cat "$rdir/pid")
		uri="redis://$net.1:6379?prefix=part"
		;;
	*)
		store=$work/store.$scheme
		# with Open MPI's MPI-IO lock files an aborted hdf5 job leaves
		rm -rf "$store" "$store"-*.lock "$store".simrec-writer
		uri=$scheme:$store
		;;
	esac
	fifo=$work/ack.fifo
	rm -f "$fifo" && mkfifo "$fifo" || exit 1
	out=$work/out.$scheme
	# paced at 20 ms a step, so that it outlives the cut by far
	on_h1 env SIMREC_TEST_ACK_STEP=$ack_steps SIMREC_TEST_ACK_FIFO="$fifo" \
		SIMREC_TEST_STEP_USEC=20000 timeout -k 5 $bound "$mpiexec" -n 6 \
		--host "$p-h1:2,$p-h2:2,$p-h3:2" "$bin" write "$uri" 1000000 4 256 \
		>"$out" 2>&1 &
	job=$!
	acked=$(timeout $bound cat "$fifo" | awk '/^acked/ {print $2}') || acked=
	if [ -z "$acked" ]; then
		say "$scheme: FAIL: no flush acknowledged"
		kill "$job" 2>/dev/null || :
		wait "$job" || :
		cat "$out"
		fail=1
		continue
	fi
	t0=$(date +%s.%N)
	ip -n "$p-br" link set v3 down
	rc=0
	wait "$job" || rc=$?
	t1=$(date +%s.%N)
	# the job's exit does not wait for the cut host: its processes get
	# 30 s more to go (they went with the job in every run seen)
	n=0
	while [ -n "$(left_pids)" ] && [ $n -lt 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	t2=$(date +%s.%N)
	left=$(left_pids)
	ended=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}')
	gone=$(echo "$t0 $t2" | awk '{printf "%.1f", $2 - $1}')
	say "$scheme: acked $acked steps, cut h3: job ended after $ended s with status $rc, last process gone after $gone s"
	if [ "$rc" = 0 ] || [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		say "$scheme: FAIL: the job did not abort by itself within $bound s (status $rc)"
		fail=1
	fi
	if [ -n "$left" ]; then
		say "$scheme: FAIL: processes left behind:"
		ps -o pid,args -p "$(echo $left | tr ' ' ,)" || :
		kill -9 $left 2>/dev/null || :
		fail=1
	fi
	awk 'tolower($0) ~ /lost|abort|unreach|fail/ && n++ < 3 {print "    " $0}' "$out"
	# the store: verify, then every visible step whole, the acked ones there
	on_h1 "$cli" verify "$uri" >"$work/verify.$scheme" 2>&1 || {
		say "$scheme: FAIL: simrec verify"
		fail=1
	}
	sed 's/^/    /' "$work/verify.$scheme"
	crc=0
	res=$(on_h1 "$bin" check "$uri" ">=$acked" 2>&1) || crc=$?
	say "$scheme: simrec reads $res"
	[ $crc = 0 ] || { say "$scheme: FAIL: torn, unreadable or acknowledged steps lost"; fail=1; }
	if [ "$scheme" != redis ]; then
		prc=0
		py=$("$check" "$scheme" "$store" 2>&1) || prc=$?
		py=$(tail -1 <<<"$py")
		say "$scheme: python reads $py (exit $prc)"
		[ "$prc" = 0 ] && [ "$py" = "$(tail -1 <<<"$res")" ] ||
			{ say "$scheme: FAIL: python disagrees"; fail=1; }
	else
		ip netns exec "$p-h1" redis-cli -h "$net.1" shutdown nosave >/dev/null 2>&1
		kill "$redis_pid" 2>/dev/null || : # shut down already
		redis_pid=""
	fi
	ip -n "$p-br" link set v3 up
	# the next job must reach h3 again: the neighbour entries that failed
	# during the cut would refuse connections for a while (EHOSTUNREACH,
	# "unable to complete a TCP connection"), so they are flushed, and the
	# link counts as back once h1 and h3 answer each other's ping
	for i in 1 2 3; do ip -n "$p-h$i" neigh flush all || :; done
	ip netns exec "$p-h1" timeout 20 sh -c \
		"until ping -c 1 -W 1 $net.3 >/dev/null 2>&1; do :; done" &&
		ip netns exec "$p-h3" timeout 20 sh -c \
			"until ping -c 1 -W 1 $net.1 >/dev/null 2>&1; do :; done" ||
		{ say "FAIL: h3 unreachable after the link came back"; fail=1; }
done
[ "$fail" = 0 ] && say ok
exit "$fail"
