#!/bin/bash
# The generic batch scripts of slurm/ on a real single-node SLURM, with a
# user's program that is not heat2d (slurm_prog: step s of its global
# array is 1000 s + i, checked against that formula). The jobs are
# submitted from a directory outside the source tree, some from the
# installed copy of slurm/, the program given on sbatch's command line or in
# PROGRAM/PROGRAM_ARGS; follow.sbatch runs a follower beside the program.
# Fails (never skips) when SLURM does not come up.
#   slurm_scripts_test.sh SOURCE_DIR BUILD_DIR WORK_DIR SLURM_PROG
set -euo pipefail
src=$1 build=$2 work=$3 prog=$4
rm -rf "$work" && mkdir -p "$work"
work=$(cd "$work" && pwd)
# shellcheck source=tests/slurm_lib.sh
source "$src/tests/slurm_lib.sh"
for s in "$src"/slurm/*.sbatch "$src"/slurm/*.sh; do
	bash -n "$s" || slurm_fail "bash -n $s"
done
slurm_start "$src" "$work"
# the program's ranks share 2 cores; simrec's tool for the reader;
# mpirun's SIGTERM reaches the ranks 5 s after the batch shell's, not 20
export OMPI_MCA_mpi_yield_when_idle=1 SIMREC_BIN=$build/src \
	OMPI_MCA_odls_base_sigkill_timeout=5
unset SIMREC_SLURM_DIR PROGRAM PROGRAM_ARGS SIMREC_STORE
SBATCH_OPTS=(--export=ALL)
mkdir "$work/jobs" && cd "$work/jobs"
# the scripts as installed (PREFIX/share/simrec/slurm), far from the source
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
copy=$work/prefix/share/simrec/slurm
check() { "$prog" check "$@" || slurm_fail "check $*"; }

# srun, the program on the command line, the installed scripts
job_ok srun "$copy/run-srun.sbatch" "$prog" write "zarr+dir:$work/srun.zarr" 5
check "zarr+dir:$work/srun.zarr" 5 5
# mpirun, the program in PROGRAM/PROGRAM_ARGS, 3 tasks, relative paths
cp "$prog" ./myprog
PROGRAM=./myprog PROGRAM_ARGS="write zarr:mpirun.zarr 4" \
	job_ok mpirun --ntasks=3 "$src/slurm/run-mpirun.sbatch"
check "zarr:$work/jobs/mpirun.zarr" 4 4

# the program fails (exits 1 after its steps): so does the job
job fail "$src/slurm/run-srun.sbatch" "$prog" write "zarr+dir:$work/fail.zarr" 2 fail
[ "$job_rc" = 1 ] || slurm_fail "a failing program: job exit $job_rc, not 1"
job fail_mpirun "$src/slurm/run-mpirun.sbatch" "$prog" write "zarr+dir:$work/failm.zarr" 2 fail
[ "$job_rc" != 0 ] || slurm_fail "a failing program under mpirun: job exit 0"
# no program at all: a message, exit 1, before anything runs
job none "$src/slurm/run-srun.sbatch"
[ "$job_rc" = 1 ] && grep -q "no program" "$work/none.out" ||
	slurm_fail "no program: exit $job_rc"

# SIGTERM as at the time limit: srun's ranks get it (steps, not the batch
# shell); mpirun's through the batch shell (--signal=B:). Each closes its
# recorder at the next step and dies of it; the flushed steps are whole.
for v in srun mpirun; do
	term_job "term_$v" $v "$src/slurm/run-$v.sbatch" "$prog" "zarr+dir:$work/term_$v.zarr"
	check "zarr+dir:$work/term_$v.zarr" 2 299999
done

# follow.sbatch: the program (hold: 2 steps flushed, then it waits on a
# FIFO) and beside it simrec watch in a second job step, its output into a
# FIFO. The follower shows steps 0 and 1 while the program is held (it
# follows live), then every other step once, then ends with the program's
# finish: the job exits 0. Its picture is the last step's.
mkfifo "$work/f_ready" "$work/f_go" "$work/f_out"
STORE=zarr+dir:$work/follow.zarr FOLLOW_KEY=field/u FOLLOW_PNG=$work/follow.png \
	FOLLOW_OUTPUT=$work/f_out job follow --ntasks=3 "$src/slurm/follow.sbatch" \
	"$prog" hold "zarr+dir:$work/follow.zarr" 6 "$work/f_ready" "$work/f_go" &
fjob=$!
# a failed check cancels the job first: its held program would wait forever
follow_fail() {
	scancel "$(head -1 "$work/follow.jid" 2>/dev/null)" 2>/dev/null || :
	slurm_fail "follow: $*"
}
exec 6< <(timeout 150 cat "$work/f_out")
timeout 120 head -1 "$work/f_ready" >/dev/null || follow_fail "the program never held"
want() { echo "$1 min=$(($1 * 1000)) max=$(($1 * 1000 + 23)) mean=$(($1 * 1000 + 11)).5"; }
for s in 0 1 go 2 3 4 5; do
	if [ $s = go ]; then
		timeout 60 sh -c 'echo go >"$1"' _ "$work/f_go" || follow_fail "no go"
		continue
	fi
	read -r -t 120 line <&6 || follow_fail "no line for step $s"
	[ "$line" = "$(want $s)" ] || follow_fail "step $s: '$line'"
done
! read -r -t 120 line <&6 || follow_fail "a line after the last step: '$line'"
exec 6<&-
wait "$fjob"
[ "$(cat "$work/follow.rc")" = 0 ] || slurm_fail "follow: job exit $(cat "$work/follow.rc")"
check "zarr+dir:$work/follow.zarr" 6 6
/usr/bin/python3 - "$work/follow.png" <<'PY' || slurm_fail "follow: the picture"
import sys
from PIL import Image
img = Image.open(sys.argv[1])
img.load()
assert img.size == (800, 400), img.size
assert img.info["simrec:shape"] == "24", img.info
assert (img.info["simrec:min"], img.info["simrec:max"]) == ("5000", "5023"), img.info
PY
# the same store again: it holds a finished run, refused before the program runs
STORE=zarr+dir:$work/follow.zarr FOLLOW_KEY=field/u job follow_again \
	"$src/slurm/follow.sbatch" "$prog" write "zarr+dir:$work/follow.zarr" 2
[ "$job_rc" = 1 ] && grep -q "holds a finished run" "$work/follow_again.out" ||
	slurm_fail "follow of a finished store: exit $job_rc"
# a follower of one's own (FOLLOWER), from the installed scripts, its
# output in a file of its own
STORE=zarr+dir:$work/follow2.zarr FOLLOW_KEY=field/u FOLLOW_OUTPUT=$work/follow2.lines \
	FOLLOWER="$SIMREC_BIN/simrec watch zarr+dir:$work/follow2.zarr field/u --every 2" \
	job_ok follow2 "$copy/follow.sbatch" "$prog" write "zarr+dir:$work/follow2.zarr" 5
[ "$(cat "$work/follow2.lines")" = "$(want 0; want 2; want 4)" ] ||
	slurm_fail "follow2: the follower printed '$(cat "$work/follow2.lines")'"

# the reader job, after the simulation succeeded
sim=$(sbatch --parsable "${SBATCH_OPTS[@]}" --output="$work/sim.out" \
	"$src/slurm/run-srun.sbatch" "$prog" write "zarr+dir:$work/sim.zarr" 3)
job_ok reader --dependency=afterok:"$sim" "$src/slurm/reader.sbatch" \
	"zarr+dir:$work/sim.zarr" "$prog" check "zarr+dir:$work/sim.zarr" 3 3
# the pipeline script: simulation, then reader
RUN=run-mpirun.sbatch "$copy/submit-pipeline.sh" "zarr+dir:$work/pipe.zarr" \
	"$prog" write "zarr+dir:$work/pipe.zarr" 2 >"$work/pipe.log"
cat "$work/pipe.log"
rid=$(sed -n 's/.*reader job //p' "$work/pipe.log")
after_ok "$rid" || slurm_fail "the pipeline's reader job failed"
check "zarr+dir:$work/pipe.zarr" 2 2
echo "slurm scripts: ok"
