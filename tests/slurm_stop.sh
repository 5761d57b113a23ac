#!/bin/bash
# Stops what tests/slurm_lib.sh started under WORK_DIR: slurmd, slurmctld
# (by their pid files) and munged if the test started it. Safe to run
# twice; the ctest fixture runs it after the test whatever happened.
#   slurm_stop.sh WORK_DIR
work=$1
[ -f "$work/slurm.conf" ] && SLURM_CONF=$work/slurm.conf timeout 5 scontrol shutdown >/dev/null 2>&1
for f in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munged.started"; do
	[ -f "$f" ] || continue
	pid=$(cat "$f")
	case $pid in '' | *[!0-9]*) continue ;; esac
	kill "$pid" 2>/dev/null
	# wait for it to go (bounded), then make sure
	timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null
	kill -9 "$pid" 2>/dev/null
	rm -f "$f"
done
exit 0
