#!/bin/bash
# Run an MPI program over HOSTS hosts made of network namespaces on this
# machine (tools/nshosts.sh), RANKS ranks each, launched from host 1:
#   bench/ns_run.sh HOSTS RANKS PROGRAM ARGS...
# The hosts share this machine's file system, cores and memory; their links
# are veths on one bridge (TCP). Everything is deleted on exit. Needs root.
# Used by bench/scale_model.py check.
set -euo pipefail
hosts=$1 ranks=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "ns_run: needs root" >&2; exit 1; }
p=srbench$$ net=10.213.78
dir=$(mktemp -d)
. "$here/../tools/nshosts.sh"
trap 'nshosts_down "$p" "$hosts"; rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM HUP PIPE
nshosts_up "$p" "$net" "$hosts" "$dir"
list=$(for i in $(seq 1 "$hosts"); do printf '%s-h%d:%d,' "$p" "$i" "$ranks"; done)
nshosts_on "$p" 1 mpiexec -n $((hosts * ranks)) --host "${list%,}" "$@"
