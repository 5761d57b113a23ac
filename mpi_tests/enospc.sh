#!/bin/sh
# A full disk: record into a small tmpfs until it fails, for each store,
# with two ranks (4 MiB) and with one (3 MiB).
# The failure must name the cause ("no space left on device") and the
# path; the store must still open and read, and its readable steps must
# equal the steps the last successful flush acknowledged (no phantom).
# Mounting needs root: anyone else runs this script again in a user
# namespace of their own (root there, with a private mount table; Open
# MPI's session directory in a fresh directory, since root's in /tmp is
# not theirs), and if the system allows none, the test fails saying so.
# The tmpfs is unmounted in a trap.
# usage: enospc.sh MPIEXEC TEST_FAULTS CHECK_PY WORKDIR SCHEME[@CODEC]...
# (CODEC: the store's codec=, default none)
set -u
as_root() {
	[ "$(id -u)" = 0 ] && return
	userns="unshare --user --map-root-user --mount"
	why=$($userns true 2>&1) || {
		echo "enospc: FAIL: not root, and no user namespace to mount a tmpfs in ($userns: $why)"
		exit 1
	}
	tmp=$(mktemp -d) || exit 1
	$userns env OMPI_MCA_orte_tmpdir_base="$tmp" sh "$0" "$@"
	rc=$?
	rm -rf "$tmp"
	exit "$rc"
}
as_root "$@"
mpiexec=$1 bin=$2 check=$3 work=$4
shift 4
mnt=$work/small
mkdir -p "$mnt"
mounted=0
cleanup() { [ "$mounted" = 1 ] && umount "$mnt"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
fail=0
for run in "$@"; do
 for np in 2 1; do
	scheme=${run%@*} codec=none
	[ "$scheme" != "$run" ] && codec=${run#*@}
	# compressed, the smooth steps take far less room: more of them
	steps=400
	[ "$codec" != none ] && steps=40000
	size=4m
	[ "$np" = 1 ] && size=3m
	mount -t tmpfs -o size=$size tmpfs "$mnt" || exit 1
	mounted=1
	store=$mnt/store
	out=$(timeout -k 5 60 "$mpiexec" -n "$np" --oversubscribe "$bin" write \
		"$scheme:$store?codec=$codec" $steps 2 8192 2>&1)
	acked=$(echo "$out" | awk '/^acked/ {n = $2} END {print n + 0}')
	msg=$(echo "$out" | grep '^failed after' | head -1)
	echo "$run np $np: acked $acked; $msg"
	case $msg in
	*"no space left on device"*"$mnt"* | *"$mnt"*"no space left on device"*) ;;
	*) echo "$run: FAIL: the cause or the path is not named"; fail=1 ;;
	esac
	# whole steps only: at least the acknowledged ones, at most those
	# recorded before the failure was reported (a flush interval)
	res=$("$bin" check "$scheme:$store" ">=$acked" 2>&1 | tail -1)
	echo "$scheme: simrec reads $res"
	steps=$(echo "$res" | awk '/^steps/ {print $2}')
	"$bin" check "$scheme:$store" ">=$acked" >/dev/null 2>&1 &&
		[ "${steps:-0}" -le $((acked + 2)) ] || {
		echo "$scheme: FAIL: torn, unreadable or phantom steps"
		fail=1
	}
	py=$("$check" "$scheme" "$store" 2>&1 | tail -1)
	echo "$scheme: python reads $py"
	case $py in "steps $steps torn 0") ;; *) fail=1 ;; esac
	umount "$mnt"
	mounted=0
 done
done
[ "$fail" = 0 ] && echo "enospc: ok"
exit "$fail"
