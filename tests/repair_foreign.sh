#!/bin/bash
# simrec verify --repair on zarr arrays that zarr-python wrote (no simrec
# record marker; '.' and '/' separators; directory and LMDB stores), with a
# chunk missing in two keys: every torn key is cut to its whole steps, its
# chunks past the cut are deleted, the consolidated metadata (.zmetadata,
# zarr.consolidate_metadata) follows the cut, and zarr-python reads the
# result, with zarr.open and zarr.open_consolidated.
#   repair_foreign.sh SIMREC DIR PYTHON
set -euo pipefail
simrec=$1 dir=$2 py=$3
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
"$py" -c "
import zarr, numpy as np, os
g = zarr.open_group('dot', mode='w')
for k in 'xy':
    g.create_dataset(k, data=np.arange(40.).reshape(20, 2), chunks=(4, 2))
g.attrs['note'] = float('nan')
os.remove('dot/x/2.0'); os.remove('dot/y/3.0')
zarr.consolidate_metadata('dot')
g = zarr.open_group('slash', mode='w')
g.create_dataset('x', data=np.arange(40.).reshape(20, 2), chunks=(4, 2),
                 dimension_separator='/')
os.remove('slash/x/2/0')
s = zarr.LMDBStore('lm'); g = zarr.open_group(store=s, mode='w')
g.create_dataset('x', data=np.arange(40.).reshape(20, 2), chunks=(4, 2))
del s['x/2.0']; zarr.consolidate_metadata(s); s.close()
" || exit 1
fails=0
for st in zarr+dir:dot zarr+dir:slash zarr:lm; do
	"$simrec" verify "$st" >/dev/null && { echo "FAIL $st: verify said ok"; fails=1; }
	out=$("$simrec" verify --repair "$st") || { echo "FAIL $st: $out"; fails=1; }
	"$simrec" verify "$st" >/dev/null || { echo "FAIL $st: still torn"; fails=1; }
done
"$py" -c "
import zarr, os, math
assert zarr.open('dot')['x'].shape == (8, 2) and zarr.open('dot')['y'].shape == (12, 2)
assert zarr.open('slash')['x'].shape == (8, 2)
c = zarr.open_consolidated('dot', mode='r')
assert c['x'].shape == (8, 2) and c['y'].shape == (12, 2), (c['x'].shape, c['y'].shape)
assert c['x'][7, 1] == 15.0 and c['y'][11, 1] == 23.0
assert math.isnan(c.attrs['note'])
# the chunks past each cut are gone, the others stay
assert sorted(os.listdir('dot/x')) == ['.zarray', '0.0', '1.0'], os.listdir('dot/x')
assert sorted(os.listdir('dot/y')) == ['.zarray', '0.0', '1.0', '2.0']
# ('/' separator: the directory of a removed chunk row may stay, empty)
assert [os.path.exists('slash/x/%d/0' % i) for i in range(5)] == [True, True, False, False, False]
s = zarr.LMDBStore('lm', readonly=True, lock=False)
x = zarr.open_group(store=s, mode='r')['x']
assert x.shape == (8, 2) and x[7, 1] == 15.0
assert sorted(k for k in s.keys() if k.startswith('x/')) == ['x/.zarray', 'x/0.0', 'x/1.0']
c = zarr.open_consolidated(s, mode='r')
assert c['x'].shape == (8, 2) and c['x'][7, 1] == 15.0
" || fails=1
[ $fails = 0 ] && echo "repair foreign: ok"
exit "$fails"
