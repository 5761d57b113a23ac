#!/bin/bash
# simrec ls/info/cat on stores opened with ?lock=redis:// (host from
# SIMREC_REDIS_HOST) list, describe and read every key exactly as without
# the lock.   cli_lock_test.sh SIMREC INTEROP_EXE DIR
set -euo pipefail
simrec=$1 writer=$2 dir=$3
fails=0
rm -rf "$dir" && mkdir -p "$dir"
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
for s in zarr zarr+dir hdf5; do
	store="$s:$dir/st-$(echo $s | tr + _)"
	"$writer" write "$store" >/dev/null || { bad "write $store"; continue; }
	plain=$("$simrec" ls "$store" 2>&1) || bad "ls $store"
	rc=0
	locked=$("$simrec" ls "$store?lock=redis://" 2>&1) || rc=$?
	[ $rc = 0 ] && ok "ls $s under the lock" || bad "ls $s locked: exit $rc: $locked"
	[ "$plain" = "$locked" ] && ok "ls $s lists every key under the lock" ||
		bad "ls $s differs under the lock: $locked"
	case $locked in *unreadable*) bad "ls $s: unreadable entries" ;; esac
	n=$(printf '%s\n' "$locked" | awk 'NF {n++} END {print n + 0}')
	[ "$n" -gt 10 ] && ok "ls $s: $n entries" || bad "ls $s: only $n entries"
	# every dataset of the listing: info and a one-element cat
	# full keys from the indented tree (two spaces a level)
	keys=$(printf '%s\n' "$plain" | awk '{
		match($0, /^ */); lvl = RLENGTH / 2; name = $1
		if (name ~ /\/$/) { g[lvl] = substr(name, 1, length(name) - 1); next }
		k = ""; for (i = 0; i < lvl; i++) k = k g[i] "/"; print k name }')
	ncat=0
	for key in $keys; do
		out=$("$simrec" info "$store?lock=redis://" "$key" 2>&1) ||
			bad "info $s $key: $out"
		case $out in
		*"stored_bytes: 0"*) [ "$s" = hdf5 ] && bad "info $s $key: stored_bytes 0" ;;
		esac
		# the values read under the lock are those read without it
		want=$("$simrec" cat "$store" "$key" --max 100000000 2>&1) ||
			bad "cat $s $key (no lock): $want"
		out=$("$simrec" cat "$store?lock=redis://" "$key" --max 100000000 2>&1) ||
			bad "cat $s $key: $out"
		[ -n "$want" ] || bad "cat $s $key printed nothing"
		[ "$out" = "$want" ] || bad "cat $s $key differs under the lock"
		ncat=$((ncat + 1))
	done
	[ "$ncat" -gt 10 ] || bad "$s: only $ncat keys read"
	ok "info and cat of every $s key under the lock, equal to the plain read ($ncat keys)"
done
[ $fails = 0 ] && echo "cli locked: ok" || { echo "cli locked: $fails failure(s)"; exit 1; }
