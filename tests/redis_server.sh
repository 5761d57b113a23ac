#!/bin/bash
# Start or stop a private redis-server for the tests (a ctest fixture).
#   redis_server.sh start DIR [extra redis-server args]   -> DIR/port, DIR/pid
#   redis_server.sh stop DIR
# The server listens on 127.0.0.1 on a free port, keeps its files in DIR.
set -euo pipefail
cmd=$1 dir=$2
shift 2
case $cmd in
start)
	mkdir -p "$dir"
	[ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
		--pidfile "$dir/pid" --daemonize yes --logfile "$dir/log" \
		--save '' --protected-mode no "$@"
	i=0
	until redis-cli -p "$port" ping >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "redis-server did not start"; cat "$dir/log"; exit 1; }
		sleep 0.05
	done
	echo "$port" >"$dir/port"
	echo "redis-server on 127.0.0.1:$port"
	;;
stop)
	if [ -f "$dir/port" ]; then
		redis-cli -p "$(cat "$dir/port")" shutdown nosave >/dev/null 2>&1 || true
	fi
	[ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
	rm -f "$dir/pid" "$dir/port"
	;;
esac
