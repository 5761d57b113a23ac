# Sourced by the batch scripts: where simrec's programs are, and Open MPI
# settings for running as root or oversubscribed. Edit SIMREC_BIN.
: "${SIMREC_BIN:=$SLURM_SUBMIT_DIR/build}"   # CHANGE: build dir or install prefix/bin
HEAT2D="" SIMREC=""
for f in "$SIMREC_BIN/examples/heat2d" "$SIMREC_BIN/heat2d"; do
	if [ -z "$HEAT2D" ] && [ -x "$f" ]; then HEAT2D=$f; fi
done
for f in "$SIMREC_BIN/src/simrec" "$SIMREC_BIN/simrec"; do
	if [ -z "$SIMREC" ] && [ -x "$f" ]; then SIMREC=$f; fi
done
if [ -z "$HEAT2D" ] || [ -z "$SIMREC" ]; then
	echo "simrec programs not found under SIMREC_BIN=$SIMREC_BIN" >&2
	exit 1
fi
if [ "$(id -u)" = 0 ]; then
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
# a lost host (cut link, dead node) aborts the job within seconds instead
# of hanging every rank forever (docs/mpi.md, "A lost host")
export OMPI_MCA_oob_tcp_keepalive_time=5 OMPI_MCA_oob_tcp_keepalive_intvl=2 \
	OMPI_MCA_oob_tcp_keepalive_probes=3
