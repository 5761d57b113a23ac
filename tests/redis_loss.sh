#!/bin/bash
# A writer SIGKILLed mid-change leaves every dataset whole (simrec verify
# agrees); the redis server SIGKILLed mid-run fails every later write,
# flush and close; after a restart from its append-only file every
# acknowledged record is there, intact.
set -euo pipefail
exe=$1 dir=$2 server=$3 cli=$4
rm -rf "$dir"
trap '"$server" stop "$dir"' EXIT
"$server" start "$dir" --appendonly yes --appendfsync always
port=$(cat "$dir/port")
"$exe" atomic "redis://127.0.0.1:$port?prefix=atomic"
"$cli" verify "redis://127.0.0.1:$port?prefix=atomic"
uri="redis://127.0.0.1:$port?prefix=loss"
"$exe" write "$uri" "$(cat "$dir/pid")"
# restart on the same port so the URI stays valid; the server that answers
# there must be this one (its process_id is the new pid file's)
rm -f "$dir/pid"
redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --pidfile "$dir/pid" \
	--daemonize yes --logfile "$dir/log2" --appendonly yes --save ''
i=0
until "$server" ours "$port" "$dir"; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "the restarted server is not ours"; exit 1; }
	sleep 0.05 # a poll of the server's reply
done
echo "$port" >"$dir/port"
"$exe" check "$uri"
echo "redis loss: ok"
