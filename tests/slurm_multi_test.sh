#!/bin/bash
# The batch scripts of slurm/ on a real SLURM of two nodes made of
# namespace hosts (tools/nshosts.sh; slurm_multi_start in
# tests/slurm_lib.sh): slurmctld in host 1, one slurmd per host under the
# host's own hostname and address, a munged of the test's own. Each
# script runs `sbatch -N 2` (2 tasks per node) of slurm_prog, a program
# that is not heat2d (step s of its global array is 1000 s + i), behind a
# wrapper that records where each rank runs. Checked for each job: it
# exits 0, its ranks ran on both hosts (hostname and network namespace of
# every rank), the store equals the formula, no job step, rank or redis
# server is left in any host; for the redis scripts, the master was bound
# to host 1's address (not loopback), the ranks on host 2 reached it with
# the password, and the password is in none of the job's output nor on
# any command line. A master on a loopback address fails a job of two
# nodes before the program runs.
# Fails (never skips) when SLURM does not come up. Needs root.
#   slurm_multi_test.sh SOURCE_DIR BUILD_DIR WORK_DIR SLURM_PROG
set -euo pipefail
src=$1 build=$2 work=$3 prog=$4
net=10.213.93 # a private /24 of this test's own
# shellcheck source=tests/slurm_lib.sh
source "$src/tests/slurm_lib.sh"

if [ -z "${SLURM_MULTI_PREFIX:-}" ]; then
	# what a run killed before its trap and fixture ran left, then anew
	"$src/tests/slurm_multi_stop.sh" "$work"
	rm -rf "$work" && mkdir -p "$work"
	work=$(cd "$work" && pwd)
	[ "$(id -u)" = 0 ] || { echo "slurm test FAILED: needs root (namespaces)"; exit 1; }
	# hosts of an earlier run killed before its trap ran
	# shellcheck source=tools/nshosts.sh
	. "$src/tools/nshosts.sh"
	nshosts_stale srmulti
	slurm_multi_start "$src" "$work" "srmulti$$" "$net" 2
	# the jobs are submitted from host 1: slurmctld is reached from the
	# namespace hosts only (the guard route drops the subnet elsewhere)
	rc=0
	SLURM_MULTI_PREFIX=srmulti$$ slurm_multi_on 1 bash "$0" "$src" "$build" "$work" "$prog" || rc=$?
	exit $rc # the EXIT trap stops the daemons and deletes the hosts
fi

# ---- in host 1's network namespace --------------------------------------
slurm_work=$work slurm_prefix=$SLURM_MULTI_PREFIX
export OMPI_MCA_mpi_yield_when_idle=1 SIMREC_BIN=$build/src
unset SIMREC_SLURM_DIR PROGRAM PROGRAM_ARGS SIMREC_STORE SIMREC_REDIS_HOST \
	SIMREC_REDIS_PASSWORD REDIS_BIND REDIS_PORT STORE EXPORT_TO
SBATCH_OPTS=(--export=ALL --nodes=2 --ntasks-per-node=2)
mkdir "$work/jobs" && cd "$work/jobs"
hosts=("$slurm_prefix-h1" "$slurm_prefix-h2")
# the user's program behind a wrapper: each rank writes its hostname and
# network namespace to DIR/RANK, then becomes the program
cat >"$work/where.sh" <<WHERE
#!/bin/sh
r=\${OMPI_COMM_WORLD_RANK:-\${SLURM_PROCID:?no rank}}
echo "\$(hostname) \$(stat -L -c %i /proc/self/ns/net)" >"\$1/\$r"
shift
exec "$prog" "\$@"
WHERE
chmod +x "$work/where.sh"

