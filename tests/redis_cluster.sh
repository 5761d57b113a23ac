#!/bin/bash
# Start or stop a private Redis Cluster of 3 masters for the tests (a ctest
# fixture), every node with an append-only file synced at every write.
#   redis_cluster.sh start DIR [extra redis-server args]
#       -> DIR/seeds ("127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3"),
#          DIR/nI/{port,pid,log} for I = 1..3
#   redis_cluster.sh stop DIR        every node stopped (and its files kept)
#   redis_cluster.sh kill DIR I      node I killed with SIGKILL
#   redis_cluster.sh restart DIR I   node I started again on its port from
#                                    its own files (AOF, nodes.conf), then
#                                    the cluster waited for (state ok)
#   redis_cluster.sh wait DIR        until every node says cluster_state:ok
# REDISCLI_AUTH, when set, is every node's password (--requirepass and
# --masterauth are added).
# Ports: each node takes a free port and a free cluster bus port
# (--cluster-port), proven ours as tests/redis_server.sh does (the server
# answering reports the pid this start wrote); a taken port is retried.
set -euo pipefail
cmd=$1 dir=$2
shift 2
auth=()
if [ -n "${REDISCLI_AUTH:-}" ]; then
	auth=(--requirepass "$REDISCLI_AUTH" --masterauth "$REDISCLI_AUTH")
fi

ours() { # ours PORT NODEDIR
	local info pid
	[ -s "$2/pid" ] || return 1
	info=$(redis-cli -p "$1" info server 2>/dev/null) || return 1
	pid=$(awk -F: '/^process_id:/ {print $2 + 0}' <<<"$info")
	[ "$pid" = "$(cat "$2/pid")" ]
}

# run_node NODEDIR PORT BUSPORT [args]: start, then poll its reply (5 s)
run_node() {
	local nd=$1 port=$2 bus=$3 i=0
	shift 3
	rm -f "$nd/pid"
	redis-server --bind 127.0.0.1 --port "$port" --cluster-port "$bus" \
		--dir "$nd" --pidfile "$nd/pid" --daemonize yes \
		--logfile "$nd/log" --save '' --protected-mode no \
		--cluster-enabled yes --cluster-config-file nodes.conf \
		--cluster-node-timeout 5000 --appendonly yes \
		--appendfsync always ${auth[@]+"${auth[@]}"} "$@"
	until ours "$port" "$nd"; do
		i=$((i + 1))
		if [ $i -ge 100 ] || grep -q 'Address already in use' "$nd/log" 2>/dev/null; then
			return 1
		fi
		sleep 0.05 # a poll of the server's reply, not a wait for it
	done
}

start_node() { # start_node NODEDIR [args]
	local nd=$1 ports
	shift
	mkdir -p "$nd"
	for try in $(seq 20); do
		ports=$(/usr/bin/python3 -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
		set -- "$nd" $ports "$@"
		if run_node "$@"; then
			echo "$2" >"$nd/port"
			echo "$3" >"$nd/busport"
			echo "node $nd: 127.0.0.1:$2 (pid $(cat "$nd/pid"), try $try)"
			return 0
		fi
		shift 3
		[ ! -s "$nd/pid" ] || kill "$(cat "$nd/pid")" 2>/dev/null || :
		echo "ports $ports: not our server (taken?), trying others"
		: >"$nd/log"
	done
	echo "node $nd did not start"
	cat "$nd/log"
	return 1
}

# every node answers CLUSTER INFO with cluster_state:ok (polled, 60 s)
wait_ok() {
	local n i=0 ok
	while :; do
		ok=1
		for n in 1 2 3; do
			redis-cli -p "$(cat "$dir/n$n/port")" cluster info 2>/dev/null |
				grep -q '^cluster_state:ok' || ok=0
		done
		[ $ok = 0 ] || return 0
		i=$((i + 1))
		if [ $i -ge 600 ]; then
			echo "the cluster did not reach cluster_state:ok"
			return 1
		fi
		sleep 0.1 # a poll of the nodes' replies
	done
}

stop_node() { # stop_node NODEDIR
	local nd=$1
	if [ -f "$nd/port" ] && ours "$(cat "$nd/port")" "$nd"; then
		redis-cli -p "$(cat "$nd/port")" shutdown >/dev/null 2>&1 || :
	fi
	[ ! -s "$nd/pid" ] || kill "$(cat "$nd/pid")" 2>/dev/null || :
	rm -f "$nd/pid"
}

case $cmd in
start)
	for n in 1 2 3; do
		[ ! -d "$dir/n$n" ] || stop_node "$dir/n$n"
	done
	rm -rf "$dir"
	mkdir -p "$dir"
	seeds=()
	for n in 1 2 3; do
		start_node "$dir/n$n" "$@"
		seeds+=("127.0.0.1:$(cat "$dir/n$n/port")")
	done
	redis-cli --cluster create "${seeds[@]}" --cluster-yes >"$dir/create.log" 2>&1 ||
		{ cat "$dir/create.log"; exit 1; }
	wait_ok
	(
		IFS=,
		echo "${seeds[*]}"
	) >"$dir/seeds"
	echo "cluster up: $(cat "$dir/seeds")"
	;;
stop)
	for n in 1 2 3; do
		[ ! -d "$dir/n$n" ] || stop_node "$dir/n$n"
	done
	;;
kill)
	n=$1
	kill -9 "$(cat "$dir/n$n/pid")"
	;;
restart)
	n=$1
	nd=$dir/n$n
	: >"$nd/log"
	run_node "$nd" "$(cat "$nd/port")" "$(cat "$nd/busport")"
	wait_ok
	;;
wait)
	wait_ok
	;;
*)
	echo "usage: redis_cluster.sh start|stop|wait DIR | kill|restart DIR I" >&2
	exit 2
	;;
esac
