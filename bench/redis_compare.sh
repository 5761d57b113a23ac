#!/bin/sh
# The redis store's append throughput beside redis-benchmark's RPUSH, same
# server, same record size, same client count, in one run.
#   bench/redis_compare.sh BUILD_DIR [PIPELINE]
set -eu
build=$1 pipe=${2:-16}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap '"$here/../tests/redis_server.sh" stop "$dir"; rm -rf "$dir"' EXIT
"$here/../tests/redis_server.sh" start "$dir" >/dev/null
port=$(cat "$dir/port")
for size in 1024 1048576; do
	n=$((size == 1024 ? 200000 : 400))
	for clients in 1 4; do
		s=$("$build/bench/bench_redis" "redis://127.0.0.1:$port?prefix=bench" "$size" "$n" "$clients")
		echo "$s"
		redis-cli -p "$port" flushall >/dev/null
		rb=$(redis-benchmark -p "$port" -t rpush -d "$size" -c "$clients" -P "$pipe" \
			-n $((n * clients)) -q 2>/dev/null | tr '\r' '\n' | grep -i 'rpush' | tail -1)
		redis-cli -p "$port" flushall >/dev/null
		rps=$(echo "$rb" | sed -n 's/.*: *\([0-9.]*\) requests per second.*/\1/p')
		mbs=$(awk -v r="$rps" -v s="$size" 'BEGIN { printf "%.1f", r * s / 1e6 }')
		sm=$(echo "$s" | sed -n 's/.* \([0-9.]*\) MB\/s.*/\1/p')
		echo "redis-benchmark rpush -d $size -c $clients -P $pipe: $rps requests/s, $mbs MB/s"
		echo "  ratio simrec / redis-benchmark (MB/s): $(awk -v a="$sm" -v b="$mbs" 'BEGIN { printf "%.2f", a / b }')"
	done
done
