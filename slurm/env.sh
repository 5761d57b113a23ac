# Open MPI settings for mpirun inside a job, sourced by the mpirun scripts
# (run-mpirun.sbatch, redis-mpirun.sbatch). srun does not need them.
if [ "$(id -u)" = 0 ]; then
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# a lost host (cut link, dead node) aborts the job within seconds instead
# of hanging every rank forever (docs/mpi.md, "A lost host")
export OMPI_MCA_oob_tcp_keepalive_time=5 OMPI_MCA_oob_tcp_keepalive_intvl=2 \
	OMPI_MCA_oob_tcp_keepalive_probes=3
# A SIGTERM to mpirun reaches the ranks this many seconds later, and a
# SIGKILL as long again after that (Open MPI's default: 1 s, too short
# for simrec to close): with --signal=B:TERM@120 the ranks get SIGTERM
# 20 s after the batch script, and 20 s to close
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-20}
