#!/bin/bash
# One writer per zarr store across hosts: two "hosts" (network namespaces
# with hostnames of their own, sro1 and sro2, in UTS namespaces) write one
# store in one shared directory.
# (1) While a writer on sro1 (job 4711) holds the store (it hands its pid
#     over a FIFO and waits for a line back), a writer on sro2 is refused
#     with SIMREC_ELOCK naming the holder's host, pid and job.
# (2) The holder on sro1 is then killed (SIGKILL): its lock stays. sro2
#     cannot tell whether a process of another host is gone, so it must
#     still be refused, never take the store over, and the refusal must
#     say how to clear it (delete the named lock file once that process is
#     known to be gone: docs/safety.md).
# (3) The documented override: the lock file deleted, the writer on sro2
#     writes its 7 records, which read back whole.
# Needs root (namespaces); everything it creates goes in a trap.
# usage: owner_hosts.sh TEST_NOCLOSE WORKDIR SCHEME...
set -euo pipefail
bin=$1 work=$2
shift 2
say() { echo "owner_hosts: $*"; }
[ "$(id -u)" = 0 ] || { say "FAIL: needs root to create network namespaces"; exit 1; }
net=10.213.79 # private /24, unique to this test
p=sro$$       # namespace names unique to this run: sro1-PID, sro2-PID
added_route=0
mkdir -p "$work"
work=$(cd "$work" && pwd)
cleanup() {
	for h in sro1 sro2; do
		n=${h}-$$
		[ -e "/run/netns/$n" ] || continue
		pids=$(ip netns pids "$n")
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null || : # gone already
		ip netns del "$n"
	done
	[ "$added_route" = 0 ] || ip route del blackhole "$net.0/24"
	rm -f "$work/fifo.out" "$work/fifo.in"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
# namespaces of an earlier run killed before its trap ran
for n in $(ip netns list | awk '/^sro[12]-[0-9]+( |$)/ {print $1}'); do
	[ -d "/proc/${n#*-}" ] && continue
	pids=$(ip netns pids "$n")
	[ -z "$pids" ] || kill -9 $pids 2>/dev/null || : # gone already
	ip netns del "$n"
done
# no packet for the test subnet may leave the machine
if ! ip route show "$net.0/24" | grep -q .; then
	ip route replace blackhole "$net.0/24"
	added_route=1
fi
for h in sro1 sro2; do
	ip netns add "$h-$$"
	ip -n "$h-$$" link set lo up
done
# on HOST: CMD... with HOST as the host name
on() {
	local h=$1
	shift
	ip netns exec "$h-$$" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$h" "$@"
}
[ "$(on sro1 hostname)" = sro1 ] && [ "$(on sro2 hostname)" = sro2 ] ||
	{ say "FAIL: the hosts have no names of their own"; exit 1; }
fail=0
for scheme in "$@"; do
	store=$work/store.$scheme uri=$scheme:$work/store.$scheme lock=$store.simrec-writer
	rm -rf "$store" "$lock" "$work/fifo.out" "$work/fifo.in"
	mkfifo "$work/fifo.out" "$work/fifo.in"
	why=
	SLURM_JOB_ID=4711 on sro1 timeout -k 5 60 "$bin" hold "$uri" "$work/fifo" \
		>"$work/hold.out" 2>&1 &
	job=$!
	pid=$(timeout 60 cat "$work/fifo.out") || pid=
	case $pid in '' | *[!0-9]*) why="the holder sent no pid ('$pid')" ;; esac
	# (1) the holder is alive on sro1
	src=0
	on sro2 "$bin" second "$uri" >"$work/second" 2>&1 || src=$?
	[ "$src" = 0 ] || why="${why:+$why; }sro2 was not refused with SIMREC_ELOCK: $(cat "$work/second")"
	grep -q -F -- "by pid $pid on host sro1 (job 4711)" "$work/second" ||
		why="${why:+$why; }the refusal does not name pid $pid on sro1, job 4711: $(cat "$work/second")"
	# (2) the holder is gone; sro2 cannot know
	[ -z "$pid" ] || kill -9 "$pid"
	hrc=0
	wait "$job" || hrc=$?
	[ "$hrc" != 0 ] || why="${why:+$why; }the killed holder exited 0"
	[ -e "$lock" ] || why="${why:+$why; }no lock file left by the killed holder"
	src=0
	on sro2 "$bin" second "$uri" >"$work/stale" 2>&1 || src=$?
	[ "$src" = 0 ] || why="${why:+$why; }sro2 took a store of another host over: $(cat "$work/stale")"
	grep -q -F -- "by pid $pid on host sro1 (job 4711)" "$work/stale" &&
		grep -q -F -- "delete its lock file '$lock'" "$work/stale" ||
		why="${why:+$why; }the refusal does not say how to clear it: $(cat "$work/stale")"
	! grep -q 'taking the store over' "$work/stale" ||
		why="${why:+$why; }sro2 judged sro1's process: $(cat "$work/stale")"
	# (3) the documented override: the named lock file deleted
	rm -f "$lock"
	trc=0
	on sro2 "$bin" serial "$uri" 7 >"$work/take" 2>&1 || trc=$?
	[ "$trc" = 0 ] || why="${why:+$why; }sro2 could not write after the lock file went: $(cat "$work/take")"
	rrc=0
	"$bin" read "$uri" 7 0 >"$work/read" 2>&1 || rrc=$?
	[ "$rrc" = 0 ] || why="${why:+$why; }read after: $(cat "$work/read")"
	say "$scheme: $(head -1 "$work/stale" | head -c 300)${why:+ -- FAIL: $why}"
	[ -z "$why" ] || fail=1
done
[ "$fail" = 0 ] && say "ok"
exit "$fail"
