#!/bin/sh
# Submits a simulation job and a reader job that starts once it ended, in
# any state: a run stopped at its time limit (SIGTERM, then the job fails)
# still holds every step it flushed, and the reader's `simrec verify` says
# whether the store is whole (its exit status is the reader job's).
#   submit-pipeline.sh STORE PROGRAM [ARGS...]
# The program (with its arguments, which name STORE) runs under
# run-srun.sbatch (RUN=run-mpirun.sbatch for mpirun), then reader.sbatch
# verifies STORE. Give paths that hold from the submit directory.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 STORE PROGRAM [ARGS...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
store=$1
shift
jid=$(sbatch --parsable "$here/${RUN:-run-srun.sbatch}" "$@")
rid=$(sbatch --parsable --dependency=afterany:"$jid" "$here/reader.sbatch" "$store")
echo "simulation job $jid, reader job $rid"
