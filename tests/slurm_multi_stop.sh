#!/bin/bash
# Stops what slurm_multi_start (tests/slurm_lib.sh) started under WORK_DIR:
# slurmctld and every slurmd (scontrol shutdown from host 1, then
# tests/slurm_stop.sh by their pid files), its munged, then whatever still
# runs in the namespace hosts (job steps, ranks, a redis master), and
# deletes the hosts and the guard route it added. Safe to run twice; the
# ctest fixture runs it after the test whatever happened.
#   slurm_multi_stop.sh WORK_DIR
work=$1 here=$(dirname "$0")
read -r prefix k route 2>/dev/null <"$work/multi.hosts" || exit 0
if [ -f "$work/slurm.conf" ] && [ -e "/run/netns/$prefix-h1" ]; then
	SLURM_CONF=$work/slurm.conf timeout 5 nsenter --net="/run/netns/$prefix-h1" \
		scontrol shutdown >/dev/null 2>&1
fi
# by the pid files (directories without slurm.conf: slurm_stop.sh does
# not ask slurmctld again from here, where it is not reached)
for d in "$work"/spool/*/ "$work/ctl"; do
	[ ! -d "$d" ] || "$here/slurm_stop.sh" "$d"
done
# shellcheck source=tools/nshosts.sh
. "$here/../tools/nshosts.sh"
NSHOSTS_ROUTE=${route:-0}
nshosts_down "$prefix" "${k:-0}"
rm -f "$work/multi.hosts"
exit 0
