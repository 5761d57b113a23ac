#!/bin/bash
# Export checks identity: run A (5 records) and run B (7 records) are two
# stores, each with its own run id (root attribute "_simrec_run", read here
# with Python's json from the directory store). A exported into D: ok, D
# names A as its source. B exported into D: refused, the message names
# both run ids, D unchanged. A exported into D again: resumes (exit 0).
# A skipped record of D changed (with zarr-python): the next export of A
# is refused, naming the record and run A.
# usage: export_identity.sh TEST_NOCLOSE SIMREC PYTHON WORKDIR
set -euo pipefail
bin=$1 simrec=$2 py=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
"$bin" serial "zarr+dir:$work/A" 5 2>/dev/null
"$bin" serial "zarr+dir:$work/B" 7 2>/dev/null
runid() { "$py" -c 'import json,sys; print(json.load(open(sys.argv[1]+"/.zattrs"))["_simrec_run"])' "$1"; }
a=$(runid "$work/A") b=$(runid "$work/B")
[ "${#a}" = 32 ] && [ "${#b}" = 32 ] && [ "$a" != "$b" ] ||
	{ echo "FAIL: run ids '$a' '$b'"; exit 1; }
"$simrec" export "zarr+dir:$work/A" "zarr+dir:$work/D"
src=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]+"/.zattrs"))["simrec_source_run"])' "$work/D")
[ "$src" = "$a" ] || { echo "FAIL: D's source run is '$src', not $a"; exit 1; }
rc=0
"$simrec" export "zarr+dir:$work/B" "zarr+dir:$work/D" 2>"$work/err" || rc=$?
cat "$work/err"
[ "$rc" != 0 ] || { echo "FAIL: run B exported into D (an export of A)"; exit 1; }
grep -q "$a" "$work/err" && grep -q "$b" "$work/err" ||
	{ echo "FAIL: the refusal does not name both runs"; exit 1; }
"$py" - "$work/D" <<'PY'
import sys, zarr, numpy as np
x = zarr.open(sys.argv[1], mode="r")["x"]
want = np.array([[i * 10.0 + j for j in range(4)] for i in range(5)])
assert x.shape == (5, 4) and (x[:] == want).all(), x[:]
PY
"$simrec" export "zarr+dir:$work/A" "zarr+dir:$work/D"
"$py" -c 'import sys, zarr; zarr.open(sys.argv[1], mode="r+")["x"][2, 1] = -1' "$work/D"
rc=0
"$simrec" export "zarr+dir:$work/A" "zarr+dir:$work/D" 2>"$work/err" || rc=$?
cat "$work/err"
[ "$rc" != 0 ] || { echo "FAIL: a changed record was skipped"; exit 1; }
grep -q "record 2 .*$a" "$work/err" || { echo "FAIL: the record or the run is not named"; exit 1; }
echo "export identity: ok"
