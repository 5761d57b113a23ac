#!/bin/bash
# The redis master of slurm/redis-*.sbatch on a real single-node SLURM,
# with a user's program that is not heat2d (slurm_prog: step s of its
# global array is 1000 s + i). While a job holds (its rank 0 waits on a
# FIFO): the password file is 0600, the password is in no process's
# command line, the server is bound to the node's address with protected
# mode on, answers PING with the password and refuses a wrong one or none
# (WRONGPASS / NOAUTH), as does simrec. After each job: the password is in
# none of its output, no server is left, and the append-only file, replayed
# by a new server, holds the steps. The master also stops when the program
# fails, when SIGTERM comes as at the time limit, and a master that cannot
# start fails the job before the program runs.
#   slurm_redis_test.sh SOURCE_DIR BUILD_DIR WORK_DIR SLURM_PROG
set -euo pipefail
src=$1 build=$2 work=$3 prog=$4
rm -rf "$work" && mkdir -p "$work"
work=$(cd "$work" && pwd)
# shellcheck source=tests/slurm_lib.sh
source "$src/tests/slurm_lib.sh"
slurm_start "$src" "$work"
export OMPI_MCA_mpi_yield_when_idle=1 SIMREC_BIN=$build/src \
	OMPI_MCA_odls_base_sigkill_timeout=5
unset SIMREC_SLURM_DIR PROGRAM PROGRAM_ARGS SIMREC_STORE SIMREC_REDIS_HOST \
	SIMREC_REDIS_PASSWORD REDIS_BIND REDIS_PORT
SBATCH_OPTS=(--export=ALL --nodes=1 --ntasks-per-node=4)
mkdir "$work/jobs" && cd "$work/jobs"
replay_pids=()
cleanup() {
	local d
	for d in "${replay_pids[@]}"; do "$src/tests/redis_server.sh" stop "$d" || :; done
}
trap 'cleanup; "$src/tests/slurm_stop.sh" "$work"' EXIT

# master NAME: "HOST:PORT PID" of the job's master, from its output
master() {
	sed -n 's/^redis master: \([^ ]*\) (pid \([0-9]*\),.*/\1 \2/p' "$work/$1.out"
}

