#!/bin/bash
# One rank of an np 3 job leaves on a failure mid-run while the others
# are in a collective record call: a C rank calling exit(1) (the atexit
# close must not enter the collective close), a Python rank raising
# inside `with Recorder(..., comm=)`, with `python -m mpi4py` and
# without, or calling sys.exit there with a non-zero status. The job must end with a non-zero status within the bound (not
# 124: a hang), the failing rank names the store on stderr, and the
# steps flushed before are readable and whole.
# usage: fail_rank.sh MPIEXEC TEST_NOCLOSE PYTHON PY_SCRIPT WORKDIR
set -euo pipefail
mpiexec=$1 bin=$2 py=$3 script=$4 work=$5
rm -rf "$work"
mkdir -p "$work"
fail=0
run() { # NAME STORE WANT_ON_STDERR READ_CMD... -- JOB_CMD...
	local name=$1 store=$2 want=$3
	shift 3
	local read=()
	while [ "$1" != -- ]; do read+=("$1"); shift; done
	shift
	rm -rf "$store"
	local rc=0 why=
	timeout -k 5 90 "$mpiexec" -n 3 --oversubscribe "$@" \
		>"$work/out" 2>"$work/err" || rc=$?
	case $rc in
	0) why="the job exited 0" ;;
	124 | 137) why="the job hung (timeout, exit $rc)" ;;
	esac
	grep -q -F -- "$want" "$work/err" ||
		why="${why:+$why; }no '$want' on stderr"
	local rrc=0
	"${read[@]}" >>"$work/out" 2>&1 || rrc=$?
	[ "$rrc" = 0 ] || why="${why:+$why; }read exit $rrc"
	echo "$name: job exit $rc${why:+ -- FAIL: $why}"
	if [ -n "$why" ]; then
		fail=1
		sed 's/^/    /' "$work/err" "$work/out" | head -30
	fi
}
s=$work/c.zarr
run c_exit "$s" "rank 1: the recorder of 'zarr+dir:$s' was not closed" \
	"$bin" read "zarr+dir:$s" 3 3 -- "$bin" fail "zarr+dir:$s" 3
s=$work/py.zarr
run python_exc "$s" "rank 1 abandons the recorder of 'zarr+dir:$s'" \
	"$py" "$script" read "$s" 3 -- "$py" "$script" write "$s"
s=$work/py_m.zarr
run python_m_mpi4py_exc "$s" "rank 1 abandons the recorder of 'zarr+dir:$s'" \
	"$py" "$script" read "$s" 3 -- "$py" -m mpi4py "$script" write "$s"
# sys.exit on one rank: no excepthook runs, and MPI_Finalize at exit
# would wait for the others; the job ends with MPI_Abort(status)
# (and a KeyboardInterrupt on one rank: MPI_Abort 130)
for how in exit3 exitmsg kbint; do
	s=$work/py_$how.zarr
	run "python_$how" "$s" "rank 1 ends the job (MPI_Abort" \
		"$py" "$script" read "$s" 3 -- "$py" "$script" write "$s" "$how"
done
[ "$fail" = 0 ]
