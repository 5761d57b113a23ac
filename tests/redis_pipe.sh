#!/bin/bash
# The redis server SIGKILLed under connected writers: a write to the dead
# socket fails with SIMREC_ECONN, and no SIGPIPE ends the process.
set -euo pipefail
exe=$1 dir=$2 server=$3
rm -rf "$dir"
trap '"$server" stop "$dir"' EXIT
"$server" start "$dir"
port=$(cat "$dir/port")
"$exe" pipe "redis://127.0.0.1:$port?prefix=pipe" "$(cat "$dir/pid")"
