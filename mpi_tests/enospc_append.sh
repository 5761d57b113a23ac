#!/bin/sh
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
set -u
. "$(dirname "$0")/enospc_lib.sh"
as_root "$@"
mpiexec=$1 bin=$2 simrec=$3 check=$4 python=$5 work=$6
mnt=$work/small
mkdir -p "$mnt"
mounted=0
cleanup() { [ "$mounted" = 1 ] && umount "$mnt"; }
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
			--oversubscribe "$bin" write "hdf5:$store" 2 1 $elems 2>&1)
		echo "$out" | grep -q '^acked 2$' || bad "creating: $out"
	else
		"$python" -c "
import h5py, sys
with h5py.File(sys.argv[1], 'w') as f:
    f.create_dataset('run/u', shape=(0, $np, $elems),
                     maxshape=(None, $np, $elems), chunks=(1, 1, $elems),
                     dtype='<f8')
    f.attrs['made_by'] = 'h5py'" "$store" || bad "h5py cannot create"
	fi
	acked=$("$bin" check "hdf5:$store" 2>&1 | awk '/^steps/ {print $2}')
	for run in 1 2 3; do
		name="append to a file made by $origin, run $run"
		out=$(SIMREC_WRITERS=1 SIMREC_TEST_APPEND=${acked:-0} \
			timeout -k 5 60 "$mpiexec" -n $np --oversubscribe \
			"$bin" write "hdf5:$store" 40 1 $elems 2>&1)
		code=$?
		now=$(echo "$out" | awk -v n="${acked:-0}" \
			'/^acked/ {n = $2} END {print n + 0}')
		msg=$(echo "$out" | grep '^failed after' | head -1)
		echo "$name: exit $code, acked $now; $msg"
		[ "$code" = 124 ] && bad "hung (killed after 60 s)"
		[ "$code" != 0 ] && [ "$code" != 124 ] &&
			bad "a process crashed or failed: $(echo "$out" | grep -v '^acked' | head -5)"
		# HDF5's own printing: an error stack, the ids left open
		echo "$out" | grep -m5 'HDF5-DIAG\|HDF5: \|#[0-9]*: \|major: \|minor: ' &&
			bad "HDF5 printed on stdout or stderr"
		cause_named "$msg" "$mnt"
		[ "$now" -ge "${acked:-0}" ] || bad "acked $now, before $acked"
		acked=$now
		verify_or_repair "$simrec" "hdf5:$store"
		res=$("$bin" check "hdf5:$store" ">=$acked" 2>&1)
		rc=$?
		res=$(echo "$res" | tail -1)
		echo "$name: simrec reads $res"
		most=$(echo "$res" | awk '/^steps/ {print $6}')
		[ "$rc" = 0 ] && [ "${most:-99999}" -le $((acked + 1)) ] ||
			bad "acknowledged steps lost, torn or phantom steps"
		py=$("$check" hdf5 "$store" 2>&1 | tail -1)
		[ "$py" = "$res" ] || bad "h5py reads $py"
		# the next run appends after the steps the file shows
		acked=$(echo "$res" | awk '/^steps/ {print $2}')
	done
	umount "$mnt"
	mounted=0
done
[ "$fail" = 0 ] && echo "enospc_append: ok"
exit "$fail"