# both_hosts NAME: the job's 4 ranks ran 2 on each host, each in that
# host's network namespace
both_hosts() {
	local name=$1 r h ns i n1=0 n2=0 files
	for r in 0 1 2 3; do
		read -r h ns <"$work/where_$name/$r" || slurm_fail "$name: rank $r left no trace"
		for i in 1 2; do
			[ "$h" = "${hosts[i - 1]}" ] || continue
			[ "$ns" = "$(stat -L -c %i "/run/netns/$h")" ] ||
				slurm_fail "$name: rank $r named $h, not in its namespace"
			eval "n$i=\$((n$i + 1))"
		done
	done
	files=("$work/where_$name"/*)
	[ ${#files[@]} = 4 ] || slurm_fail "$name: ${#files[@]} ranks, not 4"
	[ $n1 = 2 ] && [ $n2 = 2 ] || slurm_fail "$name: $n1 ranks on ${hosts[0]}, $n2 on ${hosts[1]}"
	echo "$name: ranks 2 on ${hosts[0]}, 2 on ${hosts[1]}"
}

# nothing_left NAME: no job step, launcher, rank or redis server in any
# host once the job ended (slurmstepd goes just after the job: bounded
# poll). This shell runs in host 1 too: only those names count.
nothing_left() {
	local name=$1 i h pid left
	for i in $(seq 150); do
		left=
		for h in "${hosts[@]}"; do
			for pid in $(ip netns pids "$h"); do
				case $(cat "/proc/$pid/comm" 2>/dev/null) in
				slurmstepd | redis-server | slurm_prog | orted | mpirun | srun)
					left="$left $h:$pid:$(cat "/proc/$pid/comm" 2>/dev/null)" ;;
				esac
			done
		done
		[ -n "$left" ] || return 0
		sleep 0.2
	done
	slurm_fail "$name: left behind:$left"
}

# run_job NAME SCRIPT ARGS...: job_ok under where.sh, then the checks
run_job() {
	local name=$1 script=$2
	shift 2
	mkdir "$work/where_$name"
	job_ok "$name" "$src/slurm/$script" "$work/where.sh" "$work/where_$name" "$@"
	both_hosts "$name"
	nothing_left "$name"
}
check() { "$prog" check "$@" || slurm_fail "check $*"; }

run_job srun run-srun.sbatch write "zarr+dir:$work/srun.zarr" 5
check "zarr+dir:$work/srun.zarr" 5 5
run_job mpirun run-mpirun.sbatch write "zarr+dir:$work/mpirun.zarr" 4
check "zarr+dir:$work/mpirun.zarr" 4 4

# redis: the master on host 1's address, every rank pushing to it. While
# the job holds (rank 0 waits on a FIFO after 2 flushed steps), the
# master's clients include the 2 ranks of host 2, from host 2's address.
ready=$work/ready go=$work/go
for v in srun mpirun; do
	name=redis_$v
	rm -f "$ready" "$go" && mkfifo "$ready" "$go" && mkdir "$work/where_$name"
	STORE="redis://?prefix=$name" EXPORT_TO=zarr+dir:$work/$name.zarr \
		job "$name" "$src/slurm/redis-$v.sbatch" "$work/where.sh" "$work/where_$name" \
		hold "redis://?prefix=$name" 3 "$ready" "$go" &
	jobpid=$!
	timeout 120 head -1 "$ready" >/dev/null || slurm_fail "$name: the program never got ready"
	hp=$(sed -n 's/^redis master: \([^ ]*\) (pid.*/\1/p' "$work/$name.out")
	[ "${hp%:*}" = "$net.1" ] || slurm_fail "$name: master bound to '$hp', not $net.1"
	dir=$work/jobs/simrec-redis-$(cat "$work/$name.jid")
	n=$(REDISCLI_AUTH=$(cat "$dir/password") timeout 10 redis-cli --no-auth-warning \
		-h "$net.1" -p "${hp##*:}" client list | grep -c " addr=$net\.2:") || :
	[ "$n" -ge 2 ] || slurm_fail "$name: $n clients from host 2, not the 2 ranks"
	# every host's processes are seen here: no command line holds the
	# password (the pattern comes from the file, not grep's command line)
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$f" && echo; } 2>/dev/null || : # gone meanwhile
	done >"$work/$name.cmdlines"
	grep -q "slurm_prog hold" "$work/$name.cmdlines" || slurm_fail "$name: no rank seen"
	! grep -q -F -f "$dir/password" "$work/$name.cmdlines" ||
		slurm_fail "$name: the password is on a command line"
	timeout 30 sh -c 'echo go >"$1"' sh "$go" || slurm_fail "$name: the program did not take go"
	wait "$jobpid"
	[ "$(cat "$work/$name.rc")" = 0 ] || slurm_fail "$name: the job failed"
	both_hosts "$name"
	nothing_left "$name"
	check "zarr+dir:$work/$name.zarr" 3 3
	grep -q -E '^[0-9a-f]{64}$' "$dir/password" || slurm_fail "$name: no password file"
	! grep -q -F -f "$dir/password" "$work/$name.out" "$work/$name.sbatch" ||
		slurm_fail "$name: the password is in the job's output"
	echo "$name: master on $hp, $n clients from host 2, the password in no output or command line"
done
# a loopback master in a job of two nodes: refused before the program runs
REDIS_BIND=127.0.0.1 job loopback "$src/slurm/redis-srun.sbatch" "$prog" write 'redis://?prefix=loopback' 1
[ "$job_rc" = 1 ] || slurm_fail "loopback: job exit $job_rc, not 1"
grep -q "other nodes cannot reach" "$work/loopback.out" || slurm_fail "loopback: no message"
! grep -q "slurm_prog:" "$work/loopback.out" || slurm_fail "loopback: the program ran"
nothing_left loopback
echo "slurm multi: ok"
