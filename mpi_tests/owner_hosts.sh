#!/bin/bash
# One writer per zarr store across hosts: two "hosts" (network namespaces
# with hostnames of their own, sroPID-h1 and sroPID-h2: tools/nshosts.sh)
# write one store in one shared directory.
# (1) While a writer on h1 (job 4711) holds the store (it hands its pid
#     over a FIFO and waits for a line back), a writer on h2 is refused
#     with SIMREC_ELOCK naming the holder's host, pid and job.
# (2) The holder on h1 is then killed (SIGKILL): its lock stays. h2
#     cannot tell whether a process of another host is gone, so it must
#     still be refused, never take the store over, and the refusal must
#     say how to clear it (delete the named lock file once that process is
#     known to be gone: docs/safety.md).
# (3) The documented override: the lock file deleted, the writer on h2
#     writes its 7 records, which read back whole.
# Needs root (namespaces); everything it creates goes in a trap.
# usage: owner_hosts.sh TEST_NOCLOSE WORKDIR SCHEME...
set -euo pipefail
bin=$1 work=$2
shift 2
. "$(dirname "$0")/../tools/nshosts.sh"
say() { echo "owner_hosts: $*"; }
[ "$(id -u)" = 0 ] || { say "FAIL: needs root to create network namespaces"; exit 1; }
net=10.213.79 # private /24, unique to this test
p=sro$$       # namespaces unique to this run: sroPID-h1, sroPID-h2, sroPID-br
mkdir -p "$work"
work=$(cd "$work" && pwd)
nshosts_stale sro # an earlier run's, killed before its trap ran
trap 'nshosts_down "$p" 2; rm -f "$work/fifo.out" "$work/fifo.in"' EXIT
trap 'exit 1' INT TERM HUP PIPE
nshosts_up "$p" "$net" 2 "$work"
h1=$p-h1 h2=$p-h2
[ "$(nshosts_on "$p" 1 hostname)" = "$h1" ] && [ "$(nshosts_on "$p" 2 hostname)" = "$h2" ] ||
	{ say "FAIL: the hosts have no names of their own"; exit 1; }
fail=0
for scheme in "$@"; do
	store=$work/store.$scheme uri=$scheme:$work/store.$scheme lock=$store.simrec-writer
	rm -rf "$store" "$lock" "$work/fifo.out" "$work/fifo.in"
	mkfifo "$work/fifo.out" "$work/fifo.in"
	why=
	SLURM_JOB_ID=4711 nshosts_on "$p" 1 timeout -k 5 60 "$bin" hold "$uri" "$work/fifo" \
		>"$work/hold.out" 2>&1 &
	job=$!
	pid=$(timeout 60 cat "$work/fifo.out") || pid=
	case $pid in '' | *[!0-9]*) why="the holder sent no pid ('$pid')" ;; esac
	# (1) the holder is alive on h1
	src=0
	nshosts_on "$p" 2 "$bin" second "$uri" >"$work/second" 2>&1 || src=$?
	[ "$src" = 0 ] || why="${why:+$why; }$h2 was not refused with SIMREC_ELOCK: $(cat "$work/second")"
	grep -q -F -- "by pid $pid on host $h1 (job 4711)" "$work/second" ||
		why="${why:+$why; }the refusal does not name pid $pid on $h1, job 4711: $(cat "$work/second")"
	# (2) the holder is gone; h2 cannot know
	[ -z "$pid" ] || kill -9 "$pid"
	hrc=0
	wait "$job" || hrc=$?
	[ "$hrc" != 0 ] || why="${why:+$why; }the killed holder exited 0"
	[ -e "$lock" ] || why="${why:+$why; }no lock file left by the killed holder"
	src=0
	nshosts_on "$p" 2 "$bin" second "$uri" >"$work/stale" 2>&1 || src=$?
	[ "$src" = 0 ] || why="${why:+$why; }$h2 took a store of another host over: $(cat "$work/stale")"
	grep -q -F -- "by pid $pid on host $h1 (job 4711)" "$work/stale" &&
		grep -q -F -- "delete its lock file '$lock'" "$work/stale" ||
		why="${why:+$why; }the refusal does not say how to clear it: $(cat "$work/stale")"
	! grep -q 'taking the store over' "$work/stale" ||
		why="${why:+$why; }$h2 judged $h1's process: $(cat "$work/stale")"
	# (3) the documented override: the named lock file deleted
	rm -f "$lock"
	trc=0
	nshosts_on "$p" 2 "$bin" serial "$uri" 7 >"$work/take" 2>&1 || trc=$?
	[ "$trc" = 0 ] || why="${why:+$why; }$h2 could not write after the lock file went: $(cat "$work/take")"
	rrc=0
	"$bin" read "$uri" 7 0 >"$work/read" 2>&1 || rrc=$?
	[ "$rrc" = 0 ] || why="${why:+$why; }read after: $(cat "$work/read")"
	say "$scheme: $(head -1 "$work/stale" | head -c 300)${why:+ -- FAIL: $why}"
	[ -z "$why" ] || fail=1
done
[ "$fail" = 0 ] && say "ok"
exit "$fail"
