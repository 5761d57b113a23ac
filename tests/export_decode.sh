#!/bin/bash
# `simrec export` of a zarr store decodes each chunk once, keeping its
# checks. Work counted, not timed: an LD_PRELOAD shim counts the blosc
# decodes of the export process (tests/count_decode.c). For zarr: and
# zarr+dir: sources of 480 records of 4 float64 (10 a chunk: 48 compressed
# chunks; written by test_noclose, values i * 10 + j):
# - the export decodes exactly as many chunks as the source holds (the
#   source's chunk count from zarr-python), and the copy reads back equal
#   to the source (numpy);
# - a chunk missing: refused before anything is written (no key in dst);
# - a chunk whose frame header is cut short: refused before anything is
#   written;
# - a chunk whose header fits but whose data does not decode: the export
#   fails naming it, and every record it wrote equals the source's.
# usage: export_decode.sh SIMREC_CLI SHIM PYTHON TEST_NOCLOSE WORKDIR
set -euo pipefail
cli=$1 shim=$2 py=$3 writer=$4 work=$5
rm -rf "$work"
mkdir -p "$work"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# a sanitizer build's runtime must come first in the preload list
asan=$(ldd "$cli" | awk '/libasan/ {print $3}')
preload=${asan:+$asan:}$shim
for scheme in zarr+dir zarr; do
	src=$work/src.$scheme
	"$writer" serial "$scheme:$src?chunk_bytes=320" 480 2>/dev/null
	chunks=$("$py" - "$scheme" "$src" <<'PY'
import sys, zarr
st = zarr.LMDBStore(sys.argv[2], readonly=True, lock=False) if sys.argv[1] == "zarr" else sys.argv[2]
a = zarr.open(st, mode="r")["x"]
print(a.nchunks_initialized if a.nchunks_initialized == a.nchunks else -1)
PY
)
	rm -rf "$work/dst"
	SIMREC_TEST_DECODE_COUNT=$work/count LD_PRELOAD=$preload \
		"$cli" export "$scheme:$src" "zarr+dir:$work/dst" >"$work/out" 2>&1 ||
		bad "$scheme: export failed: $(tail -3 "$work/out")"
	n=$(cat "$work/count")
	echo "$scheme: $chunks chunks, the export decoded $n"
	[ "$chunks" -gt 1 ] && [ "$n" = "$chunks" ] || bad "$scheme: $n decodes for $chunks chunks"
	"$py" - "$scheme" "$src" "$work/dst" <<'PY' || bad "$scheme: the copy differs"
import sys, numpy as np, zarr
st = zarr.LMDBStore(sys.argv[2], readonly=True, lock=False) if sys.argv[1] == "zarr" else sys.argv[2]
a = zarr.open(st, mode="r")["x"][:]
b = zarr.open(sys.argv[3], mode="r")["x"][:]
want = np.array([[i * 10.0 + j for j in range(4)] for i in range(480)])
assert np.array_equal(a, want) and np.array_equal(b, want), "values"
PY
done
# the checks, on a directory store (its chunks are files)
src=$work/src.zarr+dir
chunk=$(cd "$src/x" && ls | grep -v '^\.' | sort -t. -k1,1n | sed -n 20p)
cp "$src/x/$chunk" "$work/saved"
# a chunk missing
rm "$src/x/$chunk"
rm -rf "$work/dst"
rc=0
"$cli" export "zarr+dir:$src" "zarr+dir:$work/dst" >"$work/out" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "$chunk" "$work/out" || bad "missing chunk: exit $rc: $(tail -2 "$work/out")"
[ ! -e "$work/dst/x" ] || bad "missing chunk: something of x was written"
# its frame cut short (the header says more bytes than there are)
head -c 40 "$work/saved" >"$src/x/$chunk"
rm -rf "$work/dst"
rc=0
"$cli" export "zarr+dir:$src" "zarr+dir:$work/dst" >"$work/out" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "$chunk" "$work/out" || bad "short chunk: exit $rc: $(tail -2 "$work/out")"
[ ! -e "$work/dst/x" ] || bad "short chunk: something of x was written"
# header intact, data garbled: the copy's read fails, naming it
"$py" - "$work/saved" "$src/x/$chunk" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
for i in range(16, len(b)):
    b[i] ^= 0x5A
open(sys.argv[2], "wb").write(b)
PY
rm -rf "$work/dst"
rc=0
"$cli" export "zarr+dir:$src" "zarr+dir:$work/dst" >"$work/out" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "x" "$work/out" || bad "garbled chunk: exit $rc: $(tail -2 "$work/out")"
"$py" - "$work/dst" <<'PY' || bad "garbled chunk: the records written differ"
import os, sys, numpy as np, zarr
if os.path.exists(os.path.join(sys.argv[1], "x")):
    b = zarr.open(sys.argv[1], mode="r")["x"][:]
    want = np.array([[i * 10.0 + j for j in range(4)] for i in range(480)])
    assert len(b) < 480 and np.array_equal(b, want[:len(b)]), f"{len(b)} records"
PY
echo "garbled chunk: $(grep -m1 -i 'decode\|format' "$work/out" | head -c 200)"
[ "$fail" = 0 ] && echo "export decodes once: ok"
exit "$fail"
