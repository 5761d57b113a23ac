#!/bin/bash
# A C program that returns from main without simrec_close, on every
# store, serial (atexit) and at np 3 (MPI_Finalize): it exits 0 and says
# on stderr which store it closed for the program; then every record is
# there as written (test_noclose read) and `simrec verify` says ok. A
# memory: store cannot be read after its process: its message and exit
# status tell.
# usage: noclose.sh MPIEXEC TEST_NOCLOSE SIMREC_CLI REDIS_SERVER_SH WORKDIR SCHEME...
set -euo pipefail
mpiexec=$1 bin=$2 cli=$3 server=$4 work=$5
shift 5
rm -rf "$work"
mkdir -p "$work"
trap '"$server" stop "$work/srv" >/dev/null 2>&1 || true' EXIT
"$server" start "$work/srv" >/dev/null
port=$(cat "$work/srv/port")
fail=0
for scheme in "$@"; do
	for how in serial mpi; do
		case $scheme in
		memory) uri="memory:" ;;
		redis) uri="redis://127.0.0.1:$port?prefix=noclose-$how" ;;
		*) uri="$scheme:$work/$how.$scheme" ;;
		esac
		if [ "$how" = serial ]; then
			when="at exit" np=0
			cmd=("$bin" serial "$uri" 7)
		else
			when="at MPI_Finalize" np=3
			cmd=(timeout -k 5 60 "$mpiexec" -n 3 --oversubscribe "$bin" mpi "$uri" 7)
		fi
		rc=0
		"${cmd[@]}" >"$work/out" 2>"$work/err" || rc=$?
		why=
		[ "$rc" = 0 ] || why="the program exited $rc"
		want="was not closed by the program: closed $when (nothing lost)"
		n=$(grep -c -F -- "$want" "$work/err" || true)
		[ "$n" = 1 ] || why="${why:+$why; }$n lines '$want' on stderr, want 1"
		if [ "$scheme" != memory ]; then
			rrc=0
			"$bin" read "$uri" 7 "$np" >>"$work/out" 2>&1 || rrc=$?
			[ "$rrc" = 0 ] || why="${why:+$why; }read exit $rrc"
			vrc=0
			"$cli" verify "$uri" >>"$work/out" 2>&1 || vrc=$?
			[ "$vrc" = 0 ] || why="${why:+$why; }verify exit $vrc"
		fi
		echo "$scheme $how: exit $rc${why:+ -- FAIL: $why}"
		if [ -n "$why" ]; then
			fail=1
			sed 's/^/    /' "$work/err" "$work/out" | head -20
		fi
	done
done
[ "$fail" = 0 ]
