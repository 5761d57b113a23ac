#!/bin/bash
# Starts a real single-node SLURM (munge, slurmctld, slurmd on localhost, no
# cgroups) and runs the batch scripts of slurm/ with sbatch --wait, checking
# the stores they produce. Fails (never skips) when SLURM does not come up.
#   slurm_test.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -euo pipefail
src=$1 build=$2 work=$3
rm -rf "$work" && mkdir -p "$work"/{state,spool,log,out}
work=$(cd "$work" && pwd)
fail() { echo "slurm test FAILED: $*"; cat "$work"/log/*.log 2>/dev/null | tail -30; exit 1; }
for s in "$src"/slurm/*.sbatch "$src"/slurm/*.sh; do
	bash -n "$s" || fail "bash -n $s"
done

# munge (no systemd here): run as user munge
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge/munge.key ||
	fail "cannot give munge its directories"
chmod 0755 /run/munge
stop() { "$src/tests/slurm_stop.sh" "$work"; }
trap stop EXIT
trap 'exit 1' INT TERM
if ! pgrep -x munged >/dev/null; then
	timeout 20 runuser -u munge -- /usr/sbin/munged || fail "munged did not start"
	# remember it: the trap (and the ctest fixture cleanup) stop it
	cat /run/munge/munged.pid >"$work/munged.started" || fail "munged wrote no pid file"
fi
conf=$work/slurm.conf
cat >"$conf" <<CONF
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
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=$((17000 + RANDOM % 2000))
SlurmdPort=$((19000 + RANDOM % 2000))
MinJobAge=4
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
NodeName=localhost CPUs=8 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$conf
timeout 20 /usr/sbin/slurmctld || fail "slurmctld did not start"
timeout 20 /usr/sbin/slurmd -N localhost || fail "slurmd did not start"
# up within 30 s or fail: the whole test then ends well inside a minute
up=0
for i in $(seq 150); do
	[ "$(timeout 5 sinfo -h -o %T 2>/dev/null | head -1)" = idle ] && { up=1; break; }
	sleep 0.2
done
[ $up = 1 ] || fail "the node never became idle: $(timeout 5 sinfo 2>&1)"
echo "SLURM is up: $(sinfo -h -o '%P %T %c')"

export SIMREC_BIN=$build SIMREC_SLURM_DIR=$src/slurm OUT=$work/out
cd "$work"
# says TEXT CMD...: CMD exits 0 and its output holds TEXT
says() {
	local o
	o=$("${@:2}") || return 1
	grep -q -- "$1" <<<"$o"
}
run() { # script [sbatch options...]
	local s=$1
	shift
	local rc=0
	timeout 120 sbatch --wait --export=ALL "$@" "$src/slurm/$s" >"$work/$s.submit" 2>&1 || rc=$?
	local jid
	jid=$(sed -n 's/Submitted batch job //p' "$work/$s.submit")
	echo "--- $s (job $jid) exit $rc"
	for f in "$work"/simrec-*-"$jid".out; do
		[ ! -f "$f" ] || tail -15 "$f"
	done
	[ $rc = 0 ] || fail "$s: sbatch --wait returned $rc"
	last_jid=$jid
}
run one-node.sbatch
one=$last_jid
[ -d "$work/out/heat-$one.zarr" ] || fail "one-node store missing"
says "all datasets ok" "$build/src/simrec" verify "zarr:$work/out/heat-$one.zarr" || fail "one-node verify"
says "shape:   (21, 256, 256)" "$build/src/simrec" info "zarr:$work/out/heat-$one.zarr" heat/T || fail "one-node shape"

run many-nodes-files.sbatch --nodes=1 --ntasks-per-node=4
says "all datasets ok" "$build/src/simrec" verify "zarr+dir:$work/out/heat-$last_jid.zarr" || fail "files verify"
run many-nodes-files.sbatch --nodes=1 --ntasks-per-node=4 --export=ALL,FORMAT=hdf5
h5dump -H "$work/out/heat-$last_jid.h5" >/dev/null || fail "h5dump of the HDF5 output"

run many-nodes-redis.sbatch --nodes=1 --ntasks-per-node=4
says "all datasets ok" "$build/src/simrec" verify "zarr+dir:$work/out/heat-$last_jid.zarr" || fail "redis export verify"
[ -s "$work/out/redis-$last_jid/appendonly.aof" ] || ls "$work/out/redis-$last_jid/appendonlydir" >/dev/null 2>&1 || fail "no AOF kept"
redis-cli -p 6399 ping >/dev/null 2>&1 && fail "the redis master was not shut down"

# the reader job waits for the simulation (afterok)
sim=$(sbatch --parsable --export=ALL "$src/slurm/one-node.sbatch")
rd=$(timeout 120 sbatch --parsable --wait --dependency=afterok:"$sim" \
	--export=ALL,STORE="zarr:$work/out/heat-$sim.zarr" "$src/slurm/reader.sbatch") || fail "reader job"
grep -q "all datasets ok" "$work/simrec-read-$rd.out" || fail "reader output: $(cat "$work/simrec-read-$rd.out")"
echo "slurm: ok"
