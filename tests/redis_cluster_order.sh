#!/bin/bash
# A Redis Cluster of its own (one of its masters is killed), then
# redis_cluster_order.py against it; the cluster stopped in every case.
#   redis_cluster_order.sh PYTHON DIR
set -euo pipefail
py=$1 dir=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dir"
"$here/redis_cluster.sh" start "$dir"
trap '"$here/redis_cluster.sh" stop "$dir" || true' EXIT
"$py" "$here/redis_cluster_order.py" "$here/redis_cluster.sh" "$dir"
