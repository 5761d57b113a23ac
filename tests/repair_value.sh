#!/bin/bash
# simrec verify --repair on an HDF5 value that is not whole (a fixed-size
# chunked dataset, as simrec_set makes, with a chunk never written) next
# to a torn recorded dataset: the records are cut, the value is left as it
# is and named "NOT REPAIRED", the exit code is 3 and nothing says
# "repaired" about it.
#   repair_value.sh SIMREC DIR PYTHON
set -euo pipefail
simrec=$1 dir=$2 py=$3
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
"$py" -c "
import h5py, numpy as np
with h5py.File('v.h5', 'w') as f:
    v = f.create_dataset('meta/state', shape=(8,), chunks=(4,), dtype='f8')
    v[:4] = 1.0  # the chunk at 4 is never written
    r = f.create_dataset('run/u', shape=(8, 2), maxshape=(None, 2),
                         chunks=(2, 2), dtype='f8')
    r[:4] = 2.0  # steps 4..7 never written
" || exit 1
fails=0
"$simrec" verify hdf5:v.h5 >/dev/null && { echo "FAIL: verify said ok"; fails=1; }
rc=0
out=$("$simrec" verify --repair hdf5:v.h5) || rc=$?
echo "$out"
[ "$rc" = 3 ] || { echo "FAIL: exit $rc, not 3"; fails=1; }
grep -q '^NOT REPAIRED meta/state: a value' <<<"$out" || { echo "FAIL: the value is not named"; fails=1; }
grep -q '^repaired run/u: cut to 4 step' <<<"$out" || { echo "FAIL: run/u not cut"; fails=1; }
grep -q 'repaired meta/state' <<<"$out" && { echo "FAIL: claims the value repaired"; fails=1; }
echo "$out" | tail -1 | grep -q 'REPAIR FAILED' || { echo "FAIL: last line"; fails=1; }
"$py" -c "
import h5py, numpy as np
f = h5py.File('v.h5', 'r')
assert f['run/u'].shape == (4, 2) and (f['run/u'][...] == 2.0).all()
assert f['meta/state'].shape == (8,) and (f['meta/state'][:4] == 1.0).all()
" || fails=1
[ $fails = 0 ] && echo "repair value: ok"
exit "$fails"
