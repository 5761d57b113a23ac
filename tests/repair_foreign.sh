#!/bin/sh
# simrec verify --repair on zarr arrays that zarr-python wrote (no simrec
# record marker; '.' and '/' separators; directory and LMDB stores), with a
# chunk missing in two keys: every torn key is cut to its whole steps and
# zarr-python reads the result.   repair_foreign.sh SIMREC DIR PYTHON
set -u
simrec=$1 dir=$2 py=$3
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
"$py" -c "
import zarr, numpy as np, os
g = zarr.open_group('dot', mode='w')
for k in 'xy':
    g.create_dataset(k, data=np.arange(40.).reshape(20, 2), chunks=(4, 2))
os.remove('dot/x/2.0'); os.remove('dot/y/3.0')
g = zarr.open_group('slash', mode='w')
g.create_dataset('x', data=np.arange(40.).reshape(20, 2), chunks=(4, 2),
                 dimension_separator='/')
os.remove('slash/x/2/0')
s = zarr.LMDBStore('lm'); g = zarr.open_group(store=s, mode='w')
g.create_dataset('x', data=np.arange(40.).reshape(20, 2), chunks=(4, 2))
del s['x/2.0']; s.close()
" || exit 1
fails=0
for st in zarr+dir:dot zarr+dir:slash zarr:lm; do
	"$simrec" verify "$st" >/dev/null && { echo "FAIL $st: verify said ok"; fails=1; }
	out=$("$simrec" verify --repair "$st") || { echo "FAIL $st: $out"; fails=1; }
	"$simrec" verify "$st" >/dev/null || { echo "FAIL $st: still torn"; fails=1; }
done
"$py" -c "
import zarr
assert zarr.open('dot')['x'].shape == (8, 2) and zarr.open('dot')['y'].shape == (12, 2)
assert zarr.open('slash')['x'].shape == (8, 2)
s = zarr.LMDBStore('lm', readonly=True, lock=False)
x = zarr.open_group(store=s, mode='r')['x']
assert x.shape == (8, 2) and x[7, 1] == 15.0
" || fails=1
[ $fails = 0 ] && echo "repair foreign: ok"
