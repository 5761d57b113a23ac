#!/bin/bash
# examples/heat2d_follow.py follows heat2d while it runs: the follower
# starts first on an empty zarr+dir store (a directory with only .zgroup),
# says it follows (read through a FIFO: no sleep), and waits in
# simrec_follow; then heat2d runs at np 3 and writes the store. The
# follower must exit 0 on the finished status, its lines must equal
# numpy's on the finished store and its pictures must be there
# (check_heat_follow.py, through zarr-python).
#   heat_follow.sh MPIEXEC HEAT2D PYTHON EXAMPLES SIMREC_BIN WORK
set -euo pipefail
mpiexec=$1 heat2d=$2 python=$3 examples=$4 bindir=$5 work=$6
here=$(dirname "$0")
rm -rf "$work"
mkdir -p "$work/heat.zarr"
printf '{"zarr_format": 2}\n' >"$work/heat.zarr/.zgroup"
store="zarr+dir:$work/heat.zarr"
mkfifo "$work/fout"
SIMREC_BIN=$bindir timeout -k 5 120 "$python" "$examples/heat2d_follow.py" \
	"$store" --png-every 4 --png-dir "$work/png" --timeout 60 \
	>"$work/fout" 2>"$work/ferr" &
follower=$!
trap 'kill -9 "$follower" 2>/dev/null || :' EXIT
exec 4<"$work/fout"
fail() {
	echo "FAIL: $*"
	[ ! -s "$work/ferr" ] || { echo "--- follower stderr"; head -20 "$work/ferr"; }
	exit 1
}
read -r -t 60 first <&4 || fail "the follower did not start"
printf '%s\n' "$first" >"$work/lines"
case $first in "following heat/T in "*) ;; *) fail "follower said '$first'" ;; esac
# the follower waits in simrec_follow: heat2d runs now (11 snapshots)
timeout -k 5 120 "$mpiexec" -n 3 --oversubscribe "$heat2d" "$store" 100 40 30 \
	>"$work/heat.out" || fail "heat2d exited $?"
cat <&4 >>"$work/lines"
rc=0
wait "$follower" || rc=$?
[ "$rc" = 0 ] || fail "the follower exited $rc, not 0 (finished)"
exec 4<&-
"$python" "$here/check_heat_follow.py" "$work/heat.zarr" "$work/lines" \
	"$work/png" 4
rm -rf "$work"
