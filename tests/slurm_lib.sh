# Sourced by the SLURM tests: starts a real single-node SLURM (munge,
# slurmctld, slurmd on localhost, no cgroups) under WORK and stops it at
# exit (tests/slurm_stop.sh; the ctest fixture cleanup runs it again).
# Fails (never skips) when SLURM does not come up.
#   slurm_start SOURCE_DIR WORK_DIR     (exports SLURM_CONF)
slurm_fail() {
	echo "slurm test FAILED: $*"
	cat "$slurm_work"/log/*.log 2>/dev/null | tail -30
	exit 1
}

slurm_conf() { # a minimal configuration (no cgroups, 8 CPUs on 2 cores)
	cat <<CONF
ClusterName=simrec
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
SlurmdParameters=config_overrides
StateSaveLocation=$slurm_work/state
SlurmdSpoolDir=$slurm_work/spool
SlurmctldPidFile=$slurm_work/slurmctld.pid
SlurmdPidFile=$slurm_work/slurmd.pid
SlurmctldLogFile=$slurm_work/log/slurmctld.log
SlurmdLogFile=$slurm_work/log/slurmd.log
SlurmctldPort=$((17000 + RANDOM % 2000))
SlurmdPort=$((19000 + RANDOM % 2000))
MinJobAge=300
KillWait=10
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
NodeName=localhost CPUs=8 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
}

slurm_start() {
	local src=$1
	slurm_work=$2
	mkdir -p "$slurm_work"/{state,spool,log}
	# munge (no systemd here): run as user munge
	mkdir -p /run/munge /var/lib/munge /var/log/munge
	chown munge:munge /run/munge /var/lib/munge /var/log/munge \
		/etc/munge/munge.key || slurm_fail "cannot give munge its directories"
	chmod 0755 /run/munge
	# shellcheck disable=SC2064
	trap "'$src/tests/slurm_stop.sh' '$slurm_work'" EXIT
	trap 'exit 1' INT TERM
	if ! pgrep -x munged >/dev/null; then
		timeout 20 runuser -u munge -- /usr/sbin/munged ||
			slurm_fail "munged did not start"
		# remember it: the trap (and the ctest fixture cleanup) stop it
		cat /run/munge/munged.pid >"$slurm_work/munged.started" ||
			slurm_fail "munged wrote no pid file"
	fi
	slurm_conf >"$slurm_work/slurm.conf"
	export SLURM_CONF=$slurm_work/slurm.conf
	timeout 20 /usr/sbin/slurmctld || slurm_fail "slurmctld did not start"
	timeout 20 /usr/sbin/slurmd -N localhost || slurm_fail "slurmd did not start"
	# up within 30 s or fail: polled, SLURM has no readiness notice
	local i
	for i in $(seq 150); do
		[ "$(timeout 5 sinfo -h -o %T 2>/dev/null | head -1)" = idle ] && {
			echo "SLURM is up: $(sinfo -h -o '%P %T %c')"
			return 0
		}
		sleep 0.2
	done
	slurm_fail "the node never became idle: $(timeout 5 sinfo 2>&1)"
}

# job NAME [SBATCH_OPTIONS...] SCRIPT [ARGS...]: sbatch --wait SCRIPT ARGS
# (and the options in the array SBATCH_OPTS), output in WORK/NAME.out;
# sets job_rc (its exit status, also in WORK/NAME.rc) and job_id, prints
# the tail of the output
job() {
	local name=$1 opts=("${SBATCH_OPTS[@]}")
	shift
	while [[ $1 == -* ]]; do
		opts+=("$1")
		shift
	done
	job_rc=0
	timeout 150 sbatch --wait --parsable "${opts[@]}" \
		--output="$slurm_work/$name.out" "$@" \
		>"$slurm_work/$name.jid" 2>"$slurm_work/$name.sbatch" || job_rc=$?
	job_id=$(head -1 "$slurm_work/$name.jid")
	echo "$job_rc" >"$slurm_work/$name.rc"
	echo "--- $name: job $job_id, exit $job_rc"
	tail -8 "$slurm_work/$name.out" 2>/dev/null | sed 's/^/    /'
}

# job_ok NAME [SBATCH_OPTIONS...] SCRIPT [ARGS...]: job, which must exit 0
job_ok() {
	job "$@"
	[ "$job_rc" = 0 ] || slurm_fail "$1: sbatch --wait returned $job_rc" \
		"$(cat "$slurm_work/$1.sbatch")"
}

# after_ok JOBID: 0 once JOBID has succeeded, 1 if it failed (a job that
# depends on it is then cancelled)
after_ok() {
	timeout 150 sbatch --wait --quiet --kill-on-invalid-dep=yes \
		--dependency=afterok:"$1" --output=/dev/null --wrap true
}

# term_job NAME srun|mpirun SCRIPT PROG URI: PROG in its term mode under
# SCRIPT; once it flushed 2 steps, SIGTERM as at the time limit: to the
# job's steps (srun: --signal=TERM@) or to the batch shell alone (mpirun:
# --signal=B:TERM@). The job must fail; under srun, whose ranks' stderr
# reaches the output (mpirun's abort drops it), simrec must say it closed.
term_job() {
	local name=$1 v=$2 script=$3 prog=$4 uri=$5 fifo=$slurm_work/ready_$1 pid
	mkfifo "$fifo"
	job "$name" "$script" "$prog" term "$uri" 300000 "$fifo" &
	pid=$!
	timeout 120 head -1 "$fifo" >/dev/null || slurm_fail "$name: never ready"
	if [ "$v" = srun ]; then
		scancel --signal=TERM "$(head -1 "$slurm_work/$name.jid")"
	else
		scancel --batch --signal=TERM "$(head -1 "$slurm_work/$name.jid")"
	fi
	wait "$pid"
	[ "$(cat "$slurm_work/$name.rc")" != 0 ] ||
		slurm_fail "$name: the job succeeded after SIGTERM"
	[ "$v" = mpirun ] || grep -q "closed after SIGTERM" "$slurm_work/$name.out" ||
		slurm_fail "$name: simrec did not close at SIGTERM"
}

# ---- several nodes: SLURM on namespace hosts (tools/nshosts.sh) --------
# slurm_multi_start SOURCE_DIR WORK_DIR PREFIX NET K: hosts PREFIX-h1..hK
# (addresses NET.1..NET.K, guard route first), a munged of its own (its
# socket under WORK: no other test's munged is used or stopped),
# slurmctld in host 1, one slurmd per host (slurmd -N PREFIX-hI, in the
# host's network namespace under its hostname, with a mount namespace of
# its own: `ip netns exec` would remount /sys and hide the cgroups).
# WORK/multi.hosts names the hosts; the daemons' pid files are where
# slurm_stop.sh finds them (WORK/ctl, WORK/spool/NODE for each slurmd).
# It traps slurm_multi_stop.sh WORK on EXIT. Client commands reach
# slurmctld from a namespace host only (slurm_multi_on 1).
slurm_multi_conf() { # PREFIX NET K: slurm_conf's, with these nodes
	local p=$1 net=$2 k=$3 i nodes=
	slurm_conf | grep -v -E \
		'^(SlurmctldHost|SlurmctldPidFile|SlurmdSpoolDir|SlurmdPidFile|SlurmdLogFile|NodeName|PartitionName)='
	cat <<CONF
SlurmctldHost=$p-h1($net.1)
SlurmctldPidFile=$slurm_work/ctl/slurmctld.pid
AuthInfo=socket=$slurm_work/munge/socket
SlurmdSpoolDir=$slurm_work/spool/%n
SlurmdPidFile=$slurm_work/spool/%n/slurmd.pid
SlurmdLogFile=$slurm_work/log/slurmd-%n.log
CONF
	for i in $(seq 1 "$k"); do
		echo "NodeName=$p-h$i NodeAddr=$net.$i CPUs=4 State=UNKNOWN"
		nodes=$nodes${nodes:+,}$p-h$i
	done
	echo "PartitionName=debug Nodes=$nodes Default=YES MaxTime=INFINITE State=UP"
}

# slurm_multi_on I CMD...: CMD in host I's network namespace (a client)
slurm_multi_on() {
	local i=$1
	shift
	nsenter --net="/run/netns/$slurm_prefix-h$i" "$@"
}

# slurm_multi_daemon I CMD...: CMD (a daemon that forks) in host I
# under its hostname, within 20 s. WORK/nodetmp is a tmpfs of the host's
# own there (SLURM's PMIx names its directory in it by job and step, not
# by node: on one file system the hosts' directories would collide)
slurm_multi_daemon() {
	local i=$1
	shift
	timeout 20 nsenter --net="/run/netns/$slurm_prefix-h$i" unshare --mount --uts \
		sh -c 'hostname "$0" && mount -t tmpfs -o mode=1777 tmpfs "$1" && shift && exec "$@"' \
		"$slurm_prefix-h$i" "$slurm_work/nodetmp" "$@"
}

slurm_multi_start() {
	local src=$1 net=$4 k=$5 i
	slurm_work=$2 slurm_prefix=$3
	mkdir -p "$slurm_work"/{state,log,munge,nodetmp,ctl}
	for i in $(seq 1 "$k"); do mkdir -p "$slurm_work/spool/$slurm_prefix-h$i"; done
	# shellcheck disable=SC2064
	trap "'$src/tests/slurm_multi_stop.sh' '$slurm_work'" EXIT
	trap 'exit 1' INT TERM HUP
	# the guard route is nshosts_up's to add when there is none: recorded
	# first, so that a failure half-way still removes it
	ip route show "$net.0/24" | grep -q . && i=0 || i=$net
	echo "$slurm_prefix $k $i" >"$slurm_work/multi.hosts"
	# shellcheck source=tools/nshosts.sh
	. "$src/tools/nshosts.sh"
	nshosts_up "$slurm_prefix" "$net" "$k" "$slurm_work" ||
		slurm_fail "cannot make $k namespace hosts"
	echo "$slurm_prefix $k $NSHOSTS_ROUTE" >"$slurm_work/multi.hosts"
	# the scripts are tested as a user runs them: Open MPI finds the other
	# nodes through SLURM, not through the namespace agent
	unset OMPI_MCA_plm_rsh_agent OMPI_MCA_btl OMPI_MCA_oob_tcp_if_include \
		OMPI_MCA_btl_tcp_if_include
	chown munge:munge "$slurm_work/munge" /etc/munge/munge.key ||
		slurm_fail "cannot give munge its directory"
	timeout 20 runuser -u munge -- /usr/sbin/munged \
		--socket="$slurm_work/munge/socket" --pid-file="$slurm_work/munge/pid" \
		--log-file="$slurm_work/munge/log" --seed-file="$slurm_work/munge/seed" ||
		slurm_fail "munged did not start: $(tail -3 "$slurm_work/munge/log")"
	cp "$slurm_work/munge/pid" "$slurm_work/ctl/munged.started"
	slurm_multi_conf "$slurm_prefix" "$net" "$k" >"$slurm_work/slurm.conf"
	echo "PMIxCliTmpDirBase=$slurm_work/nodetmp" >"$slurm_work/mpi.conf"
	export SLURM_CONF=$slurm_work/slurm.conf
	slurm_multi_daemon 1 /usr/sbin/slurmctld ||
		slurm_fail "slurmctld did not start"
	for i in $(seq 1 "$k"); do
		slurm_multi_daemon "$i" /usr/sbin/slurmd -N "$slurm_prefix-h$i" ||
			slurm_fail "slurmd $i did not start"
	done
	# every node idle within 30 s or fail: polled, no readiness notice
	for i in $(seq 150); do
		[ "$(slurm_multi_on 1 timeout 5 sinfo -h -N -o %T 2>/dev/null |
			grep -c -x idle)" = "$k" ] && {
			echo "SLURM is up: $(slurm_multi_on 1 sinfo -h -N -o '%N %T %c')"
			return 0
		}
		sleep 0.2
	done
	slurm_fail "the nodes never became idle: $(slurm_multi_on 1 timeout 5 sinfo -N 2>&1)"
}
