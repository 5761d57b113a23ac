#!/bin/bash
# Fully distributed mode over a Redis Cluster of 3 masters (the fixture's,
# seeds in SIMREC_REDIS_HOST), np 4: record_all and plain records
# (test_record_all) and record_global over two rank counts (test_global),
# checked by simrec (the test programs read everything back), by redis-py's
# RedisCluster against the formulas (check_record_all.py,
# check_global.py), by `simrec verify`; and the keys really spread: every
# master holds keys of both stores.
# usage: redis_cluster.sh MPIEXEC TEST_RECORD_ALL TEST_GLOBAL SIMREC_CLI
#        PYTHON CLUSTER_DIR
set -euo pipefail
mpiexec=$1 all=$2 global=$3 cli=$4 python=$5 cdir=$6
here=$(dirname "$0")
export SIMREC_REDIS_HOST
SIMREC_REDIS_HOST=$(cat "$cdir/seeds")
echo "== record_all and record, np 4"
timeout -k 5 60 "$mpiexec" -n 4 --oversubscribe "$all" \
	"redis://?prefix=rc_all&cluster=1" 7
timeout -k 5 60 "$python" "$here/check_record_all.py" rc_all 4 7 redis
echo "== record_global, np 3 then np 4 appending"
bash "$here/array_runs.sh" "$mpiexec" "$global" "$python" \
	"$here/check_global.py" redis \
	"redis://?prefix=rc_global&chunk_bytes=1024&cluster=1" 3:0:0:3 4:0:3:2
timeout -k 5 60 "$python" "$here/check_global.py" redis rc_global 5
for p in rc_all rc_global; do
	timeout -k 5 60 "$cli" verify "redis://?prefix=$p&cluster=1"
done
# every master holds keys of each store (DBSIZE, and the prefix's own)
for n in 1 2 3; do
	port=$(cat "$cdir/n$n/port")
	size=$(redis-cli -p "$port" dbsize)
	for p in rc_all rc_global; do
		mine=$(redis-cli -p "$port" --scan --pattern "$p:*" | wc -l)
		echo "master $n (port $port): dbsize $size, $mine keys of $p"
		[ "$mine" -gt 0 ] || { echo "master $n holds no key of $p"; exit 1; }
	done
done
echo "redis cluster: ok"
