#!/bin/bash
# Redis messages name the store: two runs on one server (or cluster) differ
# by their ?prefix=, and so must their messages; a malformed record
# counter of a Redis Cluster is named by its own key, not the metadata's.
#   redis_names.sh INTEROP SIMREC single|cluster
# (SIMREC_REDIS_HOST: the fixture's server or the cluster's seeds; the
# fixture's servers go with it, and the store with them)
# single:  a store written, then `simrec info` of a key it does not hold:
#          the message names the store with its prefix
# cluster: the row counter P:r:{P:KEY:0} of a written store overwritten
#          with a non-number: `simrec info` fails, naming that counter
#          key and the prefix
set -euo pipefail
interop=$1 simrec=$2 mode=$3
pfx=names_${mode}_$$
fail() {
	echo "FAIL: $*"
	exit 1
}
cli() { # redis-cli on the fixture's first host (-c: follow redirections)
	local hp=${SIMREC_REDIS_HOST%%,*}
	redis-cli -c -h "${hp%:*}" -p "${hp##*:}" "$@"
}
case $mode in
single)
	uri="redis://?prefix=$pfx"
	"$interop" write "$uri" >/dev/null
	rc=0
	out=$("$simrec" info "$uri" no/such/key 2>&1) || rc=$?
	[ "$rc" = 1 ] || fail "info of a missing key exited $rc, not 1: $out"
	[[ $out == *"no key 'no/such/key' in 'redis://?prefix=$pfx'"* ]] ||
		fail "the message does not name the prefix: $out"
	;;
cluster)
	uri="redis://?prefix=$pfx&cluster=1"
	"$interop" write "$uri" >/dev/null
	key="$pfx:r:{$pfx:small/scalar:0}"
	[ "$(cli EXISTS "$key")" = 1 ] || fail "no counter '$key' to corrupt"
	[ "$(cli SET "$key" "12x")" = OK ] || fail "cannot corrupt '$key'"
	rc=0
	out=$("$simrec" info "$uri" small/scalar 2>&1) || rc=$?
	[ "$rc" = 1 ] || fail "info of a corrupt counter exited $rc, not 1: $out"
	[[ $out == *"counter '$key'"* ]] || fail "the message does not name the counter '$key': $out"
	[[ $out != *"$pfx:m:"* ]] || fail "the message blames the metadata key: $out"
	[[ $out == *"prefix '$pfx'"* ]] || fail "the message does not name the prefix: $out"
	;;
*) fail "usage: redis_names.sh INTEROP SIMREC single|cluster" ;;
esac
echo "redis_names $mode: ok: $out"
