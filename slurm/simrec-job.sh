# simrec-job.sh: sourced by the batch scripts of this directory. It takes
# the user's program from the script's command line or from PROGRAM and
# PROGRAM_ARGS, launches it with srun or mpirun (SIGTERM passed on, so that
# simrec closes its recorders before the time limit), runs a redis master
# in the batch step for the redis scripts and a follower job step beside
# the program for follow.sbatch. Nothing here names a
# program of simrec's own: any MPI program that records with simrec runs.
#
# Settings (environment, or edit the script that sources this file):
#   PROGRAM, PROGRAM_ARGS  the program and its arguments (split on white
#                          space), used when sbatch's command line gives none
#   SRUN_FLAGS             extra srun options, e.g. "--mpi=pmix"
#   MPIRUN                 the mpirun to use (default: mpirun on PATH)
#   SIMREC_BIN             where the simrec command line is, for the redis
#                          scripts' export (default: simrec on PATH)

simrec_die() {
	echo "simrec job: $*" >&2
	exit 1
}

# simrec_program ARGS...: PROGRAM_CMD, the program and its arguments
simrec_program() {
	PROGRAM_CMD=()
	if [ $# -gt 0 ]; then
		PROGRAM_CMD=("$@")
	elif [ -n "${PROGRAM:-}" ]; then
		local args=()
		read -r -a args <<<"${PROGRAM_ARGS:-}"
		PROGRAM_CMD=("$PROGRAM" ${args[@]+"${args[@]}"})
	else
		simrec_die "no program: give it after the script" \
			"(sbatch SCRIPT ./mysim ARGS...) or set PROGRAM"
	fi
	command -v -- "${PROGRAM_CMD[0]}" >/dev/null ||
		simrec_die "program '${PROGRAM_CMD[0]}' not found" \
			"(working directory $PWD)"
}

# simrec_run CMD...: runs CMD in the background and waits for it. A
# SIGTERM to the batch shell (--signal=B:TERM@..., scancel --batch, the
# time limit) goes on to CMD: srun and mpirun pass it to every rank, and
# simrec closes its recorders at the next step. Returns CMD's status.
simrec_run() {
	local rc old
	old=$(trap -p TERM)
	"$@" &
	simrec_child=$!
	simrec_term=0
	trap 'simrec_term=1; kill -TERM "$simrec_child" 2>/dev/null || :' TERM
	while :; do
		rc=0
		wait "$simrec_child" || rc=$?
		# a wait cut short by the trap: CMD is still running
		[ "$simrec_term" = 1 ] && [ $rc -gt 128 ] || break
		simrec_term=2
	done
	eval "${old:-trap - TERM}"
	return $rc
}

simrec_srun() { simrec_run srun ${SRUN_FLAGS:-} "$@"; }

# mpirun: root and Open MPI's settings from env.sh; the redis variables
# are named (-x) so that ranks on every node get them, never their values
simrec_mpirun() {
	local x=()
	[ -z "${SIMREC_REDIS_HOST:-}" ] || x+=(-x SIMREC_REDIS_HOST)
	[ -z "${SIMREC_REDIS_PASSWORD:-}" ] || x+=(-x SIMREC_REDIS_PASSWORD)
	simrec_run "${MPIRUN:-mpirun}" -n "$SLURM_NTASKS" ${x[@]+"${x[@]}"} "$@"
}

# ---- the redis master --------------------------------------------------
# simrec_redis_start DIR: a redis-server in the batch step (this node),
# bound to this node's address, protected mode on, a random password (in
# DIR/password, mode 0600; to the ranks as SIMREC_REDIS_PASSWORD, never on
# a command line), append-only file on in DIR. Returns once it answered a
# PING with the password, or exits the job. The EXIT trap stops it.
#   REDIS_BIND (default: the address of this node's name), REDIS_PORT
#   (default: from the job id, the next ones when taken), REDIS_FSYNC
#   (appendfsync: everysec, or always), REDIS_START_TIMEOUT (s, 30)
simrec_redis_start() {
	redis_dir=$1
	case $redis_dir in *'"'* | *$'\n'* | *\\*)
		simrec_die "the redis directory may not hold '\"', '\\' or a newline" ;;
	esac
	command -v redis-server >/dev/null || simrec_die "redis-server not found"
	(umask 077 && mkdir -p "$redis_dir") || simrec_die "cannot create $redis_dir"
	chmod 0700 "$redis_dir"
	redis_bind=${REDIS_BIND:-$(simrec_node_addr)}
	[ -n "$redis_bind" ] || simrec_die "no address for this node: set REDIS_BIND"
	if [ "${SLURM_JOB_NUM_NODES:-1}" -gt 1 ] && [[ $redis_bind == 127.* ]]; then
		simrec_die "this node's address is $redis_bind, which the" \
			"other nodes cannot reach: set REDIS_BIND to its address"
	fi
	REDIS_PASSWORD_FILE=$redis_dir/password
	(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$REDIS_PASSWORD_FILE") ||
		simrec_die "cannot write $REDIS_PASSWORD_FILE"
	SIMREC_REDIS_PASSWORD=$(cat "$REDIS_PASSWORD_FILE")
	[ ${#SIMREC_REDIS_PASSWORD} = 64 ] || simrec_die "no random password"
	export SIMREC_REDIS_PASSWORD
	trap simrec_job_exit EXIT
	trap 'exit 143' TERM
	local port=${REDIS_PORT:-$((20000 + ${SLURM_JOB_ID:-0} % 20000))} try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		simrec_redis_try "$port" && return 0
		grep -q 'Address already in use' "$redis_dir/redis.log" 2>/dev/null &&
			[ -z "${REDIS_PORT:-}" ] || break
		port=$((port + 1))
	done
	simrec_die "the redis master did not answer on $redis_bind:$port;" \
		"its log ($redis_dir/redis.log) ends with:" \
		"$(tail -5 "$redis_dir/redis.log" 2>/dev/null)"
}

# this node's IPv4 address: SLURM's NodeAddr of the node (the address
# the other nodes reach it at; its name when unset), resolved when a name
simrec_node_addr() {
	local node=${SLURMD_NODENAME:-$(hostname)} addr
	addr=$(scontrol show node -o "$node" 2>/dev/null |
		sed -n 's/.* NodeAddr=\([^ ]*\).*/\1/p')
	getent ahostsv4 "${addr:-$node}" | awk 'NR == 1 {print $1}'
}

# the server's configuration, on its standard input (redis-server -)
simrec_redis_conf() {
	printf 'bind %s\nport %s\nprotected-mode yes\n' "$redis_bind" "$1"
	printf 'requirepass "%s"\n' "$SIMREC_REDIS_PASSWORD"
	printf 'dir "%s"\nlogfile "%s/redis.log"\n' "$redis_dir" "$redis_dir"
	printf 'appendonly yes\nappendfsync %s\nsave ""\n' "${REDIS_FSYNC:-everysec}"
	printf 'daemonize no\n'
}

# redis-cli with the password in its environment, bounded
simrec_redis_cli() {
	REDISCLI_AUTH=$SIMREC_REDIS_PASSWORD timeout 10 redis-cli \
		-h "$redis_bind" -p "$redis_port" "$@"
}

# simrec_redis_try PORT: start on PORT; 0 once our server (its pid in INFO)
# answers with the password, 1 when it exited or did not answer in time
simrec_redis_try() {
	redis_port=$1
	: >"$redis_dir/redis.log"
	simrec_redis_conf "$redis_port" | redis-server - &
	redis_pid=$!
	local i info
	for ((i = 0; i < ${REDIS_START_TIMEOUT:-30} * 10; i++)); do
		if info=$(simrec_redis_cli info server 2>/dev/null) &&
			[ "$(awk -F: '/^process_id:/ {print $2 + 0}' <<<"$info")" = "$redis_pid" ] &&
			[ "$(simrec_redis_cli ping 2>&1)" = PONG ]; then
			export SIMREC_REDIS_HOST=$redis_bind:$redis_port
			echo "redis master: $SIMREC_REDIS_HOST (pid $redis_pid," \
				"password in $REDIS_PASSWORD_FILE)"
			return 0
		fi
		kill -0 "$redis_pid" 2>/dev/null || break
		sleep 0.1 # a poll with a deadline: redis-server has no ready notice
	done
	simrec_redis_stop || :
	return 1
}

# simrec_redis_stop: SHUTDOWN (redis writes and fsyncs the append-only
# file first), then waits for the process; SIGTERM (the same shutdown),
# then SIGKILL, if it does not go. 1 if the shutdown was not clean.
simrec_redis_stop() {
	[ -n "${redis_pid:-}" ] || return 0
	local pid=$redis_pid rc=0 st=0
	redis_pid=
	kill -0 "$pid" 2>/dev/null || {
		wait "$pid" || st=$?
		[ $st = 0 ] || echo "redis master had exited with status $st" >&2
		return $((st != 0))
	}
	simrec_redis_cli shutdown >/dev/null 2>&1 || :
	if ! timeout 60 tail --pid="$pid" -f /dev/null; then
		echo "redis master: no clean shutdown in 60 s, SIGTERM" >&2
		kill -TERM "$pid" 2>/dev/null || :
		timeout 30 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || :
		rc=1
	fi
	wait "$pid" || st=$?
	if [ $st != 0 ]; then
		echo "redis master exited with status $st" >&2
		rc=1
	fi
	[ $rc = 1 ] || echo "redis master stopped (append-only file in $redis_dir)"
	return $rc
}

# EXIT trap of a job with a master: stop it, keep the job's status (or
# fail the job when the master did not stop cleanly)
simrec_job_exit() {
	local rc=$?
	simrec_redis_stop || [ $rc != 0 ] || rc=1
	exit $rc
}

# simrec_redis_export: with STORE (the program's redis:// URI) and
# EXPORT_TO (a file store URI) set, copies the records there and verifies
# the copy, while the master still runs
simrec_redis_export() {
	[ -n "${STORE:-}" ] && [ -n "${EXPORT_TO:-}" ] || return 0
	local simrec=${SIMREC_BIN:+$SIMREC_BIN/}simrec
	"$simrec" export "$STORE" "$EXPORT_TO"
	"$simrec" verify "$EXPORT_TO"
}

# ---- a follower beside the program (follow.sbatch) ----------------------
# simrec_follow_setup: STORE and FOLLOW_KEY given; a STORE whose
# FOLLOW_KEY is marked finished already (an earlier run: simrec watch,
# looking once, exits 0 at its end; it reads one record) is refused, since
# the follower would read that run and end before the program starts;
# FOLLOW_CMD: FOLLOWER, or simrec watch with the FOLLOW_* options
simrec_follow_setup() {
	local simrec=${SIMREC_BIN:+$SIMREC_BIN/}simrec rc=0
	[ -n "${STORE:-}" ] || simrec_die "no STORE: set it to the program's store URI"
	[ -n "${FOLLOW_KEY:-}" ] || simrec_die "no FOLLOW_KEY: set it to the key to follow"
	command -v -- "$simrec" >/dev/null || simrec_die "'$simrec' not found: set SIMREC_BIN"
	"$simrec" watch "$STORE" "$FOLLOW_KEY" --timeout 0 \
		--every 18446744073709551615 >/dev/null 2>&1 || rc=$?
	[ $rc != 0 ] || simrec_die "$STORE holds a finished run already:" \
		"remove it or choose another store"
	FOLLOW_CMD=()
	if [ -n "${FOLLOWER:-}" ]; then
		read -r -a FOLLOW_CMD <<<"$FOLLOWER"
	else
		FOLLOW_CMD=("$simrec" watch "$STORE" "$FOLLOW_KEY")
		[ -z "${FOLLOW_EVERY:-}" ] || FOLLOW_CMD+=(--every "$FOLLOW_EVERY")
		[ -z "${FOLLOW_TIMEOUT:-}" ] || FOLLOW_CMD+=(--timeout "$FOLLOW_TIMEOUT")
		[ -z "${FOLLOW_PNG:-}" ] || FOLLOW_CMD+=(--png "$FOLLOW_PNG")
	fi
	simrec_follow_dir=$(mktemp -d "${TMPDIR:-/tmp}/simrec-follow.XXXXXX")
}

# simrec_follower: in the background, the follower's job step once STORE
# opens: a look every second (a poll with a deadline: the program gives
# no notice when it has created its store), failing when the program
# ended without creating it or after FOLLOW_START_TIMEOUT seconds (300)
simrec_follower() {
	local simrec=${SIMREC_BIN:+$SIMREC_BIN/}simrec i ended out=()
	[ -z "${FOLLOW_OUTPUT:-}" ] || out=(--output="$FOLLOW_OUTPUT")
	for ((i = 0; ; i++)); do
		ended=0
		[ ! -e "$simrec_follow_dir/ended" ] || ended=1
		"$simrec" ls "$STORE" >/dev/null 2>&1 && break
		[ $ended = 0 ] || simrec_die "the program ended without creating $STORE"
		[ "$i" -lt "${FOLLOW_START_TIMEOUT:-300}" ] ||
			simrec_die "no store $STORE after ${FOLLOW_START_TIMEOUT:-300} s"
		sleep 1
	done
	exec srun --overlap --nodes=1 --ntasks=1 ${out[@]+"${out[@]}"} ${SRUN_FLAGS:-} \
		"${FOLLOW_CMD[@]}"
}

# simrec_follow_end PID RC: once the program ended with status RC; a
# failed program stops the follower (PID: SIGTERM); exits with the
# program's status, else the follower's
simrec_follow_end() {
	local pid=$1 rc=$2 frc=0
	: >"$simrec_follow_dir/ended"
	[ "$rc" = 0 ] || kill -TERM "$pid" 2>/dev/null || :
	wait "$pid" || frc=$?
	rm -rf "$simrec_follow_dir"
	if [ "$rc" != 0 ]; then
		echo "simrec job: the program exited $rc (follower stopped)" >&2
		exit "$rc"
	fi
	[ $frc = 0 ] || simrec_die "the follower exited $frc"
	exit 0
}
