#!/bin/bash
# Stops what slurm_multi_start (tests/slurm_lib.sh) started under WORK_DIR:
# slurmctld and every slurmd (scontrol shutdown, then by their pid
# files), its munged, then whatever still runs in the namespace hosts
# (job steps, ranks, a redis master), and deletes the hosts and the guard
# route it added. Safe to run twice; the ctest fixture runs it after the
# test whatever happened.
#   slurm_multi_stop.sh WORK_DIR
work=$1
read -r prefix k route 2>/dev/null <"$work/multi.hosts" || exit 0
if [ -f "$work/slurm.conf" ] && [ -e "/run/netns/$prefix-h1" ]; then
	SLURM_CONF=$work/slurm.conf timeout 5 nsenter --net="/run/netns/$prefix-h1" \
		scontrol shutdown >/dev/null 2>&1
fi
for f in "$work"/slurmctld.pid "$work"/slurmd-*.pid "$work/munged.pid"; do
	[ -f "$f" ] || continue
	pid=$(cat "$f")
	case $pid in '' | *[!0-9]*) continue ;; esac
	kill "$pid" 2>/dev/null
	timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null
	kill -9 "$pid" 2>/dev/null
	rm -f "$f"
done
# shellcheck source=tools/nshosts.sh
. "$(dirname "$0")/../tools/nshosts.sh"
NSHOSTS_ROUTE=${route:-0}
nshosts_down "$prefix" "${k:-0}"
rm -f "$work/multi.hosts"
exit 0
