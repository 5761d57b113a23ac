#!/bin/bash
# simrec watch against a running writer (follow_writer.c, paced by the
# test through a FIFO): the summary lines equal the formula's
# (follow_data.h: step s holds s*10000 + i*100 + j on 12 x 10, so min
# s*10000, max s*10000+1109, mean s*10000+554.5); exit 4 when no record
# comes within --timeout; exit 0 once the writer finished, for a watch
# started mid-run and one started after the end (--every 3). The live
# watch also draws --png: after the run the picture is the last record's
# (check_watch_png.py, PIL and matplotlib's viridis), and with --every 3
# the last record printed (6 of 0..7); an
# unwritable --png ends the watch with exit 1.
#   watch.sh MPIEXEC WRITER SIMREC WORK PYTHON
set -euo pipefail
mpiexec=$1 writer=$2 simrec=$3 work=$4 python=$5
check_png="$(dirname "$0")/check_watch_png.py"
rm -rf "$work"
mkdir -p "$work"
store="zarr+dir:$work/store.zarr"
mkfifo "$work/pace" "$work/wout"
exec 3<>"$work/pace"
timeout -k 5 120 "$mpiexec" -n 3 --oversubscribe "$writer" "$store" 8 \
	"$work/pace" >"$work/wout" 2>"$work/werr" &
job=$! live=
trap 'for p in $job $live; do kill -9 "$p" 2>/dev/null || :; done' EXIT
exec 4<"$work/wout"
read -r -t 60 word pid <&4
[ "$word" = open ]
steps() { # give N steps, wait for each
	for ((k = 0; k < $1; k++)); do
		printf x >&3
		read -r -t 60 line <&4
	done
}
expect() { # FIRST LAST EVERY: the lines of records FIRST..LAST
	for ((s = $1; s <= $2; s += $3)); do
		echo "$s min=$((s * 10000)) max=$((s * 10000 + 1109)) mean=$((s * 10000 + 554)).5"
	done
}
steps 3
rc=0
out=$("$simrec" watch "$store" field/T --timeout 1) || rc=$?
[ "$rc" = 4 ] || { echo "FAIL: watch of a live writer exited $rc, not 4"; exit 1; }
[ "$out" = "$(expect 0 2 1)" ] || { echo "FAIL: watch printed '$out'"; exit 1; }
"$simrec" watch "$store" field/T --timeout 60 --png "$work/live.png" \
	>"$work/live" &
live=$!
steps 5
wait "$job"
rc=0
wait "$live" || rc=$?
[ "$rc" = 0 ] || { echo "FAIL: watch of a finished writer exited $rc"; exit 1; }
[ "$(cat "$work/live")" = "$(expect 0 7 1)" ] || { echo "FAIL: live watch printed '$(cat "$work/live")'"; exit 1; }
"$python" "$check_png" "$work/live.png" 7
[ "$(ls "$work")" = "$(printf '%s\n' live live.png pace store.zarr werr wout)" ] ||
	{ echo "FAIL: files left beside the picture: $(ls "$work")"; exit 1; }
out=$("$simrec" watch "$store" field/T --every 3 --png "$work/every.png")
[ "$out" = "$(expect 0 7 3)" ] || { echo "FAIL: --every 3 printed '$out'"; exit 1; }
"$python" "$check_png" "$work/every.png" 6
rc=0
"$simrec" watch "$store" field/T --png "$work/no/such/dir.png" \
	>/dev/null 2>"$work/err" || rc=$?
[ "$rc" = 1 ] || { echo "FAIL: an unwritable --png exited $rc, not 1"; exit 1; }
grep -q "record 7 of 'field/T'" "$work/err" ||
	{ echo "FAIL: unwritable --png said '$(cat "$work/err")'"; exit 1; }
rc=0
"$simrec" watch "$store" field/T --every 0 2>"$work/err" || rc=$?
[ "$rc" = 2 ] || { echo "FAIL: --every 0 exited $rc, not 2 (usage)"; exit 1; }
grep -q -F -- "--every '0': not a whole number >= 1" "$work/err" ||
	{ echo "FAIL: --every 0 did not say which argument: $(cat "$work/err")"; exit 1; }
rc=0
"$simrec" watch "$store" field/T --bogus 2>"$work/err" || rc=$?
[ "$rc" = 2 ] && grep -q -F "option '--bogus': unknown" "$work/err" ||
	{ echo "FAIL: --bogus exited $rc: $(cat "$work/err")"; exit 1; }
# a key the finished writer never recorded (a typo): an error naming it
rc=0
out=$("$simrec" watch "$store" field/TYPO --timeout 60 2>"$work/err") || rc=$?
[ "$rc" = 1 ] && [ -z "$out" ] ||
	{ echo "FAIL: watch of a missing key exited $rc, printed '$out'"; exit 1; }
grep -q -F "no key 'field/TYPO'" "$work/err" && grep -q SIMREC_ENOKEY "$work/err" ||
	{ echo "FAIL: watch of a missing key said '$(cat "$work/err")'"; exit 1; }
# a group, not a dataset
rc=0
"$simrec" watch "$store" field --timeout 60 2>"$work/err" || rc=$?
[ "$rc" = 1 ] && grep -q SIMREC_EKIND "$work/err" ||
	{ echo "FAIL: watch of a group exited $rc: $(cat "$work/err")"; exit 1; }
exec 3>&- 4<&-
rm -rf "$work"
echo "watch: ok"
