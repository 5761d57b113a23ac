#!/bin/bash
# A full disk: record into a small tmpfs until it fails, for each store:
# 4 ranks with one writer and with two (parallel HDF5 over MPI-IO), and
# one rank; two record_all keys of noisy data (no codec shrinks it) and
# rank 0's independent records, a flush every 2 steps.
# Asserted: every rank ends with the same status; the failure names the
# cause ("no space left on device") and the path; no process crashes
# (exit codes) or hangs (timeout); the store opens and reads afterwards,
# every step it shows whole, at least the steps the last successful flush
# acknowledged and at most a flush interval more (no phantom); simrec
# verify passes, or names torn steps that verify --repair cuts; after a
# failure close fails too, alike on every rank, and HDF5 says nothing of
# objects left open ("infinite loop closing library"); zarr-python
# or h5py reads what simrec reads.
# Mounting needs root: anyone else runs this script again in a user
# namespace of their own (root there, with a private mount table; Open
# MPI's session directory in a fresh directory, since root's in /tmp is
# not theirs), and if the system allows none, the test fails saying so.
# The tmpfs is unmounted in a trap.
# usage: enospc.sh MPIEXEC TEST_FAULTS SIMREC CHECK_PY WORKDIR SCHEME[@CODEC]...
# (CODEC: the store's codec=, default lz4: with 4 ranks and one writer the
# ranks compress their own blocks; none takes the raw gather path)
set -euo pipefail
. "$(dirname "$0")/enospc_lib.sh"
as_root "$@"
mpiexec=$1 bin=$2 simrec=$3 check=$4 work=$5
shift 5
mnt=$work/small
mkdir -p "$mnt"
mounted=0
cleanup() { [ "$mounted" = 0 ] || umount "$mnt"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
fail=0
bad() { echo "$name: FAIL: $*"; fail=1; }
for spec in "$@"; do
	scheme=${spec%@*} codec=lz4
	[ "$scheme" != "$spec" ] && codec=${spec#*@}
	# ranks, writers, float64 per rank and key (about 10 steps fill it)
	for run in "4 1 6000" "4 2 6000" "1 1 16384"; do
		set -- $run
		np=$1 writers=$2 elems=$3
		name="$scheme codec $codec np $np writers $writers"
		mount -t tmpfs -o size=4m tmpfs "$mnt" || exit 1
		mounted=1
		store=$mnt/store
		code=0
		out=$(SIMREC_WRITERS=$writers timeout -k 5 60 "$mpiexec" \
			-n "$np" --oversubscribe "$bin" write \
			"$scheme:$store?codec=$codec" 40 2 "$elems" 2 1024 2>&1) ||
			code=$?
		acked=$(echo "$out" | awk '/^acked/ {n = $2} END {print n + 0}')
		msg=$(awk '/^failed after/ {print; exit}' <<<"$out")
		echo "$name: exit $code, acked $acked; $msg"
		[ "$code" = 124 ] && bad "hung (killed after 60 s)"
		[ "$code" != 0 ] && [ "$code" != 124 ] &&
			bad "a process crashed or failed: $(grep -m3 -i 'signal\|abort\|rank [0-9]*:' <<<"$out" || :)"
		echo "$out" | grep 'differs' && bad "the ranks' statuses differ"
		echo "$out" | grep 'broken store:' && bad "a write on a broken store did not fail"
		# close tells the truth: after a failed flush, close fails too
		# (on every rank), and HDF5 closed everything it opened
		grep -q '^failed after' <<<"$out" && ! grep -q '^close: ' <<<"$out" &&
			bad "close returned 0 after a failed flush"
		echo "$out" | grep 'close status differs' && bad "the ranks' close statuses differ"
		echo "$out" | grep -i 'infinite loop closing library' &&
			bad "HDF5 objects stayed open past close"
		cause_named "$msg" "$mnt"
		verify_or_repair "$simrec" "$scheme:$store"
		# whole steps only: at least the acknowledged ones, at most
		# those recorded before the failure was reported (a flush
		# interval more)
		iacked=$(echo "$out" | awk '/^indep acked/ {n = $3} END {print n + 0}')
		rc=0
		res=$("$bin" check "$scheme:$store" ">=$acked" ">=$iacked" 2>&1) || rc=$?
		res=$(echo "$res" | tail -1)
		echo "$name: simrec reads $res"
		most=$(echo "$res" | awk '/^steps/ {print $6}')
		[ "$rc" = 0 ] && [ "${most:-99999}" -le $((acked + 2)) ] ||
			bad "torn, unreadable or phantom steps"
		prc=0
		py=$("$check" "$scheme" "$store" 2>&1) || prc=$?
		py=$(tail -1 <<<"$py")
		[ "$prc" = 0 ] && [ "$py" = "$res" ] || bad "python reads $py (exit $prc)"
		umount "$mnt"
		mounted=0
	done
done
[ "$fail" = 0 ] && echo "enospc: ok"
exit "$fail"
