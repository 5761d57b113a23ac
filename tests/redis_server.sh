#!/bin/bash
# Start or stop a private redis-server for the tests (a ctest fixture).
#   redis_server.sh start DIR [extra redis-server args]   -> DIR/port, DIR/pid
#   redis_server.sh stop DIR
#   redis_server.sh ours PORT DIR: exit 0 if the server answering on PORT
#     is the one whose pid is in DIR/pid
# The server listens on 127.0.0.1, keeps its files in DIR.
#
# Ports: redis-server cannot pick a free port itself (no --port 0), and
# tests run in parallel (ctest -j), so a port the kernel called free may be
# taken before the server binds it. A port counts only with proof: the
# server answering on it reports (INFO server: process_id) the pid this
# start wrote to DIR/pid. If the bind failed (our server exited with
# "Address already in use") or another server answers, the start retries
# on a new port, 20 times at most.
set -euo pipefail
cmd=$1 dir=$2
shift 2
# ours PORT: the server answering on PORT has our pid (its own reply)
ours() {
	local info pid
	[ -s "$dir/pid" ] || return 1
	info=$(redis-cli -p "$1" info server 2>/dev/null) || return 1
	pid=$(awk -F: '/^process_id:/ {print $2 + 0}' <<<"$info")
	[ "$pid" = "$(cat "$dir/pid")" ]
}
case $cmd in
start)
	mkdir -p "$dir"
	[ ! -f "$dir/pid" ] || kill "$(cat "$dir/pid")" 2>/dev/null || : # an earlier run's
	rm -f "$dir/pid" "$dir/port" "$dir/log"
	for try in $(seq 20); do
		port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		rm -f "$dir/pid"
		redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
			--pidfile "$dir/pid" --daemonize yes --logfile "$dir/log" \
			--save '' --protected-mode no "$@"
		# wait for the server's reply (or its exit): bounded, 5 s
		i=0
		until ours "$port"; do
			i=$((i + 1))
			if [ $i -ge 100 ] || grep -q 'Address already in use' "$dir/log" 2>/dev/null; then
				break
			fi
			sleep 0.05 # a poll of the server's reply, not a wait for it
		done
		if ours "$port"; then
			echo "$port" >"$dir/port"
			echo "redis-server on 127.0.0.1:$port (pid $(cat "$dir/pid"), try $try)"
			exit 0
		fi
		[ ! -s "$dir/pid" ] || kill "$(cat "$dir/pid")" 2>/dev/null || :
		echo "port $port: not our server (taken?), trying another"
		: >"$dir/log"
	done
	echo "redis-server did not start"
	cat "$dir/log"
	exit 1
	;;
ours)
	port=$dir dir=$1
	ours "$port"
	;;
stop)
	if [ -f "$dir/port" ] && ours "$(cat "$dir/port")"; then
		redis-cli -p "$(cat "$dir/port")" shutdown nosave >/dev/null 2>&1 || :
	fi
	[ ! -f "$dir/pid" ] || kill "$(cat "$dir/pid")" 2>/dev/null || : # gone already
	rm -f "$dir/pid" "$dir/port"
	;;
*)
	echo "usage: redis_server.sh start|stop DIR | ours PORT DIR" >&2
	exit 2
	;;
esac
