#!/bin/bash
# SLURM's time limit: SIGTERM to every rank of a running job (np 3, no
# flush in the program), then SIGKILL to what is still alive after a
# bound (SLURM's KillWait). The ranks hand their pids over a FIFO once
# step 5 is done. After: the job died (not 0, not a hang), every step
# rank 0 acknowledged is visible and whole (test_noclose read), and
# `simrec verify` says ok.
# usage: sigterm.sh MPIEXEC TEST_NOCLOSE SIMREC_CLI WORKDIR SCHEME...
set -euo pipefail
mpiexec=$1 bin=$2 cli=$3 work=$4
shift 4
rm -rf "$work"
mkdir -p "$work"
fail=0
for scheme in "$@"; do
	store=$work/store.$scheme fifo=$work/fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	timeout -k 5 120 "$mpiexec" -n 3 --oversubscribe "$bin" term \
		"$scheme:$store" "$fifo" >"$work/out" 2>"$work/err" &
	job=$!
	why=
	pids=$(timeout 60 cat "$fifo") || pids=
	case $pids in
	*[0-9]" "*[0-9]" "*[0-9]) kill -TERM $pids || why="a rank was gone before SIGTERM" ;;
	*) why="no pids ('$pids'): nothing was signalled" ;;
	esac
	# KillWait: SIGKILL to every rank still alive after 30 s
	waited=0
	for p in $pids; do
		while kill -0 "$p" 2>/dev/null && [ "$waited" -lt 300 ]; do
			sleep 0.1
			waited=$((waited + 1))
		done
	done
	killed=0
	for p in $pids; do
		if kill -KILL "$p" 2>/dev/null; then killed=1; fi
	done
	[ "$killed" = 0 ] || why="${why:+$why; }a rank outlived SIGTERM by 30 s (SIGKILLed)"
	jrc=0
	wait "$job" || jrc=$?
	case $jrc in
	0) why="${why:+$why; }the job exited 0 after SIGTERM" ;;
	124) why="${why:+$why; }the job hung (timeout)" ;;
	esac
	acked=$(awk '/^acked/ {n = $2} END {print n + 0}' "$work/out")
	[ "$acked" -ge 6 ] || why="${why:+$why; }only $acked steps acked"
	rrc=0
	res=$("$bin" read "$scheme:$store" ">=$acked" 3 2>&1) || rrc=$?
	[ "$rrc" = 0 ] || why="${why:+$why; }read exit $rrc: $res"
	vrc=0
	"$cli" verify "$scheme:$store" >"$work/verify" 2>&1 || vrc=$?
	[ "$vrc" = 0 ] || why="${why:+$why; }verify exit $vrc"
	echo "$scheme: job exit $jrc, acked $acked, read: ${res//$'\n'/ }${why:+ -- FAIL: $why}"
	if [ -n "$why" ]; then
		fail=1
		sed 's/^/    /' "$work/err" "$work/verify" | head -20
	fi
done
rm -f "$work/fifo"
[ "$fail" = 0 ]
