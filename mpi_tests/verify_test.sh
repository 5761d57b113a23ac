#!/bin/sh
# simrec verify finds what is not whole in crafted stores (a chunk
# deleted, a chunk cut short, a shape grown past the data), names the
# steps, exits 1; verify --repair cuts the dataset to its last whole step
# (exit 0), after which verify passes and zarr-python / h5py read it. zarr
# stores carry consolidated metadata (.zmetadata, as
# zarr.consolidate_metadata writes it): after the repair,
# zarr.open_consolidated shows the same arrays and shapes as zarr.open.
# usage: verify_test.sh MPIEXEC TEST_FAULTS SIMREC CRAFT_PY CHECK_PY WORK SCHEME...
set -u
mpiexec=$1 bin=$2 simrec=$3 craft=$4 check=$5 work=$6
shift 6
mkdir -p "$work"
fail=0
expect() { # expect CODE PATTERN CMD...: exit code and output
	code=$1 pat=$2
	shift 2
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" != "$code" ] || ! echo "$out" | grep -q -- "$pat"; then
		echo "FAIL: '$*' gave $got (want $code, /$pat/):"
		echo "$out"
		fail=1
	fi
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
for scheme in "$@"; do
	for case in "delete 10 10..11 10" "truncate 6 6..7 6" "grow 50 40..49 40"; do
		set -- $case
		action=$1 step=$2 steps=$3 whole=$4
		[ "$scheme" = hdf5 ] && [ "$action" != grow ] && continue
		store=$work/$(echo "$scheme" | tr + _).$action
		rm -rf "$store"
		"$mpiexec" -n 2 --oversubscribe "$bin" write \
			"$scheme:$store?codec=none" 40 10 2048 >/dev/null || fail=1
		expect 0 "all datasets ok" "$simrec" verify "$scheme:$store"
		[ "$scheme" = hdf5 ] || zmeta consolidate "$scheme" "$store" || fail=1
		/usr/bin/python3 "$craft" "$scheme" "$store" "$action" "$step" || fail=1
		expect 1 "steps $steps of 'run/u'" "$simrec" verify "$scheme:$store"
		expect 0 "cut to $whole step" "$simrec" verify --repair "$scheme:$store"
		expect 0 "all datasets ok" "$simrec" verify "$scheme:$store"
		expect 0 "steps $whole torn 0" "$check" "$scheme" "$store" "=$whole"
		[ "$scheme" = hdf5 ] ||
			expect 0 "consolidated: same" zmeta compare "$scheme" "$store"
		echo "$scheme $action: done"
	done
done
expect 2 "" "$simrec" verify
[ "$fail" = 0 ] && echo "verify_test: ok"
exit "$fail"