# stopped NAME: the job's master is gone, its append-only file is there,
# the password is in none of the job's output; a new server replaying the
# file holds between MIN and MAX steps of PREFIX (check_store NAME PREFIX
# MIN MAX)
stopped() {
	local name=$1 prefix=$2 lo=$3 hi=$4 hp pid dir
	read -r hp pid <<<"$(master "$name")"
	[ -n "$pid" ] || slurm_fail "$name: no master line in its output"
	! kill -0 "$pid" 2>/dev/null || slurm_fail "$name: redis-server $pid left running"
	dir=$work/jobs/simrec-redis-$(cat "$work/$name.jid")
	ls "$dir"/appendonlydir/*.aof >/dev/null || slurm_fail "$name: no append-only file"
	! grep -q -F -f "$dir/password" "$work/$name.out" "$work/$name.sbatch" ||
		slurm_fail "$name: the password is in the job's output"
	# the file, replayed by a server of our own (no password: loopback)
	mkdir -p "$work/replay_$name"
	cp -r "$dir/appendonlydir" "$work/replay_$name/"
	replay_pids+=("$work/replay_$name")
	"$src/tests/redis_server.sh" start "$work/replay_$name" --appendonly yes
	local port i
	port=$(cat "$work/replay_$name/port")
	# it answers LOADING until it has read the file (and loading:0 between
	# its two parts): a poll of its log, bounded
	for i in $(seq 600); do
		! grep -q 'Ready to accept connections' "$work/replay_$name/log" || break
		sleep 0.05
	done
	SIMREC_REDIS_HOST=127.0.0.1:$port \
		"$prog" check "redis://?prefix=$prefix" "$lo" "$hi" ||
		slurm_fail "$name: the append-only file does not hold the steps"
	"$src/tests/redis_server.sh" stop "$work/replay_$name"
	echo "$name: master stopped, append-only file replayed"
}

# -- a job that holds: what the running master shows -------------------
ready=$work/ready go=$work/go
auth() { REDISCLI_AUTH=$1 timeout 10 redis-cli --no-auth-warning -h "$host" -p "$port" "${@:2}" 2>&1 || :; }
hold() { # srun|mpirun
	local v=$1 name=hold_$1 dir hp pid n f pw out rc jobpid
	rm -f "$ready" "$go" && mkfifo "$ready" "$go"
	STORE="redis://?prefix=$name" EXPORT_TO=zarr+dir:$work/$name.zarr \
		job "$name" "$src/slurm/redis-$v.sbatch" "$prog" hold "redis://?prefix=$name" 4 "$ready" "$go" &
	jobpid=$!
	timeout 120 head -1 "$ready" >/dev/null || slurm_fail "$name: the program never got ready"
	dir=$work/jobs/simrec-redis-$(cat "$work/$name.jid")
	read -r hp pid <<<"$(master "$name")"
	host=${hp%:*} port=${hp##*:}
	[ "$(stat -c %a "$dir/password")" = 600 ] || slurm_fail "password file mode $(stat -c %a "$dir/password")"
	[ "$(stat -c %a "$dir")" = 700 ] || slurm_fail "redis directory mode $(stat -c %a "$dir")"
	grep -q -E '^[0-9a-f]{64}$' "$dir/password" || slurm_fail "not a 64-digit random password"
	# no command line holds it (the pattern comes from the file: grep's
	# own command line does not hold it either)
	n=0
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$f" && echo; } 2>/dev/null || : # gone meanwhile
		n=$((n + 1))
	done >"$work/$name.cmdlines"
	! grep -q -F -f "$dir/password" "$work/$name.cmdlines" || slurm_fail "$name: the password is on a command line"
	grep -q "^redis-server $hp" "$work/$name.cmdlines" || slurm_fail "redis-server $hp not among the $n processes"
	grep -q "slurm_prog hold" "$work/$name.cmdlines" || slurm_fail "no rank among the $n processes"
	echo "$name: the password is in none of $n command lines"
	[ "$host" = "$(getent ahostsv4 localhost | awk 'NR == 1 {print $1}')" ] ||
		slurm_fail "bound to $host, not the node's address"
	pw=$(cat "$dir/password")
	[ "$(auth "$pw" ping)" = PONG ] || slurm_fail "no PONG with the password"
	[ "$(auth "$pw" config get bind | tail -1)" = "$host" ] || slurm_fail "bind: $(auth "$pw" config get bind)"
	[ "$(auth "$pw" config get protected-mode | tail -1)" = yes ] || slurm_fail "protected mode off"
	out=$(auth wrong-password ping)
	[[ $out == *WRONGPASS* ]] || slurm_fail "a wrong password: '$out'"
	out=$(timeout 10 redis-cli -h "$host" -p "$port" ping 2>&1 || :)
	[[ $out == *NOAUTH* ]] || slurm_fail "no password: '$out'"
	rc=0
	out=$(SIMREC_REDIS_HOST=$hp SIMREC_REDIS_PASSWORD=wrong-password \
		timeout 30 "$prog" check "redis://?prefix=$name" 2 2 2>&1) || rc=$?
	[ $rc = 1 ] && [[ $out == *"wrong password"* ]] || slurm_fail "simrec, a wrong password: exit $rc, '$out'"
	[[ $out != *wrong-password* ]] || slurm_fail "simrec printed the password"
	echo "$name: PONG with the password; refused: a wrong one, none"
	timeout 30 sh -c 'echo go >"$1"' sh "$go" || slurm_fail "$name: the program did not take go"
	wait "$jobpid"
	[ "$(cat "$work/$name.rc")" = 0 ] || slurm_fail "$name: the job failed"
	"$prog" check "zarr+dir:$work/$name.zarr" 4 4 || slurm_fail "$name: the export"
	stopped "$name" "$name" 4 4
}
hold srun
hold mpirun

# -- the program fails: the master stops, the job fails -----------------
for v in srun mpirun; do
	job "fail_$v" "$src/slurm/redis-$v.sbatch" "$prog" write "redis://?prefix=fail_$v" 3 fail
	[ "$job_rc" != 0 ] || slurm_fail "fail_$v: the job succeeded"
	stopped "fail_$v" "fail_$v" 3 3
done

# -- SIGTERM as at the time limit: to the steps (srun: --signal=TERM@),
# to the batch shell (mpirun: --signal=B:TERM@); the ranks close at the
# next step and die of it, then the script stops the master
for v in srun mpirun; do
	term_job "term_$v" $v "$src/slurm/redis-$v.sbatch" "$prog" "redis://?prefix=term_$v"
	stopped "term_$v" "term_$v" 2 299999
done

# -- a master that cannot start (an address of no interface here): the
# job fails before the program runs
REDIS_BIND=192.0.2.1 job nobind "$src/slurm/redis-srun.sbatch" "$prog" write 'redis://?prefix=nobind' 1
[ "$job_rc" = 1 ] || slurm_fail "nobind: job exit $job_rc, not 1"
grep -q "did not answer" "$work/nobind.out" || slurm_fail "nobind: no message"
! grep -q "slurm_prog:" "$work/nobind.out" || slurm_fail "nobind: the program ran"
echo "slurm redis: ok"
