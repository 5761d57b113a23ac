#!/bin/sh
# Runs simrec's bench_record beside ../shared/bench/py_baseline.py (what a
# Python user does today with zarr-python / h5py) and dd on the same disk,
# in one run, and prints each figure and the ratios.
#   bench/compare.sh BUILD_DIR WORK_DIR [N D0 D1 D2 random|smooth]
# e.g. bench/compare.sh build /tmp/bench 20 10 10000 200 random
# COMPARE=zarr (or hdf5) runs only that half, dd included.
set -eu
only=${COMPARE:-all}
build=$1 dir=$2
n=${3:-20} d0=${4:-10} d1=${5:-10000} d2=${6:-200} kind=${7:-random}
here=$(cd "$(dirname "$0")" && pwd)
baseline=${PY_BASELINE:-$here/../../shared/bench/py_baseline.py}
py=/usr/bin/python3
mkdir -p "$dir"
bench="$build/bench/bench_record"
mb=$((n * d0 * d1 * d2 * 4 / 1000000))
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

ddout=$(dd if=/dev/zero of="$dir/dd.bin" bs=8M count=$(((mb + 7) / 8)) conv=fdatasync 2>&1 | tail -1)
rm -f "$dir/dd.bin"
dd_mbps=$(echo "$ddout" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) v = $i; u = $NF } END { if (u == "GB/s") v *= 1000; print v }')
echo "dd conv=fdatasync ${mb} MB: $dd_mbps MB/s"

run() { rm -rf "$dir/s"; mkdir -p "$dir/s"; "$bench" "$1" "$n" "$d0" "$d1" "$d2" "$kind"; }
w() { echo "$1" | field write_MBps; }
if [ "$only" != hdf5 ]; then
pz=$($py "$baseline" zarr "$dir" "$n" "$d0" "$d1" "$d2" "$kind"); echo "$pz"
sz=$(run "zarr:$dir/s/b.zarr?codec=blosclz&level=9&shuffle=bit"); echo "$sz"
sd=$(run "zarr:$dir/s/b.zarr"); echo "$sd"
# like for like with zarr-python, which does not fsync either
sn=$(BENCH_NOSYNC=1 run "zarr:$dir/s/b.zarr?codec=blosclz&level=9&shuffle=bit&sync=0"); echo "$sn"
echo "ratios (write throughput):"
echo "  zarr blosclz9/bit  simrec / zarr-python: $(ratio "$(w "$sz")" "$(w "$pz")")"
echo "  zarr default (lz4) simrec / zarr-python: $(ratio "$(w "$sd")" "$(w "$pz")")"
echo "  zarr blosclz9/bit, no fsync (as zarr-python): $(ratio "$(w "$sn")" "$(w "$pz")")"
echo "  zarr blosclz9/bit  simrec / dd:          $(ratio "$(w "$sz")" "$dd_mbps")"
fi
if [ "$only" != zarr ]; then
ph=$($py "$baseline" h5py "$dir" "$n" "$d0" "$d1" "$d2" "$kind"); echo "$ph"
hn=$(run "hdf5:$dir/s/b.h5"); echo "$hn"
hd=$(run "hdf5:$dir/s/b.h5?codec=deflate&level=1"); echo "$hd"
hb=$(run "hdf5:$dir/s/b.h5?codec=lz4"); echo "$hb"
echo "ratios (write throughput):"
echo "  hdf5 none          simrec / h5py(lzf):   $(ratio "$(w "$hn")" "$(w "$ph")")"
echo "  hdf5 deflate       simrec / h5py(lzf):   $(ratio "$(w "$hd")" "$(w "$ph")")"
echo "  hdf5 blosc lz4     simrec / h5py(lzf):   $(ratio "$(w "$hb")" "$(w "$ph")")"
echo "  hdf5 none          simrec / dd:          $(ratio "$(w "$hn")" "$dd_mbps")"
fi
rm -rf "$dir/s" "$dir/data.h5" "$dir/data.mdb"
