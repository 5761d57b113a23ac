# Sourced by the kill -9 tests (kill_writer.sh, kill_global.sh): one
# trial's kill and the job's end.
# kill_victim FIFO JOB: read the victim's pid from FIFO (it blocks opening
# the FIFO until the pid is read, so the kill happens at the step the test
# chose), kill -9 it and wait for the job (the background pid JOB). Sets
# jrc (the job's exit status) and appends to why: the victim sent no pid
# (nothing was killed), the victim was gone, the job exited 0 with a rank
# killed, or the job hung (124: timeout ended it). 137: mpiexec passes the
# SIGKILL on.
kill_victim() {
	local fifo=$1 job=$2 pid
	pid=$(timeout 60 cat "$fifo") || pid=
	case $pid in
	'' | *[!0-9]*) why="${why:+$why; }the victim sent no pid ('$pid'): nothing was killed" ;;
	*) kill -9 "$pid" || why="${why:+$why; }the victim $pid was gone before the kill" ;;
	esac
	jrc=0
	wait "$job" || jrc=$?
	case $jrc in
	0) why="${why:+$why; }the job exited 0 with a rank killed" ;;
	124) why="${why:+$why; }the job hung (timeout)" ;;
	esac
}
