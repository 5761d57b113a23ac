#!/bin/bash
# heat2d at np 1, 3 and 4 on a 37 x 50 grid (neither 3 nor 4 divides its 50
# rows), into zarr, zarr+dir and hdf5 (when built); and at np 1 and 4 on a
# 5 x 3 grid (the fourth rank owns no row). heat/T must be the same bytes
# whatever the rank count and store, match a serial numpy run, and its mean
# heat/mean as recorded (examples/heat2d_check.py, through simrec); then
# zarr-python and h5py read the same bytes (check_heat_ranks.py).
#   heat_ranks.sh MPIEXEC HEAT2D PYTHON EXAMPLES_DIR TESTS_DIR TMP WITH_HDF5
set -euo pipefail
mpiexec=$1 heat2d=$2 python=$3 examples=$4 tests=$5 dir=$6 hdf5=$7
rm -rf "$dir"
mkdir -p "$dir"
run() { # NP URI STEPS NX NY
	"$mpiexec" -n "$1" --oversubscribe "$heat2d" "$2" "$3" "$4" "$5"
}
big=("zarr:$dir/np1.zarr" "zarr+dir:$dir/np3.zarr")
run 1 "${big[0]}" 60 37 50
run 3 "${big[1]}" 60 37 50
if [ "$hdf5" = ON ]; then
	big+=("hdf5:$dir/np4.h5")
else
	big+=("zarr:$dir/np4.zarr")
fi
run 4 "${big[2]}" 60 37 50
small=("zarr:$dir/small1.zarr" "zarr:$dir/small4.zarr")
run 1 "${small[0]}" 30 5 3
run 4 "${small[1]}" 30 5 3
"$python" "$examples/heat2d_check.py" "${big[@]}"
"$python" "$examples/heat2d_check.py" "${small[@]}"
"$python" "$tests/check_heat_ranks.py" "${big[@]}"
"$python" "$tests/check_heat_ranks.py" "${small[@]}"
echo "heat ranks: ok"
