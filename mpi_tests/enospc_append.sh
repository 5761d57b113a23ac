#!/bin/bash
# A full disk met while appending (mode=a) to an existing HDF5 file, one
# made by simrec and one made by h5py (HDF5's default file-space strategy
# and format): on a 6 MiB tmpfs, 4 ranks and one writer append "run/u"
# (test_faults write, a flush every step) until the disk is full, three
# runs one after the other (the second and third fail at once, on the
# space the first left). Asserted after every run: no process crashes
# (exit code) or hangs (timeout); the failure names the cause and the
# path; nothing from HDF5 on stdout or stderr (no error stack, no
# "infinite loop closing library"); every step that any run's flush
# acknowledged reads back whole in simrec and in h5py, at most one step
# more shows (whole); simrec verify passes, or names torn steps that
# verify --repair cuts without losing an acknowledged one.
# A tmpfs is mounted (as root, or in a user namespace: enospc_lib.sh),
# unmounted in a trap.
# usage: enospc_append.sh MPIEXEC TEST_FAULTS SIMREC CHECK_PY PYTHON WORKDIR
set -euo pipefail
. "$(dirname "$0")/enospc_lib.sh"
as_root "$@"
mpiexec=$1 bin=$2 simrec=$3 check=$4 python=$5 work=$6
mnt=$work/small
mkdir -p "$mnt"
mounted=0
cleanup() { [ "$mounted" = 0 ] || umount "$mnt"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
fail=0
bad() { echo "$name: FAIL: $*"; fail=1; }
np=4 elems=20000
for origin in simrec h5py; do
	mount -t tmpfs -o size=6m tmpfs "$mnt" || exit 1
	mounted=1
	store=$mnt/run.h5
	name="append to a file made by $origin"
	if [ "$origin" = simrec ]; then
		out=$(SIMREC_WRITERS=1 timeout -k 5 60 "$mpiexec" -n $np \
			--oversubscribe "$bin" write "hdf5:$store" 2 1 $elems 2>&1) ||
			bad "creating: $out"
		grep -q '^acked 2$' <<<"$out" || bad "creating: $out"
	else
		"$python" -c "
import h5py, sys
with h5py.File(sys.argv[1], 'w') as f:
    f.create_dataset('run/u', shape=(0, $np, $elems),
                     maxshape=(None, $np, $elems), chunks=(1, 1, $elems),
                     dtype='<f8')
    f.attrs['made_by'] = 'h5py'" "$store" || bad "h5py cannot create"
	fi
	acked=$("$bin" check "hdf5:$store" 2>&1) || bad "the new file does not check: $acked"
	acked=$(awk '/^steps/ {print $2}' <<<"$acked")
	for run in 1 2 3; do
		name="append to a file made by $origin, run $run"
		code=0
		out=$(SIMREC_WRITERS=1 SIMREC_TEST_APPEND=${acked:-0} \
			timeout -k 5 60 "$mpiexec" -n $np --oversubscribe \
			"$bin" write "hdf5:$store" 40 1 $elems 2>&1) || code=$?
		now=$(echo "$out" | awk -v n="${acked:-0}" \
			'/^acked/ {n = $2} END {print n + 0}')
		msg=$(awk '/^failed after/ {print; exit}' <<<"$out")
		echo "$name: exit $code, acked $now; $msg"
		[ "$code" = 124 ] && bad "hung (killed after 60 s)"
		[ "$code" != 0 ] && [ "$code" != 124 ] &&
			bad "a process crashed or failed: $(awk '!/^acked/ && n++ < 5' <<<"$out")"
		# HDF5's own printing: an error stack, the ids left open
		grep -m5 'HDF5-DIAG\|HDF5: \|#[0-9]*: \|major: \|minor: ' <<<"$out" &&
			bad "HDF5 printed on stdout or stderr"
		cause_named "$msg" "$mnt"
		[ "$now" -ge "${acked:-0}" ] || bad "acked $now, before $acked"
		acked=$now
		verify_or_repair "$simrec" "hdf5:$store"
		rc=0
		res=$("$bin" check "hdf5:$store" ">=$acked" 2>&1) || rc=$?
		res=$(echo "$res" | tail -1)
		echo "$name: simrec reads $res"
		most=$(echo "$res" | awk '/^steps/ {print $6}')
		[ "$rc" = 0 ] && [ "${most:-99999}" -le $((acked + 1)) ] ||
			bad "acknowledged steps lost, torn or phantom steps"
		prc=0
		py=$("$check" hdf5 "$store" 2>&1) || prc=$?
		py=$(tail -1 <<<"$py")
		[ "$prc" = 0 ] && [ "$py" = "$res" ] || bad "h5py reads $py (exit $prc)"
		# the next run appends after the steps the file shows
		acked=$(echo "$res" | awk '/^steps/ {print $2}')
	done
	umount "$mnt"
	mounted=0
done
[ "$fail" = 0 ] && echo "enospc_append: ok"
exit "$fail"
