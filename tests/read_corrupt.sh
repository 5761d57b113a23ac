#!/bin/bash
# A chunk whose filter is there but whose bytes are corrupt (h5py's lzf,
# 40 bytes overwritten): simrec cat and verify say the chunk does not
# decode and name the key and the file, not "a filter missing".
#   read_corrupt.sh SIMREC DIR PYTHON
set -euo pipefail
simrec=$1 dir=$2 py=$3
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
"$py" -c "
import h5py, numpy as np
with h5py.File('c.h5', 'w') as f:
    f.create_dataset('x', data=np.arange(4000.).reshape(40, 100),
                     maxshape=(None, 100), chunks=(10, 100), compression='lzf')
f = h5py.File('c.h5', 'r'); i = f['x'].id.get_chunk_info(1); f.close()
with open('c.h5', 'r+b') as g:
    g.seek(i.byte_offset + 20); g.write(b'\xff' * 40)
" || exit 1
fails=0
out=$("$simrec" cat hdf5:c.h5 x 2>&1 >/dev/null) && { echo "FAIL: cat read it"; fails=1; }
echo "$out"
case $out in
*"'x' in 'c.h5': a chunk does not decode"*) ;;
*) echo "FAIL: cat does not say the chunk does not decode"; fails=1 ;;
esac
vrc=0
v=$("$simrec" verify hdf5:c.h5) || vrc=$?
echo "$v"
[ "$vrc" = 1 ] || { echo "FAIL: verify exit $vrc, not 1"; fails=1; }
grep -q "^BAD   x: steps 10-19 do not read: .*does not decode" <<<"$v" || { echo "FAIL: verify"; fails=1; }
grep -q "x: --repair keeps steps 0-9 of 40" <<<"$v" || { echo "FAIL: verify's keep line"; fails=1; }
grep -q "filter missing" <<<"$v$out" && { echo "FAIL: blames a filter"; fails=1; }
[ $fails = 0 ] && echo "read corrupt: ok"
exit "$fails"
