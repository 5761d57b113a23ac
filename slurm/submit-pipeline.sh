#!/bin/sh
# Submit the one-node simulation and a reader that waits for its success.
set -eu
cd "$(dirname "$0")/.."
jid=$(sbatch --parsable slurm/one-node.sbatch)
sbatch --dependency=afterok:"$jid" \
	--export=ALL,STORE="zarr:$PWD/out/heat-$jid.zarr" slurm/reader.sbatch
