#!/bin/bash
# Live follow of a store while an MPI job writes it (follow_writer.c,
# follow_reader.c). The test paces the writer through a FIFO, one byte per
# step, and gives the next byte only once follower A reported the step
# before: A really waits for every step.
#   follow.sh MPIEXEC WRITER READER WORK URI NP N run
#     followers A (from record 0) and B (started mid-run, from record 2)
#     see every step once, in order, whole, then the finished status
#   follow.sh MPIEXEC WRITER READER WORK URI NP N kill
#     the writer's rank 0 is killed with kill -9 in the middle of a step:
#     A (from 0) and B (started after the kill, from 0) see only whole
#     steps and end by their timeout, not a hang
#   a 9th argument "late" starts A once step 0 is recorded (an HDF5 SWMR
#   file opens for readers only from its writer's first flush)
# A run's followers wait with a timeout of an hour: they end only by the
# finished mark, which every store must carry after a clean close.
# Every process must exit 0 (the killed job: not 0).
set -euo pipefail
mpiexec=$1 writer=$2 reader=$3 work=$4 uri=$5 np=$6 n=$7 mode=$8
late=${9:-}
rm -rf "$work"
mkdir -p "$work"
mkfifo "$work/pace" "$work/wout" "$work/aout"
exec 3<>"$work/pace" # read-write: opening never blocks, writing never fails
timeout -k 5 120 "$mpiexec" -n "$np" --oversubscribe "$writer" "$uri" "$n" \
	"$work/pace" >"$work/wout" 2>"$work/werr" &
job=$!
fa= fb=
# a failed check leaves nothing running
trap 'for p in $job $fa $fb; do kill -9 "$p" 2>/dev/null || :; done' EXIT
exec 4<"$work/wout"
fail() {
	echo "FAIL: $*"
	for f in werr aerr berr; do
		[ ! -s "$work/$f" ] || { echo "--- $f"; head -20 "$work/$f"; }
	done
	exit 1
}
read -r -t 60 word wpid <&4 || fail "the writer did not open the store"
[ "$word" = open ] || fail "writer said '$word'"
ftime=3600
[ "$mode" = run ] || ftime=3
if [ "$mode" = run ]; then
	want=(finished "$n")
else
	want=(timeout)
fi
start_a() {
	timeout -k 5 90 "$reader" "$uri" 0 "$ftime" "${want[@]}" \
		>"$work/aout" 2>"$work/aerr" &
	fa=$!
	exec 5<"$work/aout"
}
[ "$late" = late ] || start_a
upto=$n
[ "$mode" = run ] || upto=$((n / 2))
for ((s = 0; s < upto; s++)); do
	printf x >&3
	read -r -t 60 line <&4 || fail "the writer did not record step $s"
	[ "$line" = "step $s" ] || fail "writer said '$line' for step $s"
	[ -n "$fa" ] || start_a
	if [ "$mode" = run ] && [ "$s" = $((n / 2)) ]; then
		timeout -k 5 90 "$reader" "$uri" 2 "$ftime" "${want[@]}" \
			>/dev/null 2>"$work/berr" &
		fb=$!
	fi
	read -r -t 60 line <&5 || fail "follower A did not see step $s"
	[ "$line" = "seen $s" ] || fail "follower A said '$line' for step $s"
done
jrc=0
if [ "$mode" = kill ]; then
	printf x >&3 # the next step starts: the kill falls inside it
	kill -9 "$wpid"
	wait "$job" || jrc=$?
	[ "$jrc" != 0 ] || fail "the writer's job exited 0 with rank 0 killed"
	[ "$jrc" != 124 ] || fail "the writer's job hung after the kill"
	timeout -k 5 90 "$reader" "$uri" 0 "$ftime" timeout >/dev/null \
		2>"$work/berr" &
	fb=$!
else
	wait "$job" || jrc=$?
	[ "$jrc" = 0 ] || fail "the writer's job exited $jrc"
fi
arc=0 brc=0
wait "$fa" || arc=$?
wait "$fb" || brc=$?
cat "$work/aerr" "$work/berr"
[ "$arc" = 0 ] || fail "follower A exited $arc"
[ "$brc" = 0 ] || fail "follower B exited $brc"
exec 3>&- 4<&- 5<&-
rm -rf "$work"
echo "follow $mode $uri np $np: ok"
