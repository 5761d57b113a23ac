#!/bin/bash
# Drives every subcommand of the simrec command line on real stores and
# checks outputs and exit codes.  cli_test.sh SIMREC INTEROP_EXE DIR PYTHON
set -euo pipefail
simrec=$1 writer=$2 dir=$3 py=$4
fails=0
rm -rf "$dir" && mkdir -p "$dir"
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
# expect CODE DESCRIPTION CMD... : exit code and output kept in $out
expect() {
	code=$1 what=$2
	shift 2
	got=0
	out=$("$@" 2>&1) || got=$?
	[ "$got" = "$code" ] && ok "$what" || { bad "$what (exit $got, want $code): $out"; }
}
has() { case $out in *"$1"*) ok "$2" ;; *) bad "$2: no '$1' in: $out" ;; esac; }

src="zarr:$dir/src.zarr"
"$writer" write "$src" || exit 1

expect 0 "ls" "$simrec" ls "$src"
has "s0  float32 (9, 6, 7)" "ls shows dtype and shape"
has "deep/" "ls shows groups"
expect 0 "ls with prefix" "$simrec" ls "$src" deep/nested
case $out in *types*) bad "prefix filters" ;; *) ok "prefix filters" ;; esac
expect 0 "info" "$simrec" info "$src" small/scalar
has "records: 1000000" "info records"
has '"cname":"lz4"' "info compressor"
has "ratio:" "info ratio"
has "dt = 0.125" "info attributes"
expect 0 "cat slice" "$simrec" cat "$src" types/int16/s0 "2,1:3,0:4"
# sample(int16, k) = ((k*7+3)%100-50)*300, k = 2*42 + 1*7 + 0 = 91 -> -3000
has "-3000 -900 1200 3300" "cat values"
expect 0 "cat csv" "$simrec" cat "$src" types/float64/s1 "-1" --csv
has "," "csv separators"
expect 0 "cat text" "$simrec" cat "$src" deep/nested/key/config "3:4"
has '"step": 3' "cat strings"
expect 2 "cat refuses a huge selection" "$simrec" cat "$src" small/scalar
has "--max" "cat says how"
expect 2 "bad slice" "$simrec" cat "$src" types/int8/s0 "0:2,99"
has "bad slice" "bad slice message"
expect 1 "wrong key" "$simrec" info "$src" no/such/key
has "no/such/key" "wrong key named"
expect 1 "missing store" "$simrec" ls "zarr:$dir/nothing.zarr"
has "nothing.zarr" "missing store named"
expect 2 "unknown command" "$simrec" frobnicate
expect 0 "help" "$simrec" export --help
has "Safe to rerun" "export help"

# export: zarr LMDB -> zarr directory store and -> HDF5, then verify
for dst in "zarr+dir:$dir/out.zarr" "hdf5:$dir/out.h5"; do
	expect 0 "export to $dst" "$simrec" export "$src" "$dst"
	has "exported" "export summary"
	expect 0 "verify $dst" "$simrec" verify "$dst"
	has "all datasets ok" "verify says ok"
	expect 0 "export rerun is safe" "$simrec" export "$src" "$dst"
done
expect 0 "exported values equal" "$py" -c "
import zarr, numpy as np, h5py
a = zarr.open_group(store=zarr.LMDBStore('$dir/src.zarr', readonly=True, lock=False), mode='r')
b = zarr.open('$dir/out.zarr', mode='r')
h = h5py.File('$dir/out.h5', 'r')
for k in ['types/uint32/s2', 'small/scalar', 'deep/value']:
    assert np.array_equal(a[k][...], b[k][...]), k
    assert np.array_equal(a[k][...], h[k][...]), k
assert list(b['deep/nested/key/config'][...]) == list(a['deep/nested/key/config'][...])
assert b['small/scalar'].attrs['dt'] == 0.125 and b.attrs['title'] == 'simrec interop'
print('equal')"
has "equal" "export copies values and attributes"

# a damaged chunk: verify names the dataset and fails
chunk=$(ls "$dir/out.zarr/types/float32/s0/" | awk '!/^\./ && !n++')
printf 'garbage' >"$dir/out.zarr/types/float32/s0/$chunk"
expect 1 "verify finds a corrupt chunk" "$simrec" verify "zarr+dir:$dir/out.zarr"
has "TORN  types/float32/s0: step" "verify names the dataset and its steps"
has "types/float32/s0: --repair keeps" "verify says what --repair keeps"
has "ok    types/int8/s0" "verify reports the intact ones"

# no scheme: inferred from what is on disk (an HDF5 file, a zarr
# directory, an LMDB zarr store); a wrong scheme is refused naming the right
"$py" - "$dir" <<'PYEOF'
import sys
import h5py
import numpy as np
import zarr
a = np.arange(60.0).reshape(6, 10) / 3
with h5py.File(sys.argv[1] + "/n.h5", "w") as f:
    f["a"] = a
zarr.group(zarr.DirectoryStore(sys.argv[1] + "/n.zarr"))["a"] = a
PYEOF
expect 0 "ls infers hdf5" "$simrec" ls "$dir/n.h5"
has "a  float64 (6, 10)" "ls of an HDF5 file without a scheme"
expect 0 "ls infers zarr+dir" "$simrec" ls "$dir/n.zarr"
has "a  float64 (6, 10)" "ls of a zarr directory without a scheme"
expect 0 "ls infers zarr (LMDB)" "$simrec" ls "$dir/src.zarr"
has "s0  float32 (9, 6, 7)" "ls of an LMDB store without a scheme"
expect 1 "wrong scheme refused" "$simrec" ls "zarr:$dir/n.h5"
has "open it as hdf5:$dir/n.h5" "the right scheme named"
expect 1 "wrong scheme refused (dir)" "$simrec" cat "hdf5:$dir/n.zarr" a
has "open it as zarr+dir:$dir/n.zarr" "the right scheme named (dir)"
# numpy slices with steps; floats printed in their shortest round-trip form
for store in "$dir/n.h5" "$dir/n.zarr"; do
	for sl in "::2,1:10:3" "1,::4" "-2:,1::4" "-2:,::-1:9" "5:0,:"; do
		got=0
		out=$("$simrec" cat "$store" a "$sl" --csv 2>&1) || got=$?
		"$py" - "$sl" "$got" "$out" <<'PYEOF' && ok "cat $sl" || bad "cat $store $sl: $out"
import sys
import numpy as np
sl, rc, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
a = np.arange(60.0).reshape(6, 10) / 3
try:
    want = eval("a[%s]" % sl)
except Exception:
    want = None
if want is None or (want.size == 0):
    sys.exit(0 if rc == 2 else 1)  # refused as a bad slice
want = np.atleast_2d(want)
rows = [r.split(",") for r in out.split()]
got = np.array([[float(x) for x in r] for r in rows])
assert rc == 0 and got.tobytes() == want.tobytes(), (got, want)
for r, w in zip(rows, want):
    for x, v in zip(r, w):  # no longer than Python's shortest repr
        assert len(x) <= len(repr(float(v))), (x, v)
PYEOF
	done
done
[ $fails = 0 ] && echo "cli: ok" || { echo "cli: $fails failure(s)"; exit 1; }
