#!/bin/sh
# Install every build, test and run dependency of simrec from Debian's
# packages. Idempotent and non-interactive; run as root (or through sudo).
#   tools/install-deps.sh            build + run + test dependencies
#   SIMREC_WITH_SLURM=0 tools/...    skip slurm-wlm/munge (the SLURM tests)
set -eu

PKGS="build-essential cmake pkg-config git ca-certificates clang-format clang-tidy
clang libclang-rt-14-dev
libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
liblmdb-dev lmdb-utils libblosc-dev libjansson-dev liblzf-dev libpng-dev
libhiredis-dev redis-server redis-tools
python3 python3-numpy python3-h5py python3-zarr python3-lmdb python3-redis
python3-mpi4py python3-pytest
python3-hdf5plugin hdf5-filter-plugin-blosc-serial python3-matplotlib python3-pil
python3-xarray python3-netcdf4 python3-h5netcdf python3-dask netcdf-bin
procps iproute2 iputils-ping"
if [ "${SIMREC_WITH_SLURM:-1}" = 1 ]; then
	PKGS="$PKGS slurmctld slurmd slurm-client munge"
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
