#!/bin/bash
# simrec verify finds what is not whole in crafted stores (a chunk
# deleted, a chunk cut short, a shape grown past the data, torn steps in
# the middle, more torn ranges than it lists), prints exactly which steps
# and why and what --repair keeps (the lines are compared whole), exits 1;
# verify --repair cuts the dataset to its last whole prefix (exit 0), after which verify passes and zarr-python / h5py read it. zarr
# stores carry consolidated metadata (.zmetadata, as
# zarr.consolidate_metadata writes it): after the repair,
# zarr.open_consolidated shows the same arrays and shapes as zarr.open.
# usage: verify_test.sh MPIEXEC TEST_FAULTS SIMREC CRAFT_PY CHECK_PY WORK SCHEME...
set -euo pipefail
mpiexec=$1 bin=$2 simrec=$3 craft=$4 check=$5 work=$6
shift 6
mkdir -p "$work"
fail=0
expect() { # expect CODE PATTERN CMD...: exit code and output
	code=$1 pat=$2
	shift 2
	got=0
	out=$("$@" 2>&1) || got=$?
	if [ "$got" != "$code" ] || ! grep -q -- "$pat" <<<"$out"; then
		echo "FAIL: '$*' gave $got (want $code, /$pat/):"
		echo "$out"
		fail=1
	fi
}
has_line() { # has_line LINE [ANY]: the last output holds LINE exactly (or
	# ANY: a line that is LINE and then more)
	if ! printf '%s\n' "$out" | LINE=$1 ANY=${2-} awk '
		$0 == ENVIRON["LINE"] || (ENVIRON["ANY"] != "" &&
		index($0, ENVIRON["LINE"]) == 1) { found = 1 }
		END { exit !found }'; then
		echo "FAIL: no line '$1' in:"
		echo "$out"
		fail=1
	fi
}
keep_line() { # keep_line WHOLE ROWS: what verify says --repair keeps
	k="steps 0-$(($1 - 1))"
	[ "$1" = 1 ] && k="step 0"
	echo "      run/u: --repair keeps $k of $2 and drops steps $1-$(($2 - 1)) (records stay contiguous: it cuts at the first torn step)"
}
zmeta() { # zmeta consolidate|compare SCHEME STORE
	/usr/bin/python3 -c "
import sys, zarr
what, scheme, path = sys.argv[1:]
def store(): return zarr.LMDBStore(path, lock=False) if scheme == 'zarr' else path
if what == 'consolidate':
    zarr.consolidate_metadata(store())
    sys.exit(0)
def shapes(g):
    out = {}
    g.visititems(lambda k, v: out.__setitem__(k, getattr(v, 'shape', None)))
    return out
a = shapes(zarr.open_group(store(), mode='r'))
b = shapes(zarr.open_consolidated(store(), mode='r'))
print('consolidated:', 'same' if a == b else 'differs', a, b)
" "$@"
}
# a case: NAME|ACTION|STEPS|SHORT|WHOLE|LIST|BAD: craft ACTION at STEPS,
# cut the chunks of SHORT steps short too (- none); verify then lists LIST
# as torn (MISSING: "chunk missing", HDF5 "chunk unallocated") in BAD bad
# chunks and --repair keeps WHOLE steps
cases='delete|delete|10|-|10|10-11 (MISSING)|1
truncate|truncate|6|-|6|6-7 (chunk short)|1
middle|delete|10,22|30|10|10-11 (MISSING), 22-23 (MISSING), 30-31 (chunk short)|3
holes|delete|2,6,10,14,18,22,26,30,34,38|-|2|2-3 (MISSING), 6-7 (MISSING), 10-11 (MISSING), 14-15 (MISSING), 18-19 (MISSING), 22-23 (MISSING), 26-27 (MISSING), 30-31 (MISSING), ... and 4 more step(s)|10
grow|grow|50|-|40|40-49 (MISSING)|5'
for scheme in "$@"; do
	missing="chunk missing"
	[ "$scheme" = hdf5 ] && missing="chunk unallocated"
	while IFS='|' read -r name action steps short whole list nbad; do
		list=$(echo "$list" | sed "s/MISSING/$missing/g")
		# h5py cannot cut an unfiltered HDF5 chunk short: no short cases
		[ "$scheme" = hdf5 ] && [ "$action" = truncate ] && continue
		[ "$scheme" = hdf5 ] && [ "$short" != - ] &&
			list=${list%, 30-31 (chunk short)} nbad=2 short=-
		store=$work/$(echo "$scheme" | tr + _).$name
		rm -rf "$store"
		"$mpiexec" -n 2 --oversubscribe "$bin" write \
			"$scheme:$store?codec=none" 40 10 2048 </dev/null >/dev/null || fail=1
		expect 0 "all datasets ok" "$simrec" verify "$scheme:$store"
		[ "$scheme" = hdf5 ] || zmeta consolidate "$scheme" "$store" || fail=1
		/usr/bin/python3 "$craft" "$scheme" "$store" "$action" "$steps" || fail=1
		[ "$short" = - ] ||
			/usr/bin/python3 "$craft" "$scheme" "$store" truncate "$short" || fail=1
		expect 1 "PROBLEMS FOUND" "$simrec" verify "$scheme:$store"
		# zarr names the first bad chunk and its error too
		line="TORN  run/u: steps $list of 'run/u' in '$store' are not whole ($nbad bad chunk(s))"
		case $scheme:$action in
		hdf5:*) has_line "$line" ;;
		*:truncate) has_line "$line; first bad chunk 'run/u/3.0.0': " any ;;
		*) has_line "$line; first bad chunk 'run/u/$((whole / 2)).0.0': chunk missing" ;;
		esac
		rows=40
		[ "$action" = grow ] && rows=$steps
		has_line "$(keep_line "$whole" "$rows")"
		expect 0 "cut to $whole step" "$simrec" verify --repair "$scheme:$store"
		expect 0 "all datasets ok" "$simrec" verify "$scheme:$store"
		expect 0 "steps $whole torn 0" "$check" "$scheme" "$store" "=$whole"
		[ "$scheme" = hdf5 ] ||
			expect 0 "consolidated: same" zmeta compare "$scheme" "$store"
		echo "$scheme $name: done"
	done <<EOF
$cases
EOF
done
expect 2 "" "$simrec" verify
[ "$fail" = 0 ] && echo "verify_test: ok"
exit "$fail"
